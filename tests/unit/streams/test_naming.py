"""The naming dataset: masked definitions → names, with the convention observed."""

from datetime import UTC, datetime

import pytest

from common.rows import CompletionExample
from streams.naming import is_teachable, mask_name, naming_convention, naming_example

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "convention"),
    [
        ("parse_header", "snake_case"),
        ("_private_helper", "snake_case"),
        ("parseHeader", "camelCase"),
        ("HttpClient", "PascalCase"),
        ("MAX_RETRIES", "UPPER_SNAKE"),
        ("render", "lowercase"),
        ("HTTPServer", "other"),
        ("Mixed_Style", "other"),
    ],
)
def test_conventions(name: str, convention: str) -> None:
    assert naming_convention(name) == convention


def test_masking_is_whole_word_and_covers_recursion() -> None:
    body = "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)  # factorial, not fact_check\n"
    masked = mask_name(body, "fact")
    assert masked.count("<NAME>") == 2
    assert "fact_check" in masked and "factorial" in masked


def test_dunders_and_tiny_names_are_not_taught() -> None:
    assert not is_teachable("__init__") and not is_teachable("f") and not is_teachable("_x")
    assert is_teachable("load") and is_teachable("_load_config")


def test_naming_example_from_a_go_method() -> None:
    example = CompletionExample(
        id="x",
        repo="acme/geo",
        commit="c" * 40,
        path="geo/point.go",
        symbol="Point.Dist",
        language="go",
        author_hash="h",
        committed_at=NOW,
        ingested_at=NOW,
        kind="method",
        signature="func (p Point) Dist(q Point) float64",
        body="// Dist is the distance.\nfunc (p Point) Dist(q Point) float64 {\n\treturn 0\n}",
        docstring="Dist is the distance.",
        start_line=3,
        end_line=6,
    )
    naming = naming_example(example)
    assert naming is not None
    assert (naming.name, naming.convention, naming.kind) == ("Dist", "PascalCase", "method")
    assert "Dist" not in naming.masked_body and naming.docstring == "<NAME> is the distance."
    assert naming.id != example.id and naming.symbol == "Point.Dist"
