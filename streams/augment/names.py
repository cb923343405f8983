"""Rename a snippet's own local variables and parameters, with a scope analysis per language.

A name is renamed where it resolves to a binding inside the snippet and left alone where it
resolves to anything outside (a global, a builtin, a called function, a field), so a name local
only to a nested function keeps its outer, global uses. A name bound in two nested scopes
(shadowing) maps to one new name in both, which keeps each use pointing at its own binding. Never
renamed: attributes and fields, Python keyword-argument names and any name also passed as one (a
caller of a nested function may use it), class-body names (attributes), ``self`` and the like, Go
receivers, TypeScript parameter properties, names shadowing builtins, and any name whose uses the
tree cannot all see (Go composite-literal keys, JSX tag names, Rust ``{name}`` format arguments,
Python ``{name=}`` f-string debug fields). New names come from a small vocabulary of plain nouns,
none a word of the snippet, chosen by the seed.
"""

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from random import Random

from tree_sitter import Node

from streams.augment.bindings import NAME_RULES, NEVER_RENAMED, NameRules
from streams.augment.tree import Captures, apply_edits, captures
from streams.snippets import ParsedSnippet

# Plain nouns that are no keyword or builtin in any of the languages.
_VOCABULARY = tuple(
    b"value item result count idx data acc tmp entry elem node current total buf obj arg "
    b"part val res out cur prev target source state payload chunk slot cell step pos offset "
    b"limit index other first last head tail left right pair found flag elt aux temp piece "
    b"unit key".split()
)
_WORD = re.compile(rb"[A-Za-z_]\w*")
_FORMAT_ARGUMENT = re.compile(rb"\{([A-Za-z_]\w*)")


@dataclass(eq=False, slots=True)
class _Binding:
    name: bytes
    visible_from: int
    fixed: bool


@dataclass(slots=True)
class _Use:
    """An identifier that is a variable: where it is and the binding it refers to, if inside.

    A shorthand use (``{x}`` in JavaScript, ``Point { x }`` in Rust) also names a property or
    field, so it is renamed to ``{x: new}``.
    """

    node: Node
    name: bytes
    binding: _Binding | None
    shorthand: bool


@dataclass(eq=False)
class _Scope:
    start: int
    end: int
    kind: str  # root, function, comprehension, block or class
    parent: "_Scope | None"
    bindings: dict[bytes, _Binding] = field(default_factory=dict)
    declared: dict[bytes, str] = field(default_factory=dict)  # Python: global or nonlocal


class _Scopes:
    """The scope tree of the captured scope nodes, under a root standing for the outside."""

    def __init__(self, found: Captures, size: int) -> None:
        entries = [
            (_scope_start(node, kind), -node.end_byte, kind)
            for kind in ("function", "comprehension", "block", "class")
            for node in found.get(f"scope.{kind}", ())
        ]
        entries.sort()
        self.root = _Scope(0, size + 1, "root", None)
        self.scopes = [self.root]
        stack = [self.root]
        for start, end, kind in entries:
            while not (stack[-1].start <= start and -end <= stack[-1].end):
                stack.pop()
            stack.append(_Scope(start, -end, kind, stack[-1]))
            self.scopes.append(stack[-1])
        self.starts = [scope.start for scope in self.scopes]

    def at(self, position: int) -> _Scope:
        """The innermost scope holding a byte."""
        scope: _Scope | None = self.scopes[bisect_right(self.starts, position) - 1]
        while scope is not None and not scope.start <= position < scope.end:
            scope = scope.parent
        return scope or self.root


def _scope_start(node: Node, kind: str) -> int:
    """A function's scope starts at its receiver or parameters: its name binds outside it."""
    if kind != "function":
        return node.start_byte
    first = node.child_by_field_name("receiver") or node.child_by_field_name("parameters")
    return (first or node).start_byte


def rename(parsed: ParsedSnippet, seed: int) -> bytes | None:
    """The snippet's code with its variables renamed; None if it has none to rename."""
    uses = sorted(_variable_uses(parsed), key=lambda use: use.node.start_byte)
    old_names = list(dict.fromkeys(use.name for use in uses))
    if not old_names:
        return None
    taken = set(_WORD.findall(parsed.code))
    new_names = dict(zip(old_names, _fresh_names(len(old_names), taken, seed), strict=True))
    edits = []
    for use in uses:
        new = new_names[use.name]
        at = parsed.to_code(use.node.start_byte)
        edits.append((at, at + len(use.name), use.name + b": " + new if use.shorthand else new))
    return apply_edits(parsed.code, edits)


def _variable_uses(parsed: ParsedSnippet) -> list[_Use]:
    """The uses of the snippet's renamable variables, bindings included, from a scope analysis."""
    rules = NAME_RULES[parsed.language]
    found = captures(parsed, {parsed.language: rules.query})
    scopes = _Scopes(found, len(parsed.standalone.source))
    seen = {node.start_byte for node in found.get("skip", ())}
    seen.update(n.start_byte for n in found.get("token", ()) if not _is_macro_variable(n))
    unsafe = {node.text or b"" for node in found.get("unsafe", ())}
    for string in found.get("format", ()):
        unsafe.update(_FORMAT_ARGUMENT.findall(string.text or b""))
    for declaration in ("global", "nonlocal"):
        for node in found.get(declaration, ()):
            scopes.at(node.start_byte).declared[node.text or b""] = declaration
    uses = _bindings(found, rules, scopes, seen, unsafe)
    bound = {use.name for use in uses if use.binding is not None and not use.binding.fixed}
    uses.extend(_references(found, rules, scopes, seen, bound))

    def renamable(binding: _Binding | None) -> bool:
        return (
            binding is not None
            and not binding.fixed
            and binding.name not in unsafe
            and binding.name not in rules.reserved
            and binding.name not in NEVER_RENAMED
            and not binding.name.startswith(b"__")
        )

    return [use for use in uses if renamable(use.binding)]


def _bindings(
    found: Captures, rules: NameRules, scopes: _Scopes, seen: set[int], unsafe: set[bytes]
) -> list[_Use]:
    """Each binding identifier registered in its scope, as a use of itself."""
    uses = []
    for node, mode in _binding_nodes(found, rules):
        name = node.text or b""
        scope = scopes.at(node.start_byte)
        if node.start_byte in seen or name in scope.declared:
            continue  # a `global x` assignment is a use of the global
        if rules.lowercase_bindings and not (
            name[:1].islower() or (name[:1] == b"_" and len(name) > 1)
        ):
            continue  # a constant or variant in a pattern: a use
        seen.add(node.start_byte)
        while mode == "var" and scope.kind not in ("function", "root") and scope.parent:
            scope = scope.parent
        visible_from = -1  # hoisted: the whole scope sees it
        if mode == "here":
            visible_from = node.start_byte
        elif mode == "seq":
            visible_from = _declaration_end(node, rules)
        fixed = mode == "fixed" or scope.kind in ("class", "root")
        if node.type == "shorthand_field_identifier" and node.prev_sibling is not None:
            unsafe.add(name)  # `ref x` in a struct pattern would need `x: ref new`
        binding = scope.bindings.setdefault(name, _Binding(name, visible_from, fixed))
        binding.visible_from = min(binding.visible_from, visible_from)
        binding.fixed = binding.fixed or fixed
        uses.append(_Use(node, name, binding, node.type.startswith("shorthand")))
    return uses


def _references(
    found: Captures, rules: NameRules, scopes: _Scopes, seen: set[int], bound: set[bytes]
) -> Iterator[_Use]:
    """Each use of a ``bound`` name resolved to its binding (None: one outside the snippet)."""
    defaults = sorted((node.start_byte, node.end_byte) for node in found.get("outer", ()))
    default_starts = [start for start, _ in defaults]
    shorthand = found.get("shorthand", [])
    for index, node in enumerate((*shorthand, *found.get("ref", ()))):
        at, name = node.start_byte, node.text or b""
        if at in seen or name not in bound:
            continue
        seen.add(at)
        scope = scopes.at(at)
        default = bisect_right(default_starts, at) - 1
        if default >= 0 and scope.start <= defaults[default][0] and at < defaults[default][1]:
            scope = scope.parent or scope  # a default value is evaluated outside its function
        binding = _resolve(name, scope, at, rules.sees_class_names)
        yield _Use(node, name, binding, index < len(shorthand))


def _binding_nodes(found: Captures, rules: NameRules) -> Iterator[tuple[Node, str]]:
    """Each binding identifier with its mode (hoist, var, here, seq, fixed), fixed ones first."""
    yield from ((node, "fixed") for node in found.get("def.fixed", ()))
    for capture in sorted(found):  # a node in two captures takes the first one's mode
        nodes = found[capture]
        kind, _, mode = capture.partition(".")
        if kind == "def" and mode != "fixed":
            yield from ((node, mode or "hoist") for node in nodes)
        elif kind == "pattern":
            for node in nodes:
                yield from ((target, mode or "hoist") for target in _pattern_names(node, rules))


_BINDING_TYPES = frozenset(
    {"identifier", "shorthand_property_identifier_pattern", "shorthand_field_identifier"}
)


def _pattern_names(pattern: Node, rules: NameRules) -> Iterator[Node]:
    """The identifiers a destructuring pattern binds, skipping its defaults, types and keys."""
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node.type in _BINDING_TYPES:
            yield node
            continue
        for index, child in enumerate(node.children):
            name = node.field_name_for_child(index) or ""
            if not child.is_named or child.type in rules.skip_types:
                continue
            if ("*", name) in rules.skip_fields or (node.type, name) in rules.skip_fields:
                continue
            stack.append(child)


def _declaration_end(node: Node, rules: NameRules) -> int:
    """Where a sequential binding becomes visible: after its declaration (``let x = x + 1``)."""
    ancestor = node.parent
    while ancestor is not None and ancestor.type not in rules.declarations:
        ancestor = ancestor.parent
    return ancestor.end_byte if ancestor is not None else node.end_byte


def _resolve(name: bytes, scope: _Scope | None, position: int, sees_class: bool) -> _Binding | None:
    """The binding a use refers to: the nearest visible one; None for anything outside."""
    innermost = True
    while scope is not None:
        declared = scope.declared.get(name)
        if declared == "global":
            return None
        if declared is None and (innermost or sees_class or scope.kind != "class"):
            binding = scope.bindings.get(name)
            if binding is not None and binding.visible_from <= position:
                return binding
        innermost = False
        scope = scope.parent
    return None


def _is_macro_variable(node: Node) -> bool:
    """Whether an identifier in a Rust macro's tokens reads as a variable, not a path or a field."""
    before, after = node.prev_sibling, node.next_sibling
    return not (before is not None and before.type in (".", "::")) and not (
        after is not None and after.type in ("::", "!", ":", "=")
    )


def _fresh_names(count: int, taken: set[bytes], seed: int) -> list[bytes]:
    """``count`` distinct plausible names, none of them a word of the snippet."""
    pool = [word for word in _VOCABULARY if word not in taken]
    names = Random(seed).sample(pool, min(count, len(pool)))
    suffix = 2
    while len(names) < count:  # a snippet with more variables than the vocabulary has words
        names.extend(w + b"%d" % suffix for w in _VOCABULARY if w + b"%d" % suffix not in taken)
        suffix += 1
    return names[:count]
