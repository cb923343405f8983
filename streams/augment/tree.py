"""What every transformation of a snippet shares: querying its tree and editing its bytes.

Queries are compiled once per language and text. The order tree-sitter yields captures in may
change from one run to the next, so a transformation whose choices depend on it (a seed picking
among candidates) puts them in source order first. Edits are ``(start, end, replacement)`` byte
ranges of the snippet.
"""

from collections.abc import Mapping
from functools import cache
from typing import cast

from tree_sitter import Language, Node, Query, QueryCursor

from streams.languages import parser_for
from streams.snippets import ParsedSnippet

Captures = dict[str, list[Node]]
Edit = tuple[int, int, bytes]


@cache
def _query(language: str, text: str) -> Query:
    return Query(cast(Language, parser_for(language).language), text)


def compile_queries(*query_sets: Mapping[str, str]) -> None:
    """Compile the queries of every language now, as a worker starts (1-15 ms each), rather than
    while a push waits."""
    for queries in query_sets:
        for language, text in queries.items():
            _query(language, text)


def captures(parsed: ParsedSnippet, queries: Mapping[str, str]) -> Captures:
    """The captures of the snippet's language's query (none if it has none), in no set order.

    In a file's tree, only nodes within the snippet's node that overlap its bytes are seen.
    """
    text = queries.get(parsed.language)
    if text is None:
        return {}
    cursor = QueryCursor(_query(parsed.language, text))
    if parsed.node is None:
        return cursor.captures(parsed.tree.root_node)
    cursor.set_byte_range(parsed.standalone.offset, parsed.standalone.end)
    return cursor.captures(parsed.node)


def in_source_order(found: Captures) -> Captures:
    """The captures sorted by where they start (outer before inner)."""
    return {name: sorted(nodes, key=_position) for name, nodes in found.items()}


def _position(node: Node) -> tuple[int, int]:
    return node.start_byte, -node.end_byte


def apply_edits(code: bytes, edits: list[Edit]) -> bytes:
    """``code`` with non-overlapping byte edits applied."""
    pieces: list[bytes] = []
    at = 0
    for start, end, replacement in sorted(edits):
        pieces += (code[at:start], replacement)
        at = end
    pieces.append(code[at:])
    return b"".join(pieces)


def text_of(node: Node) -> str:
    return node.text.decode() if node.text is not None else ""


def leading(line: bytes) -> bytes:
    """A line's indentation."""
    return line[: len(line) - len(line.lstrip(b" \t"))]


def line_starts(code: bytes) -> list[int]:
    """The byte offset where each line of ``code`` starts."""
    starts = [0]
    at = code.find(b"\n")
    while at >= 0:
        starts.append(at + 1)
        at = code.find(b"\n", at + 1)
    return starts
