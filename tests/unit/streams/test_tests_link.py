"""Linking the symbols of a commit to the tests that call them, in all six languages."""

import textwrap

import pytest

from streams.extract import Symbol, extract_symbols
from streams.languages import language_for_path
from streams.tests_link import is_test, is_test_file, related_tests


def _symbols(files: dict[str, str]) -> list[tuple[str, Symbol]]:
    """Every symbol of a commit's files, as the commit stage passes them."""
    pairs: list[tuple[str, Symbol]] = []
    for path, code in files.items():
        language = language_for_path(path)
        assert language is not None
        extraction = extract_symbols(textwrap.dedent(code).encode(), path, language.name)
        assert extraction.error is None, path
        pairs.extend((path, symbol) for symbol in extraction.symbols)
    return pairs


def _tests(files: dict[str, str]) -> dict[str, bool]:
    return {f"{p}::{s.qualified_name}": is_test(p, s) for p, s in _symbols(files)}


PYTHON = {
    "shop/parser.py": """\
        def parse(text):
            return Parser().feed(text)

        class Parser:
            def feed(self, text):
                return text
        """,
    "shop/lexer.py": """\
        class Lexer:
            def feed(self, text):
                return text
        """,
    "tests/test_parser.py": """\
        from shop.parser import Parser, parse

        def make():
            return Parser()

        def test_parse():
            assert parse("x") == "x"

        class TestParser:
            def test_feed(self):
                assert Parser().feed("y") == "y"

            def test_made(self):
                assert make().feed("z") == "z"
        """,
}


def test_python_tests_link_to_what_they_call() -> None:
    assert related_tests(_symbols(PYTHON)) == {
        ("shop/parser.py", "parse"): ["tests/test_parser.py::test_parse"],
        # `Parser()` is a call of the class; `feed` is the one of the class the test calls.
        ("shop/parser.py", "Parser"): ["tests/test_parser.py::TestParser.test_feed"],
        ("shop/parser.py", "Parser.feed"): [
            "tests/test_parser.py::TestParser.test_feed",
            "tests/test_parser.py::TestParser.test_made",
        ],
    }


def test_python_tests_are_test_functions_and_test_class_methods_in_test_files() -> None:
    assert _tests(PYTHON) == {
        "shop/parser.py::parse": False,
        "shop/parser.py::Parser": False,
        "shop/parser.py::Parser.feed": False,
        "shop/lexer.py::Lexer": False,
        "shop/lexer.py::Lexer.feed": False,
        "tests/test_parser.py::make": False,  # a helper, and in a test file: no target either
        "tests/test_parser.py::test_parse": True,
        "tests/test_parser.py::TestParser": False,  # the class holds tests, it is none
        "tests/test_parser.py::TestParser.test_feed": True,
        "tests/test_parser.py::TestParser.test_made": True,
    }
    production = {"app/health.py": "def test_connection():\n    return ping()\n"}
    assert _tests(production) == {"app/health.py::test_connection": False}


def test_an_ambiguous_name_with_nothing_shared_links_nothing() -> None:
    files = {
        "a/text.py": "def slugify(s):\n    return s\n",
        "b/text.py": "def slugify(s):\n    return s\n",
        "tests/test_misc.py": "def test_slug():\n    assert slugify('A') == 'a'\n",
    }
    assert related_tests(_symbols(files)) == {}
    named = {**files, "a/test_text.py": "def test_slug():\n    assert slugify('A') == 'a'\n"}
    # Named after text.py and beside a/text.py: the file in its own directory wins.
    assert related_tests(_symbols(named)) == {
        ("a/text.py", "slugify"): ["a/test_text.py::test_slug"]
    }


def test_go_tests_in_test_files() -> None:
    files = {
        "queue/queue.go": """\
            package queue

            func Push(q []int, v int) []int { return append(q, v) }
            """,
        "queue/queue_test.go": """\
            package queue

            import "testing"

            func pushed() []int { return Push(nil, 1) }

            func TestPush(t *testing.T) {
            \tif len(Push(nil, 1)) != 1 {
            \t\tt.Fatal("lost")
            \t}
            }

            func BenchmarkPush(b *testing.B) { pushed() }

            func Testing() {}

            func (s *QueueSuite) TestPushTwice() { Push(Push(nil, 1), 2) }
            """,
    }
    assert _tests(files) == {
        "queue/queue.go::Push": False,
        "queue/queue_test.go::pushed": False,
        "queue/queue_test.go::TestPush": True,
        "queue/queue_test.go::BenchmarkPush": True,
        "queue/queue_test.go::Testing": False,  # TestXxx needs no lowercase after Test
        "queue/queue_test.go::QueueSuite.TestPushTwice": True,  # a testify suite's test
    }
    assert related_tests(_symbols(files)) == {
        ("queue/queue.go", "Push"): [
            "queue/queue_test.go::TestPush",
            "queue/queue_test.go::QueueSuite.TestPushTwice",
        ]
    }


def test_java_methods_annotated_as_tests() -> None:
    files = {
        "src/main/java/shop/Parser.java": """\
            package shop;

            public class Parser {
              public int parse(String s) { return s.length(); }
            }
            """,
        "src/test/java/shop/ParserTest.java": """\
            package shop;

            import org.junit.jupiter.api.Test;

            class ParserTest {
              @Test
              void parsesEmpty() { assertEquals(0, new Parser().parse("")); }

              @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
              void parsesMany(String s) { new Parser().parse(s); }

              void helper() { new Parser(); }
            }
            """,
    }
    tests = [
        "src/test/java/shop/ParserTest.java::ParserTest.parsesEmpty",
        "src/test/java/shop/ParserTest.java::ParserTest.parsesMany",
    ]
    assert related_tests(_symbols(files)) == {
        ("src/main/java/shop/Parser.java", "Parser"): tests,
        ("src/main/java/shop/Parser.java", "Parser.parse"): tests,
    }


def test_rust_test_attributes_in_the_same_file() -> None:
    files = {
        "src/lib.rs": """\
            pub fn parse(s: &str) -> usize { s.len() }

            #[cfg(test)]
            mod tests {
                use super::*;

                #[test]
                fn parses() { assert_eq!(parse("ab"), 2); }

                #[tokio::test(flavor = "multi_thread")]
                async fn parses_async() { parse("a"); }
            }
            """,
    }
    assert related_tests(_symbols(files)) == {
        ("src/lib.rs", "parse"): ["src/lib.rs::parses", "src/lib.rs::parses_async"]
    }


def test_javascript_and_typescript_share_tests_and_languages_stay_apart() -> None:
    files = {
        "web/cart.js": "export function total(items) { return items.length; }\n",
        "web/cart.spec.ts": """\
            import { total } from "./cart";

            function checksEmptyCart(): void {
              expect(total([])).toBe(0);
            }

            describe("cart", () => {
              it("counts", () => expect(total([1])).toBe(1));
            });
            """,
        "tools/report.py": "def total(items):\n    return len(items)\n",
    }
    assert related_tests(_symbols(files)) == {
        ("web/cart.js", "total"): ["web/cart.spec.ts::checksEmptyCart"]
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_parser.py", True),
        ("pkg/parser_test.py", True),
        ("pkg/conftest.py", True),
        ("pkg/tests.py", True),
        ("pkg/parser.py", False),
        ("queue/queue_test.go", True),
        ("queue/queue.go", False),
        ("src/test/java/shop/ParserTest.java", True),
        ("src/main/java/shop/Parser.java", False),
        ("tests/integration.rs", True),
        ("src/lib.rs", False),
        ("web/cart.test.tsx", True),
        ("web/__tests__/cart.js", True),
        ("web/cart.ts", False),
        ("README.md", False),
    ],
)
def test_test_files_by_convention(path: str, expected: bool) -> None:
    assert is_test_file(path) is expected
