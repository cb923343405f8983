import sys

import pytest

from training.metrics import (
    edit_similarity,
    exact_match,
    first_line,
    head_lines,
    identifiers,
    levenshtein,
    next_line_exact_match,
    observe_conventions,
    outline,
    run_tests,
    style_consistency,
    syntax_correct,
    syntax_kind,
    syntax_valid,
)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("kitten", "sitting", 3), ("", "abc", 3), ("flaw", "lawn", 2), ("same", "same", 0)],
)
def test_levenshtein_counts_edits(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance == levenshtein(b, a)


def test_edit_similarity_is_one_minus_normalized_distance() -> None:
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("abc", "") == 0.0
    assert edit_similarity("return x", "return x") == 1.0


def test_exact_and_next_line_match_ignore_surrounding_whitespace() -> None:
    assert exact_match("  x = 1\n", "x = 1")
    assert not exact_match("x = 1", "x = 2")
    assert first_line("\n\n    return total\n    pass") == "return total"
    assert first_line(" \n") == ""
    assert next_line_exact_match("\n  return a + b\nfoo", "return a + b\n    # else")
    assert not next_line_exact_match("return a - b", "return a + b")


def test_head_lines_keeps_line_breaks() -> None:
    assert head_lines("a\nb\nc\n", 2) == "a\nb\n"
    assert head_lines("a", 3) == "a"


def test_syntax_valid_parses_a_snippet_as_its_kind() -> None:
    assert syntax_valid("def f(x):\n    return x + 1\n", "python", "function")
    assert not syntax_valid("def f(x:\n    return x +\n", "python", "function")
    # a JavaScript method parses only inside a class: the "method" shell gives it one
    method = "total(items) {\n  return items.length;\n}"
    assert not syntax_valid(method, "javascript", "function")
    assert syntax_kind(method, "javascript") == "method"
    assert syntax_kind("def f(:", "python") is None


def test_outline_names_the_outermost_nodes_of_a_parsing_snippet() -> None:
    decorated = "# cached\n@property\ndef size(self):\n    return 1\n"
    assert outline(decorated, "python", "function") == ("decorated_definition",)
    assert outline("#[derive(Debug)]\nstruct P { x: i32 }", "rust", "class") == (
        "attribute_item",
        "struct_item",
    )
    assert outline("def f(:", "python", "function") is None


def test_syntax_correct_wants_the_same_kind_of_definition() -> None:
    reference = "def area(width, height):\n    return width * height\n"
    assert syntax_correct("def area(w, h):\n    return w * h\n", reference, "python")
    assert not syntax_correct("def area(w, h):\n    return w *\n", reference, "python")
    # parses, but an expression is no function
    assert not syntax_correct("area\n", reference, "python")
    method = "total(items) {\n  return items.length;\n}"
    assert syntax_correct("count() {\n  return 0;\n}", method, "javascript")
    assert syntax_correct("x = 1\n", "def broken(:\n", "python") is None


def test_identifiers_tell_types_from_values() -> None:
    code = "class OrderBook:\n    def add_order(self, newOrder):\n        return newOrder\n"
    found = set(identifiers(code, "python"))
    assert ("type", "OrderBook") in found
    assert {("value", "add_order"), ("value", "newOrder"), ("value", "self")} <= found
    assert ("type", "Price") in set(identifiers("fn f(p: Price) {}", "rust"))


def test_observe_conventions_takes_the_dominant_distinctive_convention() -> None:
    python = "def load_rows(file_name):\n    row_count = 0\n    maxSize = 1\n    return row_count\n"
    js = "function loadRows(fileName) { const rowCount = 0; return row_count; }"
    observed = observe_conventions([("python", python), ("javascript", js)])
    assert observed == {"python": {"value": "snake_case"}, "javascript": {"value": "camelCase"}}
    # one-word, constant and constructor names say nothing about a team's choice
    assert observe_conventions([("python", "x = Foo(LIMIT)\n")]) == {}


def test_style_consistency_judges_only_the_names_a_completion_introduces() -> None:
    team = {"value": "snake_case", "type": "PascalCase"}
    generated = "def total_price(itemList):\n    return sum(itemList) + shippingCost\n"
    # total_price follows the team, itemList does not; shippingCost comes from the prompt
    assert style_consistency(generated, "python", team, prompt="shippingCost = 3\n") == 0.5
    assert style_consistency(generated, "python", team) == pytest.approx(1 / 3)
    assert style_consistency("return x + LIMIT\n", "python", team) is None
    assert style_consistency("class order_book:\n    pass\n", "python", team) == 0.0
    assert style_consistency(generated, "python", {}) is None


def test_run_tests_reports_pass_fail_and_timeout() -> None:
    module = "def add(a, b):\n    return a + b\n"
    test = "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    files = {"calc.py": module, "tests/test_calc.py": test}
    assert run_tests(files, [*command, "tests/test_calc.py::test_add"], timeout=60)
    broken = {**files, "calc.py": module.replace("a + b", "a - b")}
    assert not run_tests(broken, [*command, "tests/test_calc.py::test_add"], timeout=60)
    sleep = [sys.executable, "-c", "import time; time.sleep(30)"]
    assert not run_tests({}, sleep, timeout=0.5)


def test_run_tests_refuses_paths_outside_its_folder() -> None:
    with pytest.raises(ValueError, match="relative path"):
        run_tests({"../escape.py": ""}, [sys.executable, "-c", "pass"], timeout=5)
