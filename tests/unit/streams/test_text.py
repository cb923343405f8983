"""The source every stage reads: no byte-order mark, ``\\n`` line ends."""

import pytest

from streams.text import canonical_source, python_as_utf8


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a = 1\nb = 2\n", b"a = 1\nb = 2\n"),
        (b"a = 1\r\nb = 2\r\n", b"a = 1\nb = 2\n"),
        (b"a = 1\rb = 2\r", b"a = 1\nb = 2\n"),
        (b"\xef\xbb\xbfa = 1\r\n", b"a = 1\n"),
        # A lone carriage return in a file of \n lines is text (a literal), not a line end.
        (b's = "x\ry"\nb = 2\n', b's = "x\ry"\nb = 2\n'),
        (b's = "x\ry"\r\nb = 2\r\n', b's = "x\ry"\nb = 2\n'),
        (b"", b""),
    ],
)
def test_canonical_source(data: bytes, expected: bytes) -> None:
    assert canonical_source(data) == expected


LATIN1 = "# -*- coding: latin-1 -*-\nGREETING = 'Grüße, café'\n"


def test_python_in_a_declared_encoding_is_read_in_it() -> None:
    assert python_as_utf8(LATIN1.encode("latin-1")) == LATIN1.encode()
    cyrillic = "# coding: iso-8859-5\nu = 'Жизнь'\n"
    assert python_as_utf8(cyrillic.encode("iso-8859-5")) == cyrillic.encode()


@pytest.mark.parametrize(
    "data",
    [
        LATIN1.encode(),  # UTF-8 already, whatever the comment says
        "GREETING = 'Grüße'\n".encode("latin-1"),  # no declaration: left to be rejected
        b"# coding: no-such-codec\nx = '\xe9'\n",
        b"# coding: ascii\nx = '\xe9'\n",  # declared wrongly
    ],
)
def test_python_without_a_usable_declaration_is_left_as_it_is(data: bytes) -> None:
    assert python_as_utf8(data) == data
