"""Variants of a snippet that mean the same, and copies of it with one bug injected, for training.

A pure stage over extracted snippets (see :mod:`streams.snippets` for their layout: the first
line at ``start_column`` of its file, the others with their own indentation). Every function
works on the snippet's tree-sitter tree, so strings and comments are never mistaken for code, is
deterministic for a ``seed``, keeps the snippet's layout, and returns None rather than code that
does not parse standalone. A snippet is parsed once to find what to change (not at all when it
comes with its file's tree: :func:`augment_parsed`) and each result once to check it. One module
per transformation: :mod:`~streams.augment.names` (renaming),
:mod:`~streams.augment.comments`, :mod:`~streams.augment.layout` and
:mod:`~streams.augment.bugs` (the places a bug can go).
"""

from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Literal

from streams.augment.bindings import NAME_RULES
from streams.augment.bugs import ERROR_QUERIES, ErrorType, find_bugs
from streams.augment.comments import COMMENT_QUERIES, strip_comments
from streams.augment.layout import LAYOUT_QUERIES, relayout
from streams.augment.names import rename
from streams.augment.tree import apply_edits, compile_queries
from streams.snippets import ParsedSnippet, parse_errors, parse_snippet

__all__ = [
    "ErrorType",
    "InjectedError",
    "Variant",
    "VariantKind",
    "augment",
    "augment_parsed",
    "compile_all_queries",
    "inject_error",
    "inject_error_parsed",
    "reformat",
    "rename_variables",
    "vary_comments",
]

VariantKind = Literal["rename", "comments", "reformat"]
_Make = Callable[[ParsedSnippet], bytes | None]
_ATTEMPTS = 4  # bugs tried before giving up, should one not parse


@dataclass(frozen=True, slots=True)
class Variant:
    """The snippet transformed without changing what it does."""

    kind: VariantKind
    code: str


@dataclass(frozen=True, slots=True)
class InjectedError:
    """A buggy copy of ``fixed`` (the snippet), the bug's type, its 1-based line and a sentence
    on it that starts by naming that line ("Line 3: the comparison uses `<=` where …")."""

    error_type: ErrorType
    buggy: str
    fixed: str
    explanation: str
    line: int


def compile_all_queries() -> None:
    """Compile every language's augmentation queries now (see :func:`compile_queries`)."""
    names = {language: rules.query for language, rules in NAME_RULES.items()}
    compile_queries(names, COMMENT_QUERIES, LAYOUT_QUERIES, ERROR_QUERIES)


def augment(code: str, language: str, kind: str, start_column: int, seed: int) -> list[Variant]:
    """Every variant that applies, renamed, without comments and reformatted, in that order."""
    return augment_parsed(
        parse_snippet(code, language, kind, start_column), kind, start_column, seed
    )


def augment_parsed(parsed: ParsedSnippet, kind: str, start_column: int, seed: int) -> list[Variant]:
    """:func:`augment` of a snippet already parsed, alone or in its file
    (:func:`streams.snippets.in_file`)."""
    makers: tuple[tuple[VariantKind, _Make], ...] = (
        ("rename", lambda parsed: rename(parsed, seed)),
        ("comments", strip_comments),
        ("reformat", lambda parsed: relayout(parsed, start_column, seed)),
    )
    variants = []
    for variant_kind, make in makers:
        made = _checked(make(parsed), parsed, kind, start_column)
        if made is not None:
            variants.append(Variant(variant_kind, made))
    return variants


def rename_variables(
    code: str, language: str, kind: str, start_column: int, seed: int
) -> str | None:
    """The snippet with its local variables and parameters renamed; None if it has none.

    See :mod:`streams.augment.names` for what is renamed and what never is.
    """
    return _variant(lambda parsed: rename(parsed, seed), code, language, kind, start_column)


def vary_comments(code: str, language: str, kind: str, start_column: int, seed: int) -> str | None:
    """The snippet without its comments (docstrings and directives stay); None if it has none.

    ``seed`` is unused, as stripping has one outcome; it keeps the variants' signatures alike.
    """
    return _variant(strip_comments, code, language, kind, start_column)


def reformat(code: str, language: str, kind: str, start_column: int, seed: int) -> str | None:
    """The snippet laid out anew, meaning the same; None if no layout change applies.

    The seed picks among the changes that apply: a new indentation unit (2 or 4 spaces, or tabs
    outside Python), Python quotes, brace lines (see :mod:`streams.augment.layout`).
    """
    return _variant(
        lambda parsed: relayout(parsed, start_column, seed), code, language, kind, start_column
    )


def inject_error(
    code: str, language: str, kind: str, start_column: int, seed: int
) -> InjectedError | None:
    """The snippet with one bug of a type the seed picks among those that fit; None if none does.

    The types and what each changes are listed in :mod:`streams.augment.bugs`.
    """
    parsed = parse_snippet(code, language, kind, start_column)
    return inject_error_parsed(parsed, kind, start_column, seed)


def inject_error_parsed(
    parsed: ParsedSnippet, kind: str, start_column: int, seed: int
) -> InjectedError | None:
    """:func:`inject_error` of a snippet already parsed, alone or in its file."""
    code, language = parsed.code.decode(), parsed.language
    rng = Random(seed)
    bugs = find_bugs(parsed)
    for _ in range(_ATTEMPTS):
        types = [error_type for error_type, found in bugs.items() if found]
        if not types:
            return None
        found = bugs[rng.choice(types)]
        bug = found.pop(rng.randrange(len(found)))
        start, end = parsed.to_code(bug.start), parsed.to_code(bug.end)
        buggy = apply_edits(parsed.code, [(start, end, bug.replacement)]).decode()
        if buggy != code and parse_errors(buggy, language, kind, start_column) is None:
            line = parsed.line(bug.start)
            explanation = f"Line {line}: {bug.explanation}"
            return InjectedError(bug.error_type, buggy, code, explanation, line)
    return None


def _variant(make: _Make, code: str, language: str, kind: str, start_column: int) -> str | None:
    parsed = parse_snippet(code, language, kind, start_column)
    return _checked(make(parsed), parsed, kind, start_column)


def _checked(made: bytes | None, parsed: ParsedSnippet, kind: str, start_column: int) -> str | None:
    """The new code if it differs from the snippet and parses standalone."""
    if made is None or made == parsed.code:
        return None
    text = made.decode()
    return text if parse_errors(text, parsed.language, kind, start_column) is None else None
