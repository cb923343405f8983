"""Strip a snippet's comments, keeping docstrings, doc comments and tool directives.

Doc comments are known by their marker (``///``, ``//!``, ``/**``, ``/*!``); Go has none, so
there a comment run ending on the line above a field, method or type spec is its doc. Directives
(``//go:embed``, ``# type: ignore``, ``// @ts-expect-error``, ``/* eslint-disable */`` …) change
what tools do with the code and stay. A line left blank by a cut goes; a cut inside a line keeps
the tokens on either side apart.
"""

import re

from tree_sitter import Node

from streams.augment.tree import captures, leading
from streams.snippets import ParsedSnippet

_C_COMMENTS = "(comment) @comment"
_JAVA_COMMENTS = "[(line_comment) (block_comment)] @comment"
COMMENT_QUERIES = {
    "python": _C_COMMENTS,
    "javascript": _C_COMMENTS,
    "typescript": _C_COMMENTS,
    "tsx": _C_COMMENTS,
    "go": _C_COMMENTS,
    "java": _JAVA_COMMENTS,
    "rust": _JAVA_COMMENTS,
}
_DOC_COMMENT = re.compile(rb"///(?!/)|//!|/\*\*(?![*/])|/\*!")
_DIRECTIVE = re.compile(
    rb"//go:|//line |//export |//\s*@ts-|/// *<reference|#!|#\s*(type:|noqa|pragma|-\*-)"
    rb"|/[/*]\s*(eslint|prettier-ignore|istanbul|jshint|c8)|//\s*nolint|/\*\s*[#@]__PURE__"
)
_GO_DOCUMENTED = frozenset({"field_declaration", "method_elem", "method_spec", "type_spec"})


def strip_comments(parsed: ParsedSnippet) -> bytes | None:
    """The snippet's code without its comments; None if it has none to strip."""
    cut = []
    for node in captures(parsed, COMMENT_QUERIES).get("comment", ()):
        text = node.text or b""
        if _DOC_COMMENT.match(text) or _DIRECTIVE.match(text) or _is_go_doc(parsed, node):
            continue
        end = node.end_byte - len(text) + len(text.rstrip(b"\r\n"))  # a line comment's newline
        cut.append((parsed.to_code(node.start_byte), parsed.to_code(end)))
    return _cut(parsed.code, cut) if cut else None


def _is_go_doc(parsed: ParsedSnippet, comment: Node) -> bool:
    """A Go comment is a field's doc when its run of comment lines ends on the line above it."""
    if parsed.language != "go":
        return False
    node: Node | None = comment
    while node is not None and node.type == "comment":
        last = node
        node = node.next_named_sibling
    return (
        node is not None
        and node.type in _GO_DOCUMENTED
        and node.start_point.row == last.end_point.row + 1
    )


def _cut(code: bytes, ranges: list[tuple[int, int]]) -> bytes:
    """``code`` without the byte ranges; a line the cuts leave blank goes, as do trailing blanks."""
    ranges.sort()
    lines = []
    start = 0
    for line in code.split(b"\n"):
        end = start + len(line)
        inside = [(a, b) for a, b in ranges if a < end and b > start]
        if not inside:
            lines.append(line)
        else:
            bounds = [start, *(x for a, b in inside for x in (max(a, start), min(b, end))), end]
            kept = code[start : bounds[1]]
            if inside[0][0] < start:  # the line goes on after a comment from a line above
                kept = leading(code[code.rfind(b"\n", 0, inside[0][0]) + 1 : inside[0][0]])
            for piece in (code[bounds[i] : bounds[i + 1]] for i in range(2, len(bounds), 2)):
                if not kept or kept[-1:].isspace():
                    piece = piece.lstrip(b" \t")  # `a /* x */ b` becomes `a b`
                elif piece and not piece[:1].isspace():
                    kept += b" "  # `a/*x*/b` must not become `ab`
                kept += piece
            if kept.strip():
                lines.append(kept.rstrip() if inside[-1][1] >= end else kept)
        start = end + 1
    return b"\n".join(lines)
