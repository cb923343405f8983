"""How a file's bytes become the source every stage reads. Pure.

A UTF-8 byte-order mark is no code: left in, it shifted the columns of the first line and stayed
in the rows' texts. Line ends are ``\\n``: a file checked in with Windows line ends (``\\r\\n``)
gives the same rows as its Unix twin, and one with classic Mac line ends (``\\r`` alone, no
``\\n`` anywhere) parses at all (the grammars end lines and statements at ``\\n``). A lone ``\\r``
in a file that has ``\\n`` line ends is part of its text and stays.

Every stage reads UTF-8. A Python file may declare another encoding in its first two lines
(PEP 263, ``# -*- coding: latin-1 -*-``), as Python 2 era code often does: it is read in that
encoding, as Python reads it, not rejected as invalid UTF-8.
"""

import io
import tokenize

UTF8_BOM = b"\xef\xbb\xbf"


def canonical_source(data: bytes) -> bytes:
    """``data`` without a leading byte-order mark, its line ends made ``\\n``."""
    data = data.removeprefix(UTF8_BOM)
    if b"\r" not in data:
        return data
    if b"\n" not in data:
        return data.replace(b"\r", b"\n")
    return data.replace(b"\r\n", b"\n")


def python_as_utf8(data: bytes) -> bytes:
    """Python source in UTF-8: ``data`` itself if it is, else decoded in the encoding its
    first two lines declare (PEP 263) where it has one that decodes it."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).encode("utf-8")
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return data  # no declaration, or a wrong one: rejected as invalid UTF-8, as before
