"""How a file's bytes become the source every stage reads. Pure.

A UTF-8 byte-order mark is no code: left in, it shifted the columns of the first line and stayed
in the rows' texts. Line ends are ``\\n``: a file checked in with Windows line ends (``\\r\\n``)
gives the same rows as its Unix twin, and one with classic Mac line ends (``\\r`` alone, no
``\\n`` anywhere) parses at all (the grammars end lines and statements at ``\\n``). A lone ``\\r``
in a file that has ``\\n`` line ends is part of its text and stays.
"""

UTF8_BOM = b"\xef\xbb\xbf"


def canonical_source(data: bytes) -> bytes:
    """``data`` without a leading byte-order mark, its line ends made ``\\n``."""
    data = data.removeprefix(UTF8_BOM)
    if b"\r" not in data:
        return data
    if b"\n" not in data:
        return data.replace(b"\r", b"\n")
    return data.replace(b"\r\n", b"\n")
