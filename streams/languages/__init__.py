"""The languages codemill extracts from: each is a tree-sitter grammar, a query file and one line.

A language is one :class:`LanguageSpec` line in :data:`LANGUAGES` plus a ``<name>.scm`` query
beside this module. The query's capture names are its whole contract with
:mod:`streams.extract`: ``@definition.function``, ``@definition.method`` or ``@definition.class``
(the definition node, one per match), ``@name``, ``@header.end`` (the signature ends where this
node ends), ``@span`` (the full extent when wider than the definition: a wrapper such as a
decorated definition or an ``export``, or leading siblings such as attributes, the earliest
counting), ``@receiver`` (the type a method belongs to when it is defined outside that type's
body: a Go receiver, a Rust ``impl``), ``@doc`` (raw documentation, made plain text by the spec's
``docstring`` hook; comments above a definition count only when they run up to it) and
``@import`` (a module-level import). Several patterns may describe parts of one definition; their
captures are merged. A query may start with ``; inherits: <name>`` to include another language's
query first (TypeScript extends JavaScript). Parsers and queries are built once per process and
are not thread-safe.
"""

import ast
import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import PurePosixPath
from types import MappingProxyType

from tree_sitter import Language, Parser, Query


def _comment_docstring(text: str) -> str:
    """Plain text of doc comments: ``/** … */`` blocks or runs of ``///`` or ``//`` lines."""
    lines = []
    for line in text.splitlines():
        line = line.rstrip().removesuffix("*/").rstrip()
        stripped = line.lstrip()
        marker = next((m for m in ("/**", "/*", "///", "//", "*") if stripped.startswith(m)), "")
        lines.append(stripped[len(marker) :] if marker else line)
    return inspect.cleandoc("\n".join(lines))


@dataclass(frozen=True)
class LanguageSpec:
    """A language: its name (also the query file's stem), file extensions and grammar.

    ``grammar`` returns the tree-sitter language capsule (``tree_sitter_python.language()``);
    ``docstring`` turns the text of the ``@doc`` captures (joined by newlines) into plain text,
    by default taking the comment markers off doc comments.
    """

    name: str
    extensions: tuple[str, ...]
    grammar: Callable[[], object]
    docstring: Callable[[str], str] = _comment_docstring


def _grammar(module: str, function: str = "language") -> Callable[[], object]:
    """The grammar of a tree-sitter wheel, imported only when a file of that language turns up."""

    def load() -> object:
        return getattr(importlib.import_module(module), function)()

    return load


def _python_docstring(literal: str) -> str:
    """The value of a docstring literal, cleaned as ``ast.get_docstring`` does; "" if not a str."""
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):  # an f-string is not a docstring
        return ""
    return inspect.cleandoc(value) if isinstance(value, str) else ""


LANGUAGES: Mapping[str, LanguageSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            LanguageSpec("python", (".py",), _grammar("tree_sitter_python"), _python_docstring),
            LanguageSpec(
                "javascript", (".js", ".mjs", ".cjs", ".jsx"), _grammar("tree_sitter_javascript")
            ),
            LanguageSpec(
                "typescript",
                (".ts", ".mts", ".cts"),
                _grammar("tree_sitter_typescript", "language_typescript"),
            ),
            LanguageSpec("tsx", (".tsx",), _grammar("tree_sitter_typescript", "language_tsx")),
            LanguageSpec("go", (".go",), _grammar("tree_sitter_go")),
            LanguageSpec("java", (".java",), _grammar("tree_sitter_java")),
            LanguageSpec("rust", (".rs",), _grammar("tree_sitter_rust")),
        )
    }
)
_BY_EXTENSION = {ext: spec for spec in LANGUAGES.values() for ext in spec.extensions}


def language_for_path(path: str) -> LanguageSpec | None:
    """The language of a file, by its extension (case-insensitive); None if none is registered."""
    return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())


def get_language(name: str) -> LanguageSpec:
    """The registered language called ``name``; ValueError naming the known ones otherwise."""
    try:
        return LANGUAGES[name]
    except KeyError:
        known = ", ".join(sorted(LANGUAGES))
        raise ValueError(f"unknown language {name!r}; registered languages: {known}") from None


@cache
def _tree_sitter_language(name: str) -> Language:
    return Language(get_language(name).grammar())


@cache
def parser_for(name: str) -> Parser:
    """The (shared, cached) parser of a language."""
    return Parser(_tree_sitter_language(name))


@cache
def query_for(name: str) -> Query:
    """The (shared, cached) extraction query of a language, read from ``<name>.scm``."""
    return Query(_tree_sitter_language(name), _query_text(name))


_INHERITS = re.compile(r"; inherits: *([\w, ]+)")


def _query_text(name: str) -> str:
    """The text of ``<name>.scm``, after that of the queries its first line says it inherits."""
    text = files(__name__).joinpath(f"{name}.scm").read_text(encoding="utf-8")
    inherits = _INHERITS.match(text)
    parents = inherits.group(1).replace(",", " ").split() if inherits else []
    return "".join(_query_text(parent) + "\n" for parent in parents) + text
