"""The languages codemill extracts from: each is a tree-sitter grammar, a query file and one line.

A language is one :class:`LanguageSpec` line in :data:`LANGUAGES` plus a ``<name>.scm`` query
beside this module. The query's capture names are its whole contract with
:mod:`streams.extract`: ``@definition.function``, ``@definition.method`` or ``@definition.class``
(the definition node, one per match), ``@name``, ``@header.end`` (the signature ends where this
node ends), ``@span`` (the full extent when wider than the definition: a wrapper such as a
decorated definition or an ``export``, or leading siblings such as attributes, the earliest
counting), ``@receiver`` (the type a method belongs to when it is defined outside that type's
body: a Go receiver, a Rust ``impl``), ``@doc`` (raw documentation, made plain text by the spec's
``docstring`` hook; comments above a definition count only when they run up to it),
``@decorator`` (a decorator, annotation or attribute of the definition, in a match with it) and
``@import`` (a module-level import). Several patterns may describe parts of one definition; their
captures are merged.

Matches without a definition describe the file. Those inside a definition's byte range count
for it and for the definitions around it: ``@call`` (the called name: an identifier, or the last
field of the callee), ``@branch`` (a decision point, for cyclomatic complexity), ``@nest`` (a
control block; blocks inside blocks give the nesting depth; one node may be both) and
``@else_if`` (an ``if`` that continues an ``else``: no deeper than its ``if``, while its own
pattern still makes it a ``@branch`` and ``@nest``). ``@module.doc`` is the file's own
documentation (its last run of such nodes on consecutive lines, made plain text by the
``docstring`` hook) and ``@idiom.<name>`` names an idiom the file uses; captures whose name starts
with ``_`` only feed predicates.

A query may start with ``; inherits: <name>, …`` to include other query files first: the
JavaScript family shares ``ecmascript.scm``, and JSX (``jsx.scm``) is included only by the
languages whose grammar parses it. Parsers and queries are built once per process and are not
thread-safe.
"""

import ast
import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from tree_sitter import Language, Parser, Query

_COMMENT_MARKER = re.compile(r"/\*\*|/\*!|/\*|///|//!|//|\*")  # the longest that opens a line


def _comment_docstring(text: str) -> str:
    """Plain text of doc comments: ``/** … */`` blocks or runs of ``///`` or ``//`` lines.

    Rust's inner doc comments (``//!``, ``/*! … */``) document the module they are in.
    """
    lines = []
    for line in text.splitlines():
        line = line.rstrip().removesuffix("*/").rstrip()
        stripped = line.lstrip()
        marker = _COMMENT_MARKER.match(stripped)
        lines.append(stripped[marker.end() :] if marker else line)
    return inspect.cleandoc("\n".join(lines))


_FILE_TAG = re.compile(r"@(?:file|fileoverview|overview)\b\s*")


def _jsdoc_docstring(text: str) -> str:
    """A JSDoc comment's text; the ``@file`` tag that opens a file's overview is dropped."""
    plain = _comment_docstring(text)
    tag = _FILE_TAG.match(plain)
    return plain[tag.end() :] if tag else plain


@dataclass(frozen=True)
class LanguageSpec:
    """A language: its name (also the query file's stem), file extensions and grammar.

    ``grammar`` returns the tree-sitter language capsule (``tree_sitter_python.language()``);
    ``docstring`` turns the text of the ``@doc`` captures (joined by newlines) into plain text,
    by default taking the comment markers off doc comments. ``call_idioms`` names idioms known by
    what a file calls, each a named group matched against whole ``@call`` names: cheaper than a
    query predicate, which would be tested against every call of the file.
    """

    name: str
    extensions: tuple[str, ...]
    grammar: Callable[[], object]
    docstring: Callable[[str], str] = _comment_docstring
    call_idioms: re.Pattern[str] | None = None


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


_ECMASCRIPT_CALL_IDIOMS = re.compile(r"(?P<promise>then|Promise)|(?P<react_hook>use[A-Z]\w*)")

LANGUAGES: Mapping[str, LanguageSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            LanguageSpec("python", (".py",), _grammar("tree_sitter_python"), _python_docstring),
            LanguageSpec(
                "javascript",
                (".js", ".mjs", ".cjs", ".jsx"),
                _grammar("tree_sitter_javascript"),
                _jsdoc_docstring,
                call_idioms=_ECMASCRIPT_CALL_IDIOMS,
            ),
            LanguageSpec(
                "typescript",
                (".ts", ".mts", ".cts"),
                _grammar("tree_sitter_typescript", "language_typescript"),
                _jsdoc_docstring,
                call_idioms=_ECMASCRIPT_CALL_IDIOMS,
            ),
            LanguageSpec(
                "tsx",
                (".tsx",),
                _grammar("tree_sitter_typescript", "language_tsx"),
                _jsdoc_docstring,
                call_idioms=_ECMASCRIPT_CALL_IDIOMS,
            ),
            LanguageSpec("go", (".go",), _grammar("tree_sitter_go")),
            LanguageSpec(
                "java",
                (".java",),
                _grammar("tree_sitter_java"),
                call_idioms=re.compile(r"(?P<streams>stream|parallelStream)"),
            ),
            LanguageSpec("rust", (".rs",), _grammar("tree_sitter_rust")),
        )
    }
)
_BY_EXTENSION = {ext: spec for spec in LANGUAGES.values() for ext in spec.extensions}


def language_for_path(path: str) -> LanguageSpec | None:
    """The language of a file, by its extension (case-insensitive); None if none is registered."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")  # as PurePosixPath.suffix, without its cost: a leading dot is no suffix
    return _BY_EXTENSION.get(name[dot:].lower()) if dot > 0 else None


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


def compile_all() -> None:
    """Load every language's grammar and compile its extraction query now, as a worker starts
    (up to 50 ms a language), rather than while a push waits."""
    for name in LANGUAGES:
        parser_for(name)
        query_for(name)


_INHERITS = re.compile(r"; inherits: *([\w, ]+)")


def _query_text(name: str) -> str:
    """The text of ``<name>.scm``, after that of the queries its first line says it inherits."""
    text = files(__name__).joinpath(f"{name}.scm").read_text(encoding="utf-8")
    inherits = _INHERITS.match(text)
    parents = inherits.group(1).replace(",", " ").split() if inherits else []
    return "".join(_query_text(parent) + "\n" for parent in parents) + text
