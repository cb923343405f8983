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
    "receiver",
    "doc",
    "import",
    "decorator",
    "module.doc",
    "call",
    "branch",
    "nest",
    "else_if",
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
        ("web/app.js", "javascript"),
        ("web/app.jsx", "javascript"),
        ("web/api.ts", "typescript"),
        ("web/App.tsx", "tsx"),
        ("main.go", "go"),
        ("Main.java", "java"),
        ("src/lib.rs", "rust"),
        ("style.css", None),
        ("header.h", None),
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
    idioms = {c for c in captures if c.startswith("idiom.")}
    helpers = {c for c in captures if c.startswith("_")}  # only tested by predicates
    assert idioms and captures - idioms - helpers <= KNOWN_CAPTURES
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


def test_every_registered_language_parses_a_file_of_its_own() -> None:
    sources = {
        "python": b"def f():\n    pass\n",
        "javascript": b"function f() {}\n",
        "typescript": b"function f(): void {}\n",
        "tsx": b"const f = () => <div />;\n",
        "go": b"package p\n\nfunc f() {}\n",
        "java": b"class A { void f() {} }\n",
        "rust": b"fn f() {}\n",
    }
    assert set(sources) == set(LANGUAGES)
    for name, source in sources.items():
        assert not parser_for(name).parse(source).root_node.has_error, name


def test_a_query_includes_the_queries_its_first_line_says_it_inherits() -> None:
    def text(name: str) -> str:
        return files("streams.languages").joinpath(f"{name}.scm").read_text(encoding="utf-8")

    assert text("javascript").startswith("; inherits: ecmascript, jsx\n")
    assert text("typescript").startswith("; inherits: ecmascript\n")
    assert text("tsx").startswith("; inherits: typescript, jsx\n")
    javascript, typescript, tsx = (query_for(n) for n in ("javascript", "typescript", "tsx"))
    assert typescript.pattern_count > javascript.pattern_count
    assert tsx.pattern_count == typescript.pattern_count + 1  # jsx.scm's one pattern


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("/** One line. */", "One line."),
        (
            "/**\n * Summary.\n *\n * @param x  the x\n *     indented\n */",
            "Summary.\n\n@param x  the x\n    indented",
        ),
        ("/**\n    No stars.\n      Deeper.\n */", "No stars.\n  Deeper."),
        ("/// Rust doc.\n///\n/// More.", "Rust doc.\n\nMore."),
        ("// Go doc.\n// Second line.", "Go doc.\nSecond line."),
        ("/* Block. */", "Block."),
    ],
)
def test_comment_docstrings_lose_their_markers(raw: str, plain: str) -> None:
    assert get_language("go").docstring(raw) == plain
