"""Extract every function, method and class of a source file, with the text around it.

A pure stage: bytes in, :class:`Extraction` out. The file is parsed once and one run of the
language's tree-sitter query (see :mod:`streams.languages`) yields all definitions, which are then
nested by byte ranges to find qualified names, methods and enclosing classes; a method defined
outside its type (a Go receiver, a Rust ``impl``) is placed in it by name. The same run yields
the body facts (calls, decision points, control blocks), which :mod:`streams.body_facts` places
in the definitions around them by byte range, and the module's docstring and idioms. A file that
is not UTF-8 or does not parse cleanly yields no symbols and an ``error`` saying where it went
wrong, so a half-understood file never becomes training data. Trailing comments of a body are
left out of its text and line range, as Python's ``ast`` does.

Body facts describe a definition's whole text, as the training example shows it: a branch or a
call inside a nested function counts for that function and for every definition around it (a
class sums its methods), and depth is counted from the definition itself. A definition's own
decorators are not its body, so their calls are not counted for it (they are for a class around
it).
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from tree_sitter import Node, QueryCursor, Tree

from streams.body_facts import body_facts
from streams.languages import get_language, parser_for, query_for

SymbolKind = Literal["function", "method", "class"]

_KIND_CAPTURES: tuple[tuple[str, SymbolKind], ...] = (
    ("definition.function", "function"),
    ("definition.method", "method"),
    ("definition.class", "class"),
)


class Symbol(BaseModel):
    """One definition. Lines are 1-based and inclusive; texts are exact slices of the source.

    ``start_column`` is where ``body`` starts on its first line, in characters (what re-indents
    a method standalone). ``branches`` counts the decision points of the text (cyclomatic
    complexity is one more), ``max_depth`` its deepest nesting of control blocks (0: none) and
    ``calls`` the names it calls (the last identifier of each callee), deduped, in source order.
    ``decorators`` are its decorators, annotations or attributes, as written without ``@`` or
    ``#[…]``. ``body`` is ``source[start_byte:end_byte]``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    qualified_name: str
    kind: SymbolKind
    signature: str
    body: str
    docstring: str = ""
    enclosing_class: str = ""
    imports: list[str] = Field(default_factory=list)
    context: str = ""
    start_line: int
    end_line: int
    start_column: int = 0
    start_byte: int = 0
    end_byte: int = 0
    branches: int = 0
    max_depth: int = 0
    calls: list[str] = Field(default_factory=list)
    decorators: list[str] = Field(default_factory=list)


class Extraction(BaseModel):
    """The symbols of one file, or the reason there are none (``error``).

    ``module_docstring`` is the file's own documentation (a Python module docstring, a Go package
    comment, a Rust ``//!`` block, a leading JSDoc or Javadoc comment), ``idioms`` the names of
    the ``@idiom.*`` captures (and call idioms) found in it, sorted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    language: str
    symbols: list[Symbol] = Field(default_factory=list)
    module_docstring: str = ""
    idioms: list[str] = Field(default_factory=list)
    error: str | None = None


@dataclass
class _Captures:
    """What the query's matches said about one definition node, merged across patterns."""

    node: Node
    kind: SymbolKind
    name: Node | None = None
    header_end: Node | None = None
    span: Node | None = None
    receiver: Node | None = None
    doc: list[Node] = field(default_factory=list)
    decorators: dict[int, Node] = field(default_factory=dict)

    @property
    def start(self) -> Node:
        """Where the definition's text starts: the earliest ``@span`` node, else the node."""
        return self.span or self.node

    @property
    def end_byte(self) -> int:
        """Where its text ends; a ``@span`` may be a wrapper or leading siblings (attributes)."""
        return max(self.node.end_byte, self.span.end_byte) if self.span else self.node.end_byte


@dataclass
class _FileCaptures:
    """Everything one run of the query found in a file, before it is bucketed into symbols."""

    definitions: dict[int, _Captures] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)
    calls: list[tuple[int, int]] = field(default_factory=list)  # byte ranges of called names
    branches: list[int] = field(default_factory=list)
    nests: list[tuple[int, int]] = field(default_factory=list)
    else_ifs: set[int] = field(default_factory=set)
    module_doc: dict[int, Node] = field(default_factory=dict)
    idioms: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Scope:
    end_byte: int
    qualified_name: str
    kind: SymbolKind
    enclosing_class: str


def extract_symbols(
    source: bytes, path: str, language: str, context_lines: int = 30, tree: Tree | None = None
) -> Extraction:
    """All functions, methods and classes of ``source`` (nested ones too), in source order.

    ``context`` holds up to ``context_lines`` whole lines before a definition (which starts at
    its first decorator), joined by newlines. ``imports`` lists the file's module-level imports.
    ``enclosing_class`` is the qualified name of the nearest class around the definition.
    ``tree`` is the source's syntax tree when the caller parsed it already.
    """
    spec = get_language(language)
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = f"not valid UTF-8 at byte {exc.start}"
        return Extraction(path=path, language=language, error=error)
    root = (tree or parser_for(language).parse(source)).root_node
    if root.has_error:
        return Extraction(path=path, language=language, error=_syntax_error(source, root))

    found = _collect(source, root, language)
    definitions = sorted(
        (p for p in found.definitions.values() if p.name is not None),  # anonymous: no symbol
        key=lambda p: (p.start.start_byte, -p.end_byte),
    )
    facts = body_facts(
        source,
        [(p.node.start_byte, p.end_byte) for p in definitions],  # decorators are no body
        found.branches,
        found.calls,
        [block for block in found.nests if block[0] not in found.else_ifs],
    )
    imports = found.imports
    line_starts = list(accumulate((len(line) + 1 for line in source.split(b"\n")), initial=0))
    symbols: list[Symbol] = []
    scopes: list[_Scope] = []
    for parts, facts_of in zip(definitions, facts, strict=True):
        assert parts.name is not None
        outer = parts.start
        while scopes and scopes[-1].end_byte <= outer.start_byte:
            scopes.pop()
        name = _text(source, parts.name)
        parent = scopes[-1] if scopes else None
        if parts.receiver is not None:  # defined outside its type: nest it in the type by name
            parent = _scope(_text(source, parts.receiver), "class", parts.end_byte, parent)
        scope = _scope(name, parts.kind, parts.end_byte, parent)
        scopes.append(scope)
        row, column = outer.start_point
        first_context_row = max(0, row - context_lines)
        header_end = (
            parts.header_end.end_byte if parts.header_end else _line_end(source, parts.node)
        )
        last = _last_significant(parts.node)
        doc = "\n".join(_doc_texts(source, parts.doc, outer))
        symbols.append(
            Symbol(
                name=name,
                qualified_name=scope.qualified_name,
                kind=scope.kind,
                signature=source[parts.node.start_byte : header_end].decode(),
                body=source[outer.start_byte : last.end_byte].decode(),
                docstring=spec.docstring(doc) if doc else "",
                enclosing_class=scope.enclosing_class,
                imports=imports,
                context=_text_between(source, line_starts[first_context_row], line_starts[row]),
                start_line=row + 1,
                end_line=last.end_point.row + 1,
                start_column=len(source[outer.start_byte - column : outer.start_byte].decode()),
                start_byte=outer.start_byte,
                end_byte=last.end_byte,
                branches=facts_of.branches,
                max_depth=facts_of.max_depth,
                calls=list(facts_of.calls),
                decorators=[
                    _decorator_text(source, node)
                    for node in sorted(parts.decorators.values(), key=lambda n: n.start_byte)
                ],
            )
        )
    return Extraction(
        path=path,
        language=language,
        symbols=symbols,
        module_docstring=_module_docstring(source, found.module_doc, spec.docstring),
        idioms=sorted(found.idioms | _call_idioms(source, found.calls, spec.call_idioms)),
    )


def _collect(source: bytes, root: Node, language: str) -> _FileCaptures:
    """One run of the query over the file; the body facts come first, being the most matches."""
    found = _FileCaptures()
    for _, captures in QueryCursor(query_for(language)).matches(root):
        if (nodes := captures.get("call")) is not None:
            found.calls.append((nodes[0].start_byte, nodes[0].end_byte))
            continue
        branch, nest = captures.get("branch"), captures.get("nest")
        if branch is not None or nest is not None:
            if branch is not None:
                found.branches.append(branch[0].start_byte)
            if nest is not None:
                found.nests.append((nest[0].start_byte, nest[0].end_byte))
            continue
        for capture, kind in _KIND_CAPTURES:
            if capture in captures:
                node = captures[capture][0]
                parts = found.definitions.get(node.id) or found.definitions.setdefault(
                    node.id, _Captures(node, kind)
                )
                break
        else:
            _collect_file_facts(source, captures, found)
            continue
        parts.name = _first(captures, "name") or parts.name
        parts.header_end = _first(captures, "header.end") or parts.header_end
        parts.receiver = _first(captures, "receiver") or parts.receiver
        spans = [parts.span, *captures.get("span", ())]
        parts.span = min((n for n in spans if n), key=lambda n: n.start_byte, default=None)
        parts.doc.extend(captures.get("doc", ()))
        parts.decorators.update((n.id, n) for n in captures.get("decorator", ()))
    return found


def _collect_file_facts(
    source: bytes, captures: dict[str, list[Node]], found: _FileCaptures
) -> None:
    """A match about no definition: an import, an ``else if``, the module doc or an idiom."""
    if (nodes := captures.get("import")) is not None:
        found.imports.extend(_text(source, node) for node in nodes)
    elif (nodes := captures.get("else_if")) is not None:
        found.else_ifs.add(nodes[0].start_byte)
    elif (nodes := captures.get("module.doc")) is not None:
        found.module_doc.update((n.id, n) for n in nodes)
    else:
        found.idioms.update(c.removeprefix("idiom.") for c in captures if c.startswith("idiom."))


def _call_idioms(
    source: bytes, calls: list[tuple[int, int]], idioms: re.Pattern[str] | None
) -> set[str]:
    """The idioms known by the names a file calls (each distinct name tested once)."""
    if idioms is None:
        return set()
    matches = (idioms.fullmatch(name.decode()) for name in {source[s:e] for s, e in calls})
    return {match.lastgroup for match in matches if match and match.lastgroup}


_LICENCE = re.compile(r"[Cc]opyright|COPYRIGHT|SPDX-License|[Ll]icen[cs]ed (?:under|to)")


def _module_docstring(source: bytes, nodes: dict[int, Node], plain: Callable[[str], str]) -> str:
    """The module's documentation: the last run of ``@module.doc`` nodes on consecutive lines.

    A licence header is no documentation, however it is written.
    """
    ordered = sorted(nodes.values(), key=lambda n: n.start_byte)
    if not ordered:
        return ""
    run = [ordered[-1]]
    for node in reversed(ordered[:-1]):
        if _last_row(node) + 1 < run[-1].start_point.row:
            break
        run.append(node)
    text = plain("\n".join(_text(source, n).rstrip("\r\n") for n in reversed(run)))
    return "" if _LICENCE.search(text, 0, 400) else text


def _decorator_text(source: bytes, node: Node) -> str:
    """A decorator, annotation or attribute as written, without its ``@`` (``#[…]`` is outside)."""
    return _text(source, node).removeprefix("@").strip()


def _scope(name: str, kind: SymbolKind, end_byte: int, parent: _Scope | None) -> _Scope:
    """Where a definition sits: its qualified name, its kind (methods) and its nearest class."""
    if parent is None:
        return _Scope(end_byte, name, kind, "")
    in_class = parent.kind == "class"
    return _Scope(
        end_byte=end_byte,
        qualified_name=f"{parent.qualified_name}.{name}",
        kind="method" if kind == "function" and in_class else kind,
        enclosing_class=parent.qualified_name if in_class else parent.enclosing_class,
    )


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode()


def _text_between(source: bytes, start: int, end: int) -> str:
    """The whole lines from ``start`` up to ``end`` (a line start), without the last line break."""
    return source[start:end].decode().removesuffix("\n").removesuffix("\r")


def _doc_texts(source: bytes, doc: list[Node], start: Node) -> Iterator[str]:
    """The texts of the ``@doc`` nodes: comments right above the definition, then those inside.

    A comment above counts only within the unbroken run of comments on lines of their own that
    ends on the line before the definition (or on its first line): a licence header or a
    commented-out block a blank line away, or the trailing comment of the line above, is no doc.
    """
    above = [node for node in doc if node.end_byte <= start.start_byte]
    run: list[Node] = []
    row = start.start_point.row
    for node in reversed(above):
        before = node.prev_sibling
        if _last_row(node) not in (row - 1, row) or (
            before is not None and _last_row(before) == node.start_point.row
        ):
            break
        run.append(node)
        row = node.start_point.row
    for node in reversed(run):
        yield _text(source, node).rstrip("\r\n")  # a line comment may hold its line break
    yield from (_text(source, node) for node in doc if node.end_byte > start.start_byte)


def _last_row(node: Node) -> int:
    """The row of a node's last character (a line comment may end with its line break)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row


def _first(captures: dict[str, list[Node]], name: str) -> Node | None:
    nodes = captures.get(name)
    return nodes[0] if nodes else None


def _line_end(source: bytes, node: Node) -> int:
    """End of the first line of ``node``: the signature when the query marks no header end."""
    newline = source.find(b"\n", node.start_byte, node.end_byte)
    return node.end_byte if newline < 0 else newline


def _last_significant(node: Node) -> Node:
    """The last descendant of ``node`` that ends it once trailing comments (extras) are cut."""
    while node.child_count:
        index = node.child_count - 1
        child = node.child(index)
        while child is not None and child.is_extra and index > 0:
            index -= 1
            child = node.child(index)
        if child is None or child.is_extra:
            break
        node = child
    return node


def _syntax_error(source: bytes, root: Node) -> str:
    """Where the first innermost ERROR or MISSING node of a tree is, for a person (1-based).

    Innermost, because tree-sitter may wrap a whole file in one ERROR node whose start says
    nothing; the error nested deepest along the first erroneous path is where parsing failed.
    """
    node = root
    while child := next((c for c in node.children if c.has_error or c.is_missing), None):
        node = child
    row, column = node.start_point
    line_prefix = source[node.start_byte - column : node.start_byte]
    where = f"line {row + 1}, column {len(line_prefix.decode(errors='replace')) + 1}"
    if node.is_missing:
        return f"syntax error at {where}: missing {node.type!r}"
    return f"syntax error at {where}"
