"""A snippet cut out of its file parses on its own, and its errors are placed on its own lines."""

import pytest

from streams.extract import extract_symbols
from streams.snippets import lost_indentation, parse_errors, parse_snippet, standalone

PYTHON_FILE = '''\
class Cache:
    def get(self, key, default=None):
        """Return the cached value.

Continuation lines of a docstring may sit left of the code.
        """
        if key not in self._data:
            return default
        return self._data[key]
'''

# Each case: language, kind, start column, snippet — methods as the extractor cuts them.
STANDALONE_CASES = {
    "python method": (
        "python",
        "method",
        4,
        "def size(self):\n        return len(self._data)",
    ),
    "python tabs": ("python", "method", 1, "def size(self):\n\t\treturn len(self._data)"),
    "java method": (
        "java",
        "method",
        4,
        "@Override\n    public int size() {\n        return data.size();\n    }",
    ),
    "java compact constructor": (
        "java",
        "method",
        4,
        "Point {\n        if (x < 0) throw new IllegalArgumentException();\n    }",
    ),
    "javascript method": (
        "javascript",
        "method",
        2,
        "static create() {\n    return new Cache();\n  }",
    ),
    "typescript method": (
        "typescript",
        "method",
        2,
        "private get<T>(key: string): T | undefined {\n    return this.data.get(key) as T;\n  }",
    ),
    "tsx method": (
        "tsx",
        "method",
        2,
        "render() {\n    return <div className={this.name}>{this.props.children}</div>;\n  }",
    ),
    "go method with a receiver": (
        "go",
        "method",
        0,
        "func (c *Cache) Get(key string) (string, bool) {\n"
        "\tv, ok := c.data[key]\n\treturn v, ok\n}",
    ),
    "go type spec from a group": ("go", "class", 1, "Entry struct {\n\t\tKey string\n\t}"),
    "rust fn in an impl": (
        "rust",
        "method",
        4,
        "pub fn get(&self, key: &str) -> Option<&String> {\n        self.data.get(key)\n    }",
    ),
}


@pytest.mark.parametrize("case", STANDALONE_CASES.values(), ids=STANDALONE_CASES.keys())
def test_snippets_parse_standalone_and_sit_verbatim_at_their_offset(
    case: tuple[str, str, int, str],
) -> None:
    language, kind, column, code = case
    whole = standalone(code, language, kind, column)

    assert whole.source[whole.offset : whole.end] == code.encode()
    assert parse_errors(code, language, kind, column) is None
    parsed = parse_snippet(code, language, kind, column)
    assert not parsed.tree.root_node.has_error
    assert parsed.line(whole.end - 1) == code.count("\n") + 1


def test_every_symbol_of_a_python_file_parses_standalone_however_it_is_indented() -> None:
    symbols = extract_symbols(PYTHON_FILE.encode(), "cache.py", "python").symbols
    lines = PYTHON_FILE.splitlines()

    for symbol in symbols:
        first = lines[symbol.start_line - 1]
        column = len(first) - len(first.lstrip())
        assert parse_errors(symbol.body, "python", symbol.kind, column) is None, symbol.name
    # The docstring line left of the method's indentation would defeat a dedent.
    assert any("\nContinuation" in symbol.body for symbol in symbols)


def test_the_first_line_gets_the_indentation_its_other_lines_use() -> None:
    assert lost_indentation(b"def f():\n\t\treturn 1", 1) == b"\t"
    assert lost_indentation(b"def f():\n        return 1", 4) == b"    "
    assert lost_indentation(b"def f(): return 1", 4) == b"    "  # nothing to copy: spaces


def test_a_method_only_parses_inside_the_class_shell() -> None:
    method = "static create() {\n    return new Cache();\n  }"
    assert parse_errors(method, "javascript", "method", 2) is None
    assert parse_errors(method, "javascript", "function", 2) == "syntax error at line 1, column 1"


def test_errors_are_placed_on_the_snippets_own_lines_and_columns() -> None:
    broken = "def total(self, items):\n        prices = [item.price for item in items\n"
    assert parse_errors(broken, "python", "method", 4) == "syntax error at line 2, column 9"
    go = "func add(a int, b int) int {\n\treturn a +\n}"
    error = parse_errors(go, "go", "function", 0)
    assert error is not None and error.startswith("syntax error at line 2")


def test_an_unclosed_body_is_reported_at_the_end_of_the_snippet() -> None:
    unclosed = "void run() {\n        if (ready) {\n            go();\n    }"
    assert parse_errors(unclosed, "java", "method", 4) == (
        "syntax error at line 4, column 6: missing '}'"
    )


def test_an_unknown_language_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="registered languages: go, java"):
        standalone("fn main() {}", "zig", "function", 0)
