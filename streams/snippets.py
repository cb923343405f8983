"""Parse one extracted snippet on its own, out of the file it came from.

A snippet is the text of a function, method or class (a :class:`streams.extract.Symbol` body):
its first line starts at column ``start_column`` of its file while its other lines keep their
indentation, and a method may only parse inside a class. :func:`standalone` builds the smallest
source around it that parses: an indented Python snippet goes into a ``class _:`` block with its
first line put back at ``start_column`` (tabs or spaces, as its other lines have them), a Java,
JavaScript or TypeScript method into a ``class _ {…}`` shell, a Go type spec taken out of a
``type (…)`` group gets its ``type`` back; Go and Rust methods and everything else parse as they
are. The snippet sits verbatim at ``offset``, so a node maps back to it by one subtraction. It is
not dedented: a multi-line string whose lines sit left of the indentation would defeat a dedent,
and the variants built from a snippet must keep its layout anyway.

A snippet still verbatim in a file that parsed cleanly needs no parse of its own:
:func:`in_file` takes its node from the file's tree (:attr:`ParsedSnippet.node`), with the file
as its "standalone" source, and queries over it see only the snippet's bytes.
"""

from dataclasses import dataclass

from tree_sitter import Node, Tree

from streams.languages import get_language, parser_for

_CLASS_SHELL = b"class _ {\n", b"\n}\n"
_SHELLED_METHODS = frozenset({"java", "javascript", "typescript", "tsx"})


@dataclass(frozen=True, slots=True)
class Standalone:
    """Source that parses on its own with the snippet's bytes at ``source[offset:end]``.

    ``row`` is the (0-based) row of the source on which the snippet starts.
    """

    source: bytes
    offset: int
    end: int
    row: int


@dataclass(frozen=True, slots=True)
class ParsedSnippet:
    """A snippet (as UTF-8 ``code``), its standalone source and that source's syntax tree.

    ``node`` is the snippet's node when the tree is its file's (see :func:`in_file`), None when
    the tree is the snippet's own.
    """

    code: bytes
    language: str
    standalone: Standalone
    tree: Tree
    node: Node | None = None

    def to_code(self, source_byte: int) -> int:
        """The byte of ``code`` at a byte of the standalone source, clamped into the snippet."""
        return min(max(source_byte - self.standalone.offset, 0), len(self.code))

    def line(self, source_byte: int) -> int:
        """The 1-based line of the snippet holding a byte of the standalone source."""
        return self.code.count(b"\n", 0, self.to_code(source_byte)) + 1

    def rows(self, node: Node) -> tuple[int, int]:
        """The 0-based rows of the snippet on which a node starts and ends.

        A node that ends with a line break (a line comment may) ends on the row before.
        """
        (first, _), (last, column) = node.start_point, node.end_point
        if column == 0 and last > first:
            last -= 1
        return max(first - self.standalone.row, 0), max(last - self.standalone.row, 0)


def standalone(code: str, language: str, kind: str, start_column: int) -> Standalone:
    """The snippet inside the smallest source that parses on its own (see the module doc)."""
    get_language(language)  # a ValueError naming the known languages, for a typo
    data = code.encode()
    prefix, suffix = b"", b"\n"  # Go ends a top-level declaration at a line break
    if language == "python" and start_column > 0:
        prefix = b"class _:\n" + lost_indentation(data, start_column)
    elif kind == "method" and language in _SHELLED_METHODS:
        prefix, suffix = _CLASS_SHELL
    elif language == "go" and kind == "class" and not data.startswith((b"type ", b"type\t")):
        prefix = b"type "
    offset = len(prefix)
    return Standalone(prefix + data + suffix, offset, offset + len(data), prefix.count(b"\n"))


def parse_snippet(code: str, language: str, kind: str, start_column: int) -> ParsedSnippet:
    """The snippet parsed once, standalone (see :func:`standalone`)."""
    whole = standalone(code, language, kind, start_column)
    tree = parser_for(language).parse(whole.source)
    return ParsedSnippet(code.encode(), language, whole, tree)


def in_file(
    tree: Tree, source: bytes, start: int, end: int, row: int, language: str
) -> ParsedSnippet:
    """The snippet at ``source[start:end]``, starting on (0-based) ``row``, parsed as part of its
    file's ``tree``.

    The file must have parsed without error nodes: the snippet is then parsed as a standalone
    parse would parse it, and the work of :func:`parse_snippet` is saved.
    """
    node = tree.root_node.descendant_for_byte_range(start, end)
    if node is None:
        raise ValueError(f"no node holds bytes {start}..{end}")
    return ParsedSnippet(
        source[start:end], language, Standalone(source, start, end, row), tree, node
    )


def parse_errors(code: str, language: str, kind: str, start_column: int) -> str | None:
    """None when the snippet parses cleanly on its own, else where the first error is.

    The place is a line and column of the snippet itself (1-based), e.g. ``syntax error at line
    3, column 9: missing ')'``; an error in the shell around it (an unclosed brace making the
    shell's ``}`` missing) is reported at the snippet's end.
    """
    return syntax_error(parse_snippet(code, language, kind, start_column))


def syntax_error(parsed: ParsedSnippet) -> str | None:
    """:func:`parse_errors` for a snippet already parsed."""
    root = parsed.tree.root_node
    if not root.has_error:
        return None
    node = _innermost_error(root)
    at = parsed.to_code(node.start_byte)
    line_start = parsed.code.rfind(b"\n", 0, at) + 1
    column = len(parsed.code[line_start:at].decode(errors="replace")) + 1
    where = f"syntax error at line {parsed.line(node.start_byte)}, column {column}"
    return f"{where}: missing {node.type!r}" if node.is_missing else where


def _innermost_error(root: Node) -> Node:
    """The first ERROR or MISSING node nested deepest: where parsing went wrong, not a wrapper."""
    node = root
    while child := next((c for c in node.children if c.has_error or c.is_missing), None):
        node = child
    return node


def lost_indentation(data: bytes, width: int) -> bytes:
    """The indentation a snippet's first line had in its file, ``width`` columns wide.

    It is copied from the snippet's other lines (tabs or spaces), since Python needs the two to
    agree; spaces where no line is indented that far.
    """
    for line in data.split(b"\n")[1:]:
        lead = line[: len(line) - len(line.lstrip(b" \t"))]
        if len(lead) >= width and line.strip():
            return lead[:width]
    return b" " * width
