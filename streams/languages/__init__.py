"""The languages codemill extracts from: each is a tree-sitter grammar, a query file and one line.

A language is one :class:`LanguageSpec` line in :data:`LANGUAGES` plus a ``<name>.scm`` query
beside this module. The query's capture names are its whole contract with
:mod:`streams.extract`: ``@definition.function``, ``@definition.method`` or ``@definition.class``
(the definition node, one per match), ``@name``, ``@header.end`` (the signature ends where this
node ends), ``@span`` (the full extent when wider than the definition, e.g. with decorators),
``@doc`` (raw documentation, made plain text by the spec's ``docstring`` hook) and ``@import`` (a
module-level import). Several patterns may describe parts of one definition; their captures are
merged. Parsers and queries are built once per process and are not thread-safe.
"""

import ast
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import PurePosixPath
from types import MappingProxyType

from tree_sitter import Language, Parser, Query


@dataclass(frozen=True)
class LanguageSpec:
    """A language: its name (also the query file's stem), file extensions and grammar.

    ``grammar`` returns the tree-sitter language capsule (``tree_sitter_python.language()``);
    ``docstring`` turns the text of the ``@doc`` captures (joined by newlines) into plain text.
    """

    name: str
    extensions: tuple[str, ...]
    grammar: Callable[[], object]
    docstring: Callable[[str], str] = inspect.cleandoc


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
    text = files(__name__).joinpath(f"{name}.scm").read_text(encoding="utf-8")
    return Query(_tree_sitter_language(name), text)
