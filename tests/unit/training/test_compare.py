import math

import numpy as np
import pytest

from training.compare import ComparisonResult, compare
from training.evaluation import QualityReport

N = 40  # held-out examples, all of them generated


def _report(
    accuracy: float,
    nll_per_token: float,
    syntax: float | None = 1.0,
    tests: float | None = None,
    seed: int = 0,
) -> QualityReport:
    """A report on N examples of 10 target tokens, whose figures follow from its per-example
    values as evaluate computes them; per-example noise around the given rates."""
    rng = np.random.default_rng(seed)
    tokens = np.full(N, 10.0)
    correct = np.clip(np.round(accuracy * 10 + rng.normal(0, 1, N)), 0, 10)
    nll = np.clip(nll_per_token * 10 + rng.normal(0, 1, N), 0, None)
    exact = (rng.random(N) < accuracy).astype(float)
    similarity = np.clip(accuracy + rng.normal(0, 0.05, N), 0, 1)
    syntax_values = np.full(N, math.nan) if syntax is None else (rng.random(N) < syntax) * 1.0
    test_values = np.full(N, math.nan)
    if tests is not None:
        test_values[:10] = rng.random(10) < tests
    latency = rng.uniform(10, 20, N)

    def mean(values: np.ndarray) -> float | None:
        judged = values[~np.isnan(values)]
        return float(judged.mean()) if judged.size else None

    return QualityReport(
        syntax_correctness=mean(syntax_values),
        semantic_accuracy=float(exact.mean()),
        style_consistency=None,
        test_pass_rate=mean(test_values),
        next_token_accuracy=float(correct.sum() / tokens.sum()),
        perplexity=math.exp(nll.sum() / tokens.sum()),
        next_line_exact_match=float(exact.mean()),
        edit_similarity=float(similarity.mean()),
        latency_ms_p50=float(np.percentile(latency, 50)),
        latency_ms_p95=float(np.percentile(latency, 95)),
        examples=N,
        generated=N,
        example_ids=[f"e{i}" for i in range(N)],
        generated_ids=[f"e{i}" for i in range(N)],
        per_example={
            "correct_tokens": correct.tolist(),
            "target_tokens": tokens.tolist(),
            "nll": nll.tolist(),
            "next_line_exact_match": exact.tolist(),
            "edit_similarity": similarity.tolist(),
            "syntax_correctness": syntax_values.tolist(),
            "style_consistency": [math.nan] * N,
            "test_pass": test_values.tolist(),
            "latency_ms": latency.tolist(),
        },
    )


def test_identical_reports_differ_by_nothing_and_are_not_blessed() -> None:
    report = _report(0.4, 2.0)
    result = compare(report, report, min_delta=0.01)
    for delta in result.deltas.values():
        assert delta.delta == delta.ci_low == delta.ci_high == 0.0
    assert not result.blessed
    assert result.reasons[0].startswith("fail: next-token accuracy")
    # an equal candidate is no improvement even with no margin asked
    assert not compare(report, report).blessed


def test_figures_are_recomputed_as_the_report_computes_them() -> None:
    candidate, baseline = _report(0.7, 1.0, seed=1), _report(0.4, 2.0, seed=2)
    result = compare(candidate, baseline)
    for name, delta in result.deltas.items():
        assert delta.candidate == pytest.approx(getattr(candidate, name))
        assert delta.baseline == pytest.approx(getattr(baseline, name))
        assert delta.delta == pytest.approx(delta.candidate - delta.baseline)
    assert "style_consistency" not in result.deltas  # neither report judged any example


def test_a_clearly_better_candidate_is_blessed_with_an_interval_above_zero() -> None:
    result = compare(_report(0.7, 1.0, seed=1), _report(0.4, 2.0, seed=2), min_delta=0.05)
    assert result.blessed, result.reasons
    accuracy = result.deltas["next_token_accuracy"]
    assert 0 < accuracy.ci_low <= accuracy.delta <= accuracy.ci_high
    assert result.deltas["perplexity"].ci_high < 0
    assert all(r.startswith("pass: ") for r in result.reasons)
    assert len(result.reasons) == 3  # accuracy, perplexity, syntax (no tests judged)


def test_a_syntax_regression_beyond_the_noise_blocks_blessing() -> None:
    result = compare(_report(0.7, 1.0, syntax=0.3, seed=1), _report(0.4, 2.0, seed=2))
    assert not result.blessed
    assert result.deltas["syntax_correctness"].ci_high < 0
    assert [r for r in result.reasons if r.startswith("fail")] == [
        r for r in result.reasons if "syntax correctness" in r
    ]


def test_a_test_pass_rate_regression_blocks_blessing() -> None:
    result = compare(_report(0.7, 1.0, tests=0.0, seed=1), _report(0.4, 2.0, tests=1.0, seed=2))
    assert result.deltas["test_pass_rate"].delta == -1.0
    assert not result.blessed
    assert any(r.startswith("fail: test pass rate") for r in result.reasons)


def test_perplexity_may_rise_only_as_far_as_the_ratio_allows() -> None:
    candidate, baseline = _report(0.7, 2.5, seed=1), _report(0.4, 2.0, seed=2)
    assert not compare(candidate, baseline).blessed
    assert compare(candidate, baseline, max_perplexity_ratio=2.0).blessed


def test_missing_syntax_figures_skip_that_check() -> None:
    result = compare(_report(0.7, 1.0, syntax=None, seed=1), _report(0.4, 2.0, seed=2))
    assert "syntax_correctness" not in result.deltas
    assert result.blessed and len(result.reasons) == 2


def test_the_bootstrap_is_seeded_and_the_result_round_trips() -> None:
    candidate, baseline = _report(0.6, 1.5, seed=1), _report(0.5, 1.8, seed=2)
    first = compare(candidate, baseline, resamples=200, seed=3)
    assert first == compare(candidate, baseline, resamples=200, seed=3)
    assert ComparisonResult.model_validate_json(first.model_dump_json()) == first


def test_reports_on_different_examples_cannot_be_paired() -> None:
    report = _report(0.4, 2.0)
    other = report.model_copy(update={"example_ids": list(reversed(report.example_ids))})
    with pytest.raises(ValueError, match="same held-out texts"):
        compare(report, other)
    with pytest.raises(ValueError, match="at least one"):
        compare(report, report, resamples=0)
