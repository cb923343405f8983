from importlib.resources import files

import pytest
from tree_sitter import Parser, Query

from streams.languages import (
    LANGUAGES,
    LanguageSpec,
    get_language,
    language_for_path,
    parser_for,
    query_for,
)

# The capture names streams.extract understands; a query using others has a typo.
KNOWN_CAPTURES = {
    "definition.function",
    "definition.method",
    "definition.class",
    "name",
    "header.end",
    "span",
    "doc",
    "import",
}
REGISTERED = sorted(LANGUAGES)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.py", "python"),
        ("src/pkg/module.py", "python"),
        ("LEGACY.PY", "python"),
        ("pkg.v2/setup.py", "python"),
        ("notes.txt", None),
        ("Makefile", None),
        (".py", None),
        ("stub.pyi", None),
        ("script.py.orig", None),
    ],
)
def test_language_for_path_goes_by_extension(path: str, expected: str | None) -> None:
    spec = language_for_path(path)
    assert (spec.name if spec else None) == expected


def test_get_language_names_the_known_ones_when_asked_for_another() -> None:
    assert get_language("python").extensions == (".py",)
    with pytest.raises(ValueError, match=r"unknown language 'klingon'.*python"):
        get_language("klingon")


def test_spec_is_immutable() -> None:
    spec = get_language("python")
    assert isinstance(spec, LanguageSpec)
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("name", REGISTERED)
def test_every_language_has_a_query_with_known_captures(name: str) -> None:
    assert files("streams.languages").joinpath(f"{name}.scm").is_file()
    query = query_for(name)
    captures = {query.capture_name(i) for i in range(query.capture_count)}
    assert captures <= KNOWN_CAPTURES
    assert {"name", "header.end", "import"} <= captures
    assert captures & {"definition.function", "definition.method", "definition.class"}


@pytest.mark.parametrize("name", REGISTERED)
def test_parsers_and_queries_are_built_once(name: str) -> None:
    assert isinstance(parser_for(name), Parser) and parser_for(name) is parser_for(name)
    assert isinstance(query_for(name), Query) and query_for(name) is query_for(name)


def test_python_docstring_hook_evaluates_the_literal() -> None:
    docstring = get_language("python").docstring
    assert docstring('"""\n    Hello\n      world\n    """') == "Hello\n  world"
    assert docstring("r'a\\b'") == "a\\b"
    assert docstring("'a' 'b'") == "ab"
    assert docstring('f"x{y}"') == ""
    assert docstring('b"bytes"') == ""
