"""The drift monitor's judgement on real code: Python against Go drifts, two samples of the same
code do not, acceptance falling is performance drift; Evidently computes every verdict."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.settings import DriftSettings
from tests.support.gitrepo import go_source, module_source
from training.drift import (
    category_distance,
    drift_scores,
    judge_data,
    judge_performance,
    judge_predictions,
    split_feedback,
)
from training.drift_features import example_features, rates, text_features

START = datetime(2026, 1, 1, tzinfo=UTC)


def functions(source: str, marker: str) -> list[str]:
    """The top-level functions of a generated module, split on their first line."""
    chunks = source.split(marker)[1:]
    return [marker + chunk.split("\n\n")[0] for chunk in chunks]


def rows(language: str, count: int, seed: int = 0) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    index = seed * 1000
    while len(made) < count:
        if language == "python":
            codes = functions(module_source(index), "def ")
        else:
            codes = functions(go_source(index), "func ")
        for code in codes:
            signature, _, body = code.partition("\n")
            made.append(
                {
                    "id": f"{language}-{index}-{len(made)}",
                    "language": language,
                    "category": "utility",
                    "kind": "function",
                    "signature": signature,
                    "body": body,
                    "cyclomatic": 1 if language == "python" else 4,
                    "nesting_depth": 0 if language == "python" else 3,
                    "augmentation": "",
                    "ingested_at": START + timedelta(seconds=len(made)),
                }
            )
        index += 1
    return made[:count]


def test_identifier_style_and_tokens_tell_python_from_go() -> None:
    python = text_features("def total_price(item_count):\n    return item_count * unit_price\n")
    go = text_features("func totalPrice(itemCount int) int {\n\treturn itemCount * unitPrice\n}")
    assert python["snake_share"] > 0.5 and python["camel_share"] == 0
    assert go["camel_share"] >= 0.5 and go["snake_share"] == 0
    assert go["symbol_share"] > python["symbol_share"]
    assert python["lines"] == 2 and go["lines"] == 3


def test_a_new_language_and_style_is_data_drift() -> None:
    judged = judge_data(rows("python", 300), rows("go", 120), DriftSettings())
    assert judged.drift
    assert {"language", "camel_share", "snake_share"} <= set(judged.drifted)
    assert judged.share >= DriftSettings().share
    assert judged.snapshot is not None  # Evidently's run, for the HTML report and workspace


def test_two_samples_of_the_same_code_are_not_drift() -> None:
    everything = rows("python", 600)
    random.Random(0).shuffle(everything)
    judged = judge_data(everything[:400], everything[400:480], DriftSettings())
    assert not judged.drift, judged.drifted
    assert judged.share < DriftSettings().share


def test_too_few_rows_gives_no_verdict_and_says_why() -> None:
    judged = judge_data(rows("python", 300), rows("go", 10), DriftSettings(min_rows=50))
    assert not judged.drift and judged.snapshot is None
    assert "10 current rows" in judged.note and "50" in judged.note


def feedback(kinds: list[str], shown: str = "return a + b") -> list[dict[str, Any]]:
    return [
        {
            "model_version": "0.1.0",
            "kind": kind,
            "prompt": "def add(a, b):\n",
            "original": shown,
            "received_at": START + timedelta(minutes=i),
        }
        for i, kind in enumerate(kinds)
    ]


def test_acceptance_falling_is_performance_drift() -> None:
    settings = DriftSettings(min_feedback=20, acceptance_drop=0.15)
    before = feedback(["accept"] * 30 + ["reject"] * 10)
    after = feedback(["accept"] * 15 + ["correction"] * 25)
    judged = judge_performance(before, after, settings)
    assert judged.drift
    assert judged.figures["acceptance_reference"] == pytest.approx(0.75)
    assert judged.figures["acceptance_current"] == pytest.approx(0.375)
    assert set(judged.drifted) == {"acceptance_drop", "corrections_rise"}
    steady = judge_performance(before, feedback(["accept"] * 29 + ["reject"] * 11), settings)
    assert not steady.drift


def test_performance_needs_enough_verdicts_and_ratings_do_not_count() -> None:
    few = feedback(["accept"] * 5 + ["rating"] * 40)
    assert rates(few) == {"acceptance": 1.0, "corrections": 0.0, "verdicts": 5.0}
    judged = judge_performance(few, few, DriftSettings(min_feedback=20))
    assert not judged.drift and "fewer than 20" in judged.note


def test_prediction_drift_on_what_the_model_answered() -> None:
    python = [r["body"] for r in rows("python", 80)]
    go = [r["body"] for r in rows("go", 80)]
    before = [{**f, "original": python[i]} for i, f in enumerate(feedback(["accept"] * 80))]
    after = [{**f, "original": go[i]} for i, f in enumerate(feedback(["reject"] * 80))]
    judged = judge_predictions(before, after, DriftSettings(min_feedback=20))
    assert judged.drift and "verdict" in judged.drifted


def test_feedback_splits_into_the_models_baseline_and_its_recent_window() -> None:
    rows_ = feedback(["accept"] * 10)[::-1]  # any order in, oldest first out
    baseline, recent = split_feedback(rows_, window=3)
    assert [r["received_at"] for r in baseline] == [START + timedelta(minutes=i) for i in range(3)]
    assert [r["received_at"] for r in recent] == [
        START + timedelta(minutes=i) for i in range(7, 10)
    ]


def test_scores_are_read_from_evidentlys_value_drift_metrics() -> None:
    result = {
        "metrics": [
            {"config": {"type": "evidently:metric_v2:DriftedColumnsCount"}, "value": {}},
            {"config": {"type": "evidently:metric_v2:ValueDrift", "column": "lines"}, "value": 0.3},
        ]
    }
    assert drift_scores(result) == {"lines": 0.3}


def test_category_distance_is_zero_for_the_same_mix_and_grows_with_change() -> None:
    import pandas as pd

    same = category_distance(pd.Series(["a", "b"] * 50), pd.Series(["b", "a"] * 20))
    moved = category_distance(pd.Series(["a"] * 90 + ["b"] * 10), pd.Series(["b"] * 100))
    assert same == pytest.approx(0.0)
    assert moved > 0.5


def test_example_features_fill_missing_labels() -> None:
    features = example_features({"signature": "def f():", "body": "    pass"})
    assert features["language"] == "unknown" and features["code"] == "def f():\n    pass"


def test_a_model_less_sure_of_itself_is_prediction_drift() -> None:
    code = [r["body"] for r in rows("python", 80)]
    sure = [
        {**f, "original": code[i], "confidence": 0.9 + (i % 5) / 100}
        for i, f in enumerate(feedback(["accept"] * 80))
    ]
    unsure = [{**r, "confidence": r["confidence"] - 0.5} for r in sure]
    judged = judge_predictions(sure, unsure, DriftSettings(min_feedback=20))
    assert "confidence" in judged.scores and "confidence" in judged.drifted
    older = [{**r, "confidence": None} for r in sure]  # rows from before confidence was kept
    assert "confidence" not in judge_predictions(older, unsure, DriftSettings()).scores
