import ast
import dataclasses
import inspect
import json.decoder
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from streams.extract import Extraction, Symbol, extract_symbols

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _extract(code: str, context_lines: int = 30) -> Extraction:
    return extract_symbols(textwrap.dedent(code).encode(), "example.py", "python", context_lines)


def _by_name(extraction: Extraction) -> dict[str, Symbol]:
    assert extraction.error is None
    return {s.qualified_name: s for s in extraction.symbols}


def _ast_definitions(tree: ast.Module) -> list[tuple[str, Definition, str]]:
    """Every definition with its qualified name and the kind the extractor should report."""
    found: list[tuple[str, Definition, str]] = []

    def walk(node: ast.AST, prefix: str, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, Definition):
                name = prefix + child.name
                is_class = isinstance(child, ast.ClassDef)
                kind = "class" if is_class else "method" if in_class else "function"
                found.append((name, child, kind))
                walk(child, name + ".", is_class)
            else:
                walk(child, prefix, in_class)

    walk(tree, "", False)
    return found


STDLIB_MODULES = [json.decoder, textwrap, dataclasses, inspect, ast]


@pytest.mark.parametrize("module", STDLIB_MODULES, ids=lambda m: m.__name__)
def test_stdlib_module_agrees_with_ast(module: ModuleType) -> None:
    path = inspect.getsourcefile(module)
    assert path is not None
    source = Path(path).read_bytes()
    text = source.decode()
    lines = text.splitlines()
    tree = ast.parse(source)
    extraction = extract_symbols(source, path, "python")

    assert extraction.error is None
    assert (extraction.path, extraction.language) == (path, "python")
    expected = _ast_definitions(tree)
    symbols = {(s.qualified_name, s.start_line): s for s in extraction.symbols}
    assert len(symbols) == len(extraction.symbols) == len(expected)
    starts = [s.start_line for s in extraction.symbols]
    assert starts == sorted(starts)
    imports = [
        ast.get_source_segment(text, n)
        for n in tree.body
        if isinstance(n, ast.Import | ast.ImportFrom)
    ]
    assert imports

    for name, node, kind in expected:
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        symbol = symbols[name, first]
        assert (symbol.kind, symbol.start_line, symbol.end_line) == (kind, first, node.end_lineno)
        assert symbol.name == node.name
        assert symbol.docstring == (ast.get_docstring(node) or "")
        assert symbol.imports == imports
        assert symbol.context == "\n".join(lines[max(0, first - 31) : first - 1])
        # The body is the exact source of the definition, decorators included.
        assert node.end_lineno is not None and node.end_col_offset is not None
        start_col = min([node.col_offset] + [d.col_offset - 1 for d in node.decorator_list])
        span = lines[first - 1 : node.end_lineno]
        span[-1] = span[-1][: node.end_col_offset]
        span[0] = span[0][start_col:]
        assert symbol.body == "\n".join(span)
        # The signature is a complete header: add a body and it parses to the same definition.
        assert symbol.signature.startswith(("def ", "async def ", "class "))
        header = ast.parse(symbol.signature + " ...").body[0]
        assert isinstance(header, type(node)) and header.name == node.name
        parent = name.rpartition(".")[0]
        if kind == "method":
            assert symbol.enclosing_class == parent
        if kind == "function" and not parent:
            assert symbol.enclosing_class == ""


def test_decorators_belong_to_the_definition_not_the_signature() -> None:
    symbols = _by_name(
        _extract(
            """\
            import functools

            @functools.cache
            @other(
                1,
            )
            def f(x: int) -> int:
                return x
            """
        )
    )
    f = symbols["f"]
    assert (f.start_line, f.end_line) == (3, 8)
    assert f.body.startswith("@functools.cache\n@other(") and f.body.endswith("return x")
    assert f.signature == "def f(x: int) -> int:"
    assert f.context == "import functools\n"
    assert f.imports == ["import functools"]


def test_async_and_multiline_signatures() -> None:
    symbols = _by_name(
        _extract(
            """\
            class Client:
                async def fetch(
                    self,
                    url: str,  # where
                    key=lambda: 1,
                ) -> bytes:  # not part of the signature
                    '''Fetch ``url``.

                    Returns the body.
                    '''
                    return b""
            """
        )
    )
    fetch = symbols["Client.fetch"]
    assert fetch.kind == "method" and fetch.enclosing_class == "Client"
    assert fetch.signature.startswith("async def fetch(\n        self,")
    assert fetch.signature.endswith(") -> bytes:")
    assert fetch.docstring == "Fetch ``url``.\n\nReturns the body."


def test_nesting_gives_qualified_names_kinds_and_enclosing_classes() -> None:
    symbols = _by_name(
        _extract(
            """\
            class Outer(Base, metaclass=Meta):
                class Inner:
                    def method(self):
                        def helper():
                            class Local:
                                def deep(self): ...
                        return helper

                @staticmethod
                def static():
                    pass

            def outer():
                def inner():
                    pass
            """
        )
    )
    assert {n: (s.kind, s.enclosing_class) for n, s in symbols.items()} == {
        "Outer": ("class", ""),
        "Outer.Inner": ("class", "Outer"),
        "Outer.Inner.method": ("method", "Outer.Inner"),
        "Outer.Inner.method.helper": ("function", "Outer.Inner"),
        "Outer.Inner.method.helper.Local": ("class", "Outer.Inner"),
        "Outer.Inner.method.helper.Local.deep": ("method", "Outer.Inner.method.helper.Local"),
        "Outer.static": ("method", "Outer"),
        "outer": ("function", ""),
        "outer.inner": ("function", ""),
    }
    assert symbols["Outer"].signature == "class Outer(Base, metaclass=Meta):"
    assert symbols["Outer.static"].start_line == 9
    assert symbols["outer.inner"].name == "inner"


def test_docstrings_follow_python_rules() -> None:
    symbols = _by_name(
        _extract(
            '''\
            def plain():
                # a comment first is fine
                """  Indented
                    text.
                """

            def raw():
                r"""a\\b"""

            def joined():
                "one " "two"

            def formatted():
                f"not a docstring"

            def data():
                b"not a docstring"

            def late():
                x = 1
                "not a docstring"

            def pair():
                "not", "a docstring"

            class Documented:
                """Class doc."""
            '''
        )
    )
    assert {n: s.docstring for n, s in symbols.items()} == {
        "plain": "Indented\ntext.",
        "raw": "a\\b",
        "joined": "one two",
        "formatted": "",
        "data": "",
        "late": "",
        "pair": "",
        "Documented": "Class doc.",
    }


def test_trailing_comments_are_not_part_of_the_body() -> None:
    symbols = _by_name(
        _extract(
            """\
            def f():
                if x:
                    return 1
                    # after the return
                # end of f

            # a comment about g
            def g(): pass
            """
        )
    )
    assert symbols["f"].end_line == 3 and symbols["f"].body.endswith("return 1")
    assert symbols["g"].context.endswith("# end of f\n\n# a comment about g")


def test_context_is_limited_to_the_lines_asked_for() -> None:
    code = "x = 1\ny = 2\nz = 3\n\ndef f():\n    pass\n"
    assert _by_name(_extract(code, context_lines=2))["f"].context == "z = 3\n"
    assert _by_name(_extract(code, context_lines=0))["f"].context == ""
    assert _by_name(_extract("def f(): pass\n"))["f"].context == ""
    crlf = extract_symbols(code.replace("\n", "\r\n").encode(), "w.py", "python", 2)
    assert crlf.symbols[0].context == "z = 3\r\n"


def test_imports_are_module_level_only() -> None:
    symbols = _by_name(
        _extract(
            """\
            from __future__ import annotations
            import os, sys
            from typing import (
                Any,
            )

            def f():
                import json
            """
        )
    )
    assert symbols["f"].imports == [
        "from __future__ import annotations",
        "import os, sys",
        "from typing import (\n    Any,\n)",
    ]


def test_a_syntax_error_yields_its_location_and_no_symbols() -> None:
    extraction = _extract(
        """\
        def fine():
            pass

        def broken(:
            pass
        """
    )
    assert extraction.symbols == []
    assert extraction.error is not None and extraction.error.startswith("syntax error at line 4,")

    unclosed = _extract("def ok():\n    pass\n\nx = [1,\n")
    assert unclosed.symbols == [] and unclosed.error is not None
    assert unclosed.error.startswith("syntax error at line 4, column ")


def test_the_error_column_counts_characters() -> None:
    extraction = extract_symbols("x = f('ééé', 1 +)\n".encode(), "e.py", "python")
    assert extraction.error == "syntax error at line 1, column 16"


def test_invalid_utf8_is_an_error_naming_the_byte() -> None:
    extraction = extract_symbols(b"def f():\n    return '\xe9'\n", "latin.py", "python")
    assert extraction.symbols == []
    assert extraction.error == "not valid UTF-8 at byte 21"


def test_empty_and_definition_free_files_have_no_symbols_and_no_error() -> None:
    for source in (b"", b"\n\n", b"# just a comment\nx = 1\n", b"\xef\xbb\xbf"):
        extraction = extract_symbols(source, "empty.py", "python")
        assert extraction.symbols == [] and extraction.error is None


def test_a_byte_order_mark_does_not_leak_into_symbols() -> None:
    extraction = extract_symbols(b"\xef\xbb\xbfimport os\ndef f(): pass\n", "bom.py", "python")
    (symbol,) = extraction.symbols
    assert symbol.imports == ["import os"] and symbol.body == "def f(): pass"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'cobol'"):
        extract_symbols(b"", "x.cbl", "cobol")
