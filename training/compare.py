"""Compare a candidate model's quality report with a baseline's, and decide whether to bless it.

The two reports must come from the same held-out examples in the same order (the same texts and
seed given to :func:`training.evaluation.evaluate`), so every difference is *paired*: each of
``resamples`` bootstrap draws picks examples with replacement and recomputes both models' figure
on the same picks; the 2.5th and 97.5th percentiles of the differences are the 95% confidence
interval. A figure is recomputed as the report computes it: next-token accuracy and perplexity
from token sums over the held-out examples (a ratio of sums, not a mean of ratios), the
generation rates as means over the generated examples each report judged, latency as a median.

Blessing, as TFX's evaluator validates a model (value thresholds on the candidate against the
baseline), needs all of:

1. next-token accuracy above the baseline's by more than ``min_delta``;
2. perplexity at most the baseline's times ``max_perplexity_ratio``;
3. syntax correctness and test pass rate (where both reports have them) not worse beyond the
   noise: the upper end of the difference's confidence interval is not below 0.

``reasons`` says, one sentence per check, how each went.
"""

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from training.evaluation import QualityReport

Floats = npt.NDArray[np.float64]
Indices = npt.NDArray[np.int64]
Statistic = Callable[[dict[str, Floats], Indices], Floats]
NOT_WORSE = ("syntax_correctness", "test_pass_rate")


class MetricDelta(BaseModel):
    """A figure of both models, their difference (candidate - baseline) and its 95% interval
    (NaN where no resample judged an example)."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")

    candidate: float
    baseline: float
    delta: float
    ci_low: float
    ci_high: float


class ComparisonResult(BaseModel):
    """The paired differences per figure, and whether the candidate is blessed (and why)."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")

    deltas: dict[str, MetricDelta]
    blessed: bool
    reasons: list[str]
    resamples: int
    examples: int
    generated: int


def _ratio(numerator: str, denominator: str) -> Statistic:
    def statistic(values: dict[str, Floats], idx: Indices) -> Floats:
        total = values[denominator][idx].sum(axis=-1)
        return np.asarray(values[numerator][idx].sum(axis=-1) / np.where(total > 0, total, np.nan))

    return statistic


def _perplexity(values: dict[str, Floats], idx: Indices) -> Floats:
    mean_nll = _ratio("nll", "target_tokens")(values, idx)
    return np.asarray(np.exp(np.minimum(mean_nll, 700.0)), dtype=np.float64)


def _mean(key: str) -> Statistic:
    def statistic(values: dict[str, Floats], idx: Indices) -> Floats:
        picked = values[key][idx]
        judged = ~np.isnan(picked)
        count = judged.sum(axis=-1)
        return np.asarray(
            np.where(judged, picked, 0.0).sum(axis=-1) / np.where(count > 0, count, np.nan)
        )

    return statistic


def _median(key: str) -> Statistic:
    def statistic(values: dict[str, Floats], idx: Indices) -> Floats:
        return np.asarray(np.median(values[key][idx], axis=-1), dtype=np.float64)

    return statistic


# figure → (computed over the generated examples?, how it is computed from per-example values)
STATISTICS: dict[str, tuple[bool, Statistic]] = {
    "next_token_accuracy": (False, _ratio("correct_tokens", "target_tokens")),
    "perplexity": (False, _perplexity),
    "next_line_exact_match": (True, _mean("next_line_exact_match")),
    "edit_similarity": (True, _mean("edit_similarity")),
    "syntax_correctness": (True, _mean("syntax_correctness")),
    "style_consistency": (True, _mean("style_consistency")),
    "test_pass_rate": (True, _mean("test_pass")),
    "latency_ms_p50": (True, _median("latency_ms")),
}


def compare(
    candidate: QualityReport,
    baseline: QualityReport,
    *,
    resamples: int = 1000,
    seed: int = 0,
    min_delta: float = 0.0,
    max_perplexity_ratio: float = 1.0,
) -> ComparisonResult:
    """The paired comparison of two reports on the same examples (see the module doc)."""
    _check_paired(candidate, baseline, resamples)
    rng = np.random.default_rng(seed)
    draws = {
        False: rng.integers(0, candidate.examples, size=(resamples, candidate.examples)),
        True: rng.integers(0, candidate.generated, size=(resamples, candidate.generated)),
    }
    ours, theirs = _arrays(candidate), _arrays(baseline)
    deltas: dict[str, MetricDelta] = {}
    for name, (generated, statistic) in STATISTICS.items():
        if getattr(candidate, name) is None or getattr(baseline, name) is None:
            continue
        every = np.arange(candidate.generated if generated else candidate.examples)
        ours_value, theirs_value = statistic(ours, every), statistic(theirs, every)
        differences = statistic(ours, draws[generated]) - statistic(theirs, draws[generated])
        low, high = _interval_bounds(differences)
        deltas[name] = MetricDelta(
            candidate=float(ours_value),
            baseline=float(theirs_value),
            delta=float(ours_value - theirs_value),
            ci_low=low,
            ci_high=high,
        )
    checks = _checks(deltas, min_delta, max_perplexity_ratio)
    return ComparisonResult(
        deltas=deltas,
        blessed=all(passed for passed, _ in checks),
        reasons=[f"{'pass' if passed else 'fail'}: {why}" for passed, why in checks],
        resamples=resamples,
        examples=candidate.examples,
        generated=candidate.generated,
    )


def _check_paired(candidate: QualityReport, baseline: QualityReport, resamples: int) -> None:
    if resamples < 1:
        raise ValueError(f"resamples is {resamples}; draw at least one bootstrap sample")
    if (
        candidate.example_ids != baseline.example_ids
        or candidate.generated_ids != baseline.generated_ids
    ):
        raise ValueError(
            "the reports are not on the same examples in the same order: evaluate both models "
            "on the same held-out texts with the same seed and generate_examples"
        )


def _interval_bounds(differences: Floats) -> tuple[float, float]:
    """The 95% percentile interval of the resampled differences that are defined."""
    defined = differences[~np.isnan(differences)]
    if not defined.size:
        return math.nan, math.nan
    low, high = np.percentile(defined, [2.5, 97.5])
    return float(low), float(high)


def _arrays(report: QualityReport) -> dict[str, Floats]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in report.per_example.items()}


def _checks(
    deltas: dict[str, MetricDelta], min_delta: float, max_perplexity_ratio: float
) -> list[tuple[bool, str]]:
    """Each blessing rule's outcome and a sentence saying so."""
    accuracy, perplexity = deltas["next_token_accuracy"], deltas["perplexity"]
    checks = [
        (
            accuracy.candidate > accuracy.baseline + min_delta,
            f"next-token accuracy {accuracy.candidate:.4f} vs {accuracy.baseline:.4f} "
            f"({_interval(accuracy)}) must gain more than {min_delta:+.4f}",
        ),
        (
            perplexity.candidate <= perplexity.baseline * max_perplexity_ratio,
            f"perplexity {perplexity.candidate:.3f} vs {perplexity.baseline:.3f} must be at most "
            f"{max_perplexity_ratio:g} times the baseline's",
        ),
    ]
    for name in NOT_WORSE:
        if name in deltas:
            delta = deltas[name]
            checks.append(
                (
                    not delta.ci_high < 0,  # an interval of NaN tells nothing
                    f"{name.replace('_', ' ')} {delta.candidate:.4f} vs {delta.baseline:.4f} "
                    f"({_interval(delta)}) must not be worse beyond the confidence interval",
                )
            )
    return checks


def _interval(delta: MetricDelta) -> str:
    return f"{delta.delta:+.4f}, 95% CI {delta.ci_low:+.4f} to {delta.ci_high:+.4f}"
