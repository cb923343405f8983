"""The source every stage reads: no byte-order mark, ``\\n`` line ends."""

import pytest

from streams.text import canonical_source


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
