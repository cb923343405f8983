"""The validate stage: length bounds, parse checks, label consistency, de-duplication keys."""

from datetime import UTC, datetime

from common.rows import CompletionExample, ErrorFixExample, NamingExample
from streams.validate import Bounds, check_code, check_labels, content_hash, fingerprint, lsh_bands

NOW = datetime(2026, 1, 1, tzinfo=UTC)

FUNCTION = """def moving_average(values, window):
    if window <= 0:
        raise ValueError("window must be positive")
    averages = []
    total = 0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        if index >= window - 1:
            averages.append(total / window)
    return averages
"""


def test_content_hash_ignores_layout_but_not_tokens() -> None:
    assert content_hash(FUNCTION) == content_hash(FUNCTION.replace("    ", "\t") + "\n\n")
    assert content_hash(FUNCTION) != content_hash(FUNCTION.replace("total", "acc"))


def test_lsh_bands_collide_for_near_duplicates_only() -> None:
    base = set(lsh_bands(FUNCTION))
    one_line_more = FUNCTION.replace(
        "    return averages", "    log(averages)\n    return averages"
    )
    assert base & set(lsh_bands(one_line_more))
    unrelated = 'func Greet(name string) string {\n\treturn fmt.Sprintf("hi %s", name)\n}\n'
    assert not base & set(lsh_bands(unrelated))
    assert fingerprint(FUNCTION) == (content_hash(FUNCTION), lsh_bands(FUNCTION))
    assert len(base) == 8


def test_check_code_bounds_and_parse() -> None:
    assert check_code(FUNCTION, "python", "function") is None
    assert "too short" in (check_code("def f(): 1", "python", "function") or "")
    assert "too long" in (
        check_code(FUNCTION, "python", "function", bounds=Bounds(max_chars=50)) or ""
    )
    assert "lines" in (check_code(FUNCTION, "python", "function", bounds=Bounds(max_lines=5)) or "")
    broken = FUNCTION.replace("for index, value in", "for index value in")
    assert "does not parse" in (check_code(broken, "python", "function") or "")
    # A verbatim slice of a file that parsed is not parsed again.
    assert check_code(broken, "python", "function", verbatim=True) is None
    method = "public int size() {\n        return items.size();\n    }"
    assert check_code(method, "java", "method", start_column=4) is None


def completion(**fields: object) -> CompletionExample:
    base: dict[str, object] = dict(
        id="i",
        repo="r",
        commit="c",
        path="pkg/stats.py",
        symbol="moving_average",
        language="python",
        author_hash="h",
        committed_at=NOW,
        ingested_at=NOW,
        kind="function",
        signature="def moving_average(values, window):",
        body=FUNCTION,
        start_line=1,
        end_line=12,
    )
    return CompletionExample(**{**base, **fields})  # type: ignore[arg-type]


def test_check_labels() -> None:
    assert check_labels(completion()) is None
    assert "path says" in (check_labels(completion(language="go")) or "")
    assert "after end line" in (check_labels(completion(start_line=20)) or "")
    assert "enclosing class" in (check_labels(completion(kind="method")) or "")
    assert "outside the body" in (check_labels(completion(fim_spans=[[5, 10_000]])) or "")
    shared = {k: v for k, v in completion().model_dump().items() if k in NamingExample.model_fields}
    shared.pop("dataset")
    named = NamingExample(
        **{
            **shared,
            "concept": "def <NAME>(values, window): ...",
            "name": "moving_average",
            "convention": "snake_case",
            "source_id": "i",
        }
    )
    assert check_labels(named) is None
    leaked = named.model_copy(update={"concept": "moving_average(values)"})
    assert "not masked" in (check_labels(leaked) or "")
    fix = ErrorFixExample(
        **{
            **shared,
            "buggy": FUNCTION,
            "fixed": FUNCTION,
            "error_type": "off_by_one",
            "explanation": "",
            "source_id": "i",
        }
    )
    assert "the same" in (check_labels(fix) or "")
