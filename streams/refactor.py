"""Before → after pairs of the symbols one commit changed in one file, labelled by kind. Pure.

Both versions of the file go through :func:`streams.extract.extract_symbols`; a version that does
not parse yields no pairs, since a half-understood file never becomes training data. Symbols are
matched by qualified name (same-name overloads by likeness), then the rest across renames: a
removed and an added symbol of the same kind pair up when their token sequences are at least
:data:`RENAME_SIMILARITY` alike once the old name reads as the new one. A pair is kept when the
symbol's own text changed, outside the symbols nested in it, so a class is not repeated for every
method edited inside it.

Each pair lists every label that applies (``changes``) and the most specific one (``change``),
by :data:`PRIORITY`: what the code shows beats what the message claims, and a change with no
effect beats them all, since a "fix typo" that only touched a comment is a style change.

- ``style``: equal once whitespace, comments, docstrings and quote style are ignored (for
  Python the ``ast`` is compared, so re-indenting and parenthesising count too).
- ``extract_function``: the after version calls a symbol new in this commit that it did not
  call before, and its text got shorter.
- ``rename``: the name differs.
- ``signature_change``: the signature differs beyond the name (whitespace aside).
- ``bug_fix``: the message says fix, bug, crash, error, regression, typo… or the diff adds a
  guard (a condition followed by an early return, raise or throw, or an assertion).
- ``performance``: the message says perf, faster, optimise, cache, memoise, latency, O(n)…
- ``other``: none of these.
"""

import ast
import re
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher, unified_diff
from functools import cache
from typing import Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

from streams.extract import Extraction, Symbol, SymbolKind, extract_symbols

ChangeKind = Literal[
    "style", "extract_function", "rename", "signature_change", "bug_fix", "performance", "other"
]
PRIORITY: tuple[ChangeKind, ...] = (
    "style",
    "extract_function",
    "rename",
    "signature_change",
    "bug_fix",
    "performance",
)
RENAME_SIMILARITY = 0.6
MAX_DIFF_CHARS = 8_000

_BUG_MESSAGE = re.compile(
    r"\b(?:fix(?:e[sd]|ing)?|bug(?:fix)?s?|hotfix|crash(?:es|ed|ing)?|errors?|regressions?|"
    r"typos?|broken|wrong|incorrect|off[- ]by[- ]one|(?:issue|closes|resolves)\s*#\d+)\b",
    re.IGNORECASE,
)
_PERFORMANCE_MESSAGE = re.compile(
    r"\b(?:perf(?:ormance)?|faster|speed(?:[- ]?up)?|optimi[sz](?:e[sd]?|ing|ation)|"
    r"cach(?:e[sd]?|ing)|memo(?:i[sz](?:e[sd]?|ation))?|latency|throughput|quadratic)\b"
    r"|\bO\(\s*(?:n|1|log)[^)]*\)",
    re.IGNORECASE,
)
_CONDITION = re.compile(r"^\s*(?:\}\s*)?(?:else\s+)?(?:if|unless|guard)\b")
_EARLY_EXIT = re.compile(r"\b(?:return|raise|throw|continue|break)\b|\bpanic!")
_ASSERTION = re.compile(r"^\s*(?:assert!?|debug_assert!|require|Objects\.requireNonNull)\b")

_WORD = re.compile(r"\w+|[^\w\s]")
_DQ = r'"(?:[^"\\\n]|\\.)*"'
_SQ = r"'(?:[^'\\\n]|\\.)*'"
_CHAR = r"'(?:\\.[^'\n]{0,9}|[^'\\\n])'"  # a char or rune literal, never a Rust lifetime
_BACKTICK = r"`(?:[^`\\]|\\.)*`"
_TRIPLE = r'"""[\s\S]*?"""|' + r"'''[\s\S]*?'''"
_C_COMMENTS = r"/\*[\s\S]*?\*/|//[^\n]*"
_STRINGS_AND_COMMENTS = {
    "python": (_TRIPLE, _DQ, _SQ, r"#[^\n]*"),
    "javascript": (_C_COMMENTS, _DQ, _SQ, _BACKTICK),
    "typescript": (_C_COMMENTS, _DQ, _SQ, _BACKTICK),
    "tsx": (_C_COMMENTS, _DQ, _SQ, _BACKTICK),
    "go": (_C_COMMENTS, _DQ, _CHAR, _BACKTICK),
    "java": (_C_COMMENTS, _TRIPLE, _DQ, _CHAR),
    "rust": (_C_COMMENTS, _DQ, _CHAR),
}
_OPTIONAL_SEMICOLONS = frozenset({"javascript", "typescript", "tsx"})
_Documented = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module


class SymbolChange(BaseModel):
    """One symbol before and after a commit. Lines are 1-based and inclusive, in each version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    language: str
    before_symbol: str
    after_symbol: str
    kind: SymbolKind
    before: str
    after: str
    change: ChangeKind
    changes: list[ChangeKind] = Field(min_length=1)
    diff: str
    before_start_line: int
    before_end_line: int
    after_start_line: int
    after_end_line: int


def symbol_changes(
    before: bytes, after: bytes, path: str, language: str, message: str
) -> list[SymbolChange]:
    """The changed symbols of one file between two versions, in the after version's order.

    ``message`` is the commit message. Added and removed symbols are no pairs, and neither is a
    file that does not parse on one side.
    """
    old = extract_symbols(before, path, language, context_lines=0)
    new = extract_symbols(after, path, language, context_lines=0)
    if old.error is not None or new.error is not None:
        return []
    return extraction_changes(old, new, before.decode(), after.decode(), message)


def extraction_changes(
    old: Extraction, new: Extraction, before: str, after: str, message: str
) -> list[SymbolChange]:
    """:func:`symbol_changes` for two versions already extracted (texts ``before``, ``after``)."""
    path, language = new.path, new.language
    pairs = _match(old.symbols, new.symbols)
    paired = {id(a) for _, a in pairs}
    added = [s for s in new.symbols if id(s) not in paired]
    old_lines, new_lines = before.splitlines(), after.splitlines()
    changes = []
    for b, a in pairs:
        if b.body == a.body:
            continue
        old_side, new_side = _side(b, old.symbols, old_lines), _side(a, new.symbols, new_lines)
        if _code_lines(old_side.own) != _code_lines(new_side.own):
            changes.append(_change(old_side, new_side, path, language, message, added))
    return changes


@dataclass(frozen=True, slots=True)
class _Side:
    """One version of a symbol: ``own`` is its text without the symbols nested in it, ``lines``
    its lines in the file. A pair is judged on its own text (a class by its fields and header,
    not by its methods, which make pairs of their own)."""

    symbol: Symbol
    own: str
    lines: list[str]


def _side(symbol: Symbol, symbols: list[Symbol], file_lines: list[str]) -> _Side:
    own = _own_text(symbol, symbols)
    return _Side(symbol, own, file_lines[symbol.start_line - 1 : symbol.end_line])


# --- matching ------------------------------------------------------------------------------------


def _match(old: list[Symbol], new: list[Symbol]) -> list[tuple[Symbol, Symbol]]:
    """Pairs of the same symbol, by qualified name first and then across renames."""
    by_name: defaultdict[str, tuple[list[Symbol], list[Symbol]]] = defaultdict(lambda: ([], []))
    for symbol in old:
        by_name[symbol.qualified_name][0].append(symbol)
    for symbol in new:
        by_name[symbol.qualified_name][1].append(symbol)
    pairs = []
    for olds, news in by_name.values():
        pairs += _best_pairs(olds, news, threshold=0.0)
    paired = {id(s) for pair in pairs for s in pair}
    removed = [s for s in old if id(s) not in paired]
    added = [s for s in new if id(s) not in paired]
    pairs += _best_pairs(removed, added, threshold=RENAME_SIMILARITY)
    order = {id(s): i for i, s in enumerate(new)}
    return sorted(pairs, key=lambda pair: order[id(pair[1])])


def _best_pairs(
    olds: list[Symbol], news: list[Symbol], threshold: float
) -> list[tuple[Symbol, Symbol]]:
    """Greedy one-to-one pairs of the same kind, most alike first, at least ``threshold`` alike.

    Likeness is :class:`difflib.SequenceMatcher`'s ratio over the bodies' tokens, with each
    symbol's own name read as one placeholder so a rename alone costs nothing; its cheap upper
    bounds are checked first, so most candidates cost no full comparison.
    """
    if len(olds) == 1 and len(news) == 1 and threshold == 0.0:
        return [(olds[0], news[0])] if olds[0].kind == news[0].kind else []
    old_tokens = [_tokens_unnamed(symbol) for symbol in olds]
    matcher: SequenceMatcher[str] = SequenceMatcher(None, autojunk=False)
    scored = []
    for j, after in enumerate(news):
        matcher.set_seq2(_tokens_unnamed(after))  # the costly side, indexed once per symbol
        for i, before in enumerate(olds):
            if before.kind != after.kind:
                continue
            matcher.set_seq1(old_tokens[i])
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold:
                score = matcher.ratio()
                if score >= threshold:
                    scored.append((score, i, j))
    scored.sort(key=lambda item: -item[0])
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for _, i, j in scored:
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((olds[i], news[j]))
    return pairs


def _tokens_unnamed(symbol: Symbol) -> list[str]:
    return ["\0" if token == symbol.name else token for token in _WORD.findall(symbol.body)]


def _own_text(symbol: Symbol, symbols: list[Symbol]) -> str:
    """The text of ``symbol`` without the text of the symbols nested in it."""
    text, cut, end_line = symbol.body, 0, 0
    parts = []
    for inner in symbols:
        nested = symbol.start_line <= inner.start_line and inner.end_line <= symbol.end_line
        if inner is symbol or not nested or inner.end_line <= end_line:
            continue  # not inside, or inside a symbol already cut out
        at = text.find(inner.body, cut)
        if at >= 0:
            parts.append(text[cut:at])
            cut, end_line = at + len(inner.body), inner.end_line
    parts.append(text[cut:])
    return "".join(parts)


# --- labels --------------------------------------------------------------------------------------


def _change(
    old: _Side, new: _Side, path: str, language: str, message: str, added: list[Symbol]
) -> SymbolChange:
    before, after = old.symbol, new.symbol
    diff = list(_diff(old, new, path))
    nested = old.own != before.body or new.own != after.body
    own_diff = list(unified_diff(old.own.splitlines(), new.own.splitlines())) if nested else diff
    found: set[ChangeKind] = set()
    if _same_shape(old, new, language):
        found.add("style")
    if _extracts(old, new, added):
        found.add("extract_function")
    if before.name != after.name:
        found.add("rename")
    old_signature = _squash(_unnamed(before.signature, before.name))
    if old_signature != _squash(_unnamed(after.signature, after.name)):
        found.add("signature_change")
    if _BUG_MESSAGE.search(message) or _adds_guard(own_diff):
        found.add("bug_fix")
    if _PERFORMANCE_MESSAGE.search(message):
        found.add("performance")
    changes: list[ChangeKind] = [kind for kind in PRIORITY if kind in found] or ["other"]
    return SymbolChange(
        path=path,
        language=language,
        before_symbol=before.qualified_name,
        after_symbol=after.qualified_name,
        kind=after.kind,
        before=before.body,
        after=after.body,
        change=changes[0],
        changes=changes,
        diff=_capped("\n".join(diff)),
        before_start_line=before.start_line,
        before_end_line=before.end_line,
        after_start_line=after.start_line,
        after_end_line=after.end_line,
    )


def _extracts(old: _Side, new: _Side, added: Iterable[Symbol]) -> bool:
    """Whether the own text got shorter and the symbol now calls one of the ``added``."""
    if len(_squash(new.own)) >= len(_squash(old.own)):
        return False
    called_before = set(old.symbol.calls)
    return any(s.name in new.symbol.calls and s.name not in called_before for s in added)


def _adds_guard(diff: list[str]) -> bool:
    """Whether an added line is an assertion, or a condition whose next lines exit early."""
    for i, line in enumerate(diff):
        if not line.startswith("+") or line.startswith("+++"):
            continue
        code = line[1:]
        if _ASSERTION.match(code):
            return True
        if _CONDITION.match(code):
            following = [code]
            for nxt in diff[i + 1 : i + 3]:
                if not nxt.startswith("+"):
                    break
                following.append(nxt[1:])
            if any(_EARLY_EXIT.search(text) for text in following):
                return True
    return False


def _same_shape(old: _Side, new: _Side, language: str) -> bool:
    """Whether two versions' own texts differ only in layout, comments, docstrings and quotes."""
    old_tokens, new_tokens = _tokens(old.own, language), _tokens(new.own, language)
    if language == "python":
        # Equal trees have equal words outside strings: the cheap test rules most pairs out.
        if _words(old_tokens) != _words(new_tokens):
            return False
        old_tree, new_tree = _python_tree(old.lines), _python_tree(new.lines)
        if old_tree is not None and new_tree is not None:
            return old_tree == new_tree
    return old_tokens == new_tokens


def _words(tokens: list[str]) -> list[str]:
    return [token for token in tokens if token[0].isalnum() or token[0] == "_"]


def _python_tree(lines: list[str]) -> str | None:
    """The ``ast`` dump of a Python definition without nested definitions and docstrings.

    None if its lines do not parse on their own (they may share a line with other code).
    """
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError:
        return None
    if not tree.body:
        return None
    _WithoutDefinitions().generic_visit(tree.body[0])
    for node in ast.walk(tree):
        if _has_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


class _WithoutDefinitions(ast.NodeTransformer):
    """Drops the definitions it visits: nested symbols are judged as pairs of their own."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        return None

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        return None

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        return None


def _has_docstring(node: ast.AST) -> TypeGuard[_Documented]:
    if not isinstance(node, _Documented) or not node.body:
        return False
    statement = node.body[0]
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _tokens(text: str, language: str) -> list[str]:
    """Code tokens without comments; strings stand for their content, whatever their quotes.

    A comma before a closing bracket is dropped (formatters add trailing commas), and so is a
    semicolon where the language makes it optional.
    """
    pattern = _token_pattern(language)
    tokens: list[str] = []
    for match in pattern.finditer(text):
        token = match.group()
        if match.lastgroup == "comment":
            continue
        if match.lastgroup == "string":
            body = token.strip("\"'`")
            token = '"' + body.replace("\\'", "'").replace('\\"', '"')
        elif token == ";" and language in _OPTIONAL_SEMICOLONS:
            continue
        elif token in ")]}" and tokens and tokens[-1] == ",":
            tokens.pop()
        tokens.append(token)
    return tokens


@cache
def _token_pattern(language: str) -> re.Pattern[str]:
    literals = _STRINGS_AND_COMMENTS.get(language, (_C_COMMENTS, _DQ, _SQ))
    comments = "|".join(p for p in literals if p.startswith(("/", "#")))
    strings = "|".join(p for p in literals if not p.startswith(("/", "#")))
    return re.compile(f"(?P<comment>{comments})|(?P<string>{strings})|\\w+|[^\\w\\s]")


def _unnamed(signature: str, name: str) -> str:
    return re.sub(rf"\b{re.escape(name)}\b", "\0", signature)


def _code_lines(text: str) -> list[str]:
    """The non-blank lines of a text, without trailing spaces: what makes a change worth a pair.

    Indentation stays, as it carries meaning in Python; blank lines go, so that a symbol added
    to or removed from a class leaves the class's own text as it was.
    """
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- diff ----------------------------------------------------------------------------------------

_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _diff(old: _Side, new: _Side, path: str) -> Iterator[str]:
    """A unified diff of the symbol's lines, its hunks numbered as lines of the files."""
    for line in unified_diff(old.lines, new.lines, f"a/{path}", f"b/{path}", lineterm=""):
        hunk = _HUNK.match(line)
        if hunk is None:
            yield line
            continue
        old_start = int(hunk.group(1)) + old.symbol.start_line - 1
        new_start = int(hunk.group(3)) + new.symbol.start_line - 1
        yield (
            f"@@ -{old_start}{hunk.group(2) or ''} +{new_start}{hunk.group(4) or ''} @@"
            + line[hunk.end() :]
        )


def _capped(diff: str) -> str:
    """The diff cut at a line boundary under :data:`MAX_DIFF_CHARS`, with a marker line."""
    if len(diff) <= MAX_DIFF_CHARS:
        return diff
    cut = diff.rfind("\n", 0, MAX_DIFF_CHARS)
    return diff[: max(cut, 0)] + f"\n\\ diff cut at {MAX_DIFF_CHARS} characters"
