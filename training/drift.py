"""Judging drift with Evidently: a reference window against a current one. No I/O.

Three kinds, each judged on its own:

- **data**: the examples' features (:mod:`training.drift_features`) plus Evidently's text
  descriptors of their code, each compared with an effect size, not a p-value (windows of
  thousands of rows make every p-value small): normed Wasserstein distance for numbers,
  Jensen-Shannon distance for categories. Each feature's threshold is the configured one or,
  where larger, what two random samples of the reference itself reach in 99 % of draws (code
  features are heavy-tailed, and a small current window moves by chance). The kind drifts when
  at least ``share`` of its features moved past their threshold.
- **prediction**: the same on the completions developers were shown.
- **performance**: acceptance and correction rates of the live model against its own first
  window of feedback; drifts when acceptance fell (or corrections rose) by ``acceptance_drop``.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.core.report import Snapshot
from evidently.descriptors import NonLetterCharacterPercentage, TextLength, WordCount
from evidently.presets import DataDriftPreset
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from common.rows import DriftKind
from common.settings import DriftSettings
from training.drift_features import (
    CATEGORICAL,
    NUMERICAL,
    PREDICTION_CATEGORICAL,
    PREDICTION_NUMERICAL,
    example_features,
    prediction_features,
    rates,
    table,
)

DESCRIPTORS = ("code_length", "code_non_letter", "code_words")
NULL_DRAWS = 50
NULL_QUANTILE = 0.99


@dataclass(frozen=True)
class Judged:
    """One kind's verdict: each feature's score, those past their threshold, and their share."""

    kind: DriftKind
    scores: dict[str, float] = field(default_factory=dict)
    drifted: list[str] = field(default_factory=list)
    share: float = 0.0
    drift: bool = False
    figures: dict[str, float] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    note: str = ""  # why there is no verdict, when there is none


def judge_data(
    reference: Sequence[Mapping[str, Any]],
    current: Sequence[Mapping[str, Any]],
    settings: DriftSettings,
) -> Judged:
    """Data drift of example rows (the completion table's columns)."""
    return _judge("data", reference, current, settings, example_features, CATEGORICAL, NUMERICAL)


def judge_predictions(
    reference: Sequence[Mapping[str, Any]],
    current: Sequence[Mapping[str, Any]],
    settings: DriftSettings,
) -> Judged:
    """Prediction drift of feedback rows: the completions shown, the model's confidence in them
    (where every row has it: streamed completions and older rows do not), and the developers'
    verdicts."""
    confident = all(r.get("confidence") is not None for r in [*reference, *current])
    return _judge(
        "prediction",
        reference,
        current,
        settings,
        prediction_features,
        PREDICTION_CATEGORICAL,
        (*PREDICTION_NUMERICAL, "confidence") if confident else PREDICTION_NUMERICAL,
        minimum=settings.min_feedback,
    )


def judge_performance(
    reference: Sequence[Mapping[str, Any]],
    current: Sequence[Mapping[str, Any]],
    settings: DriftSettings,
) -> Judged:
    """Performance drift: the live model's acceptance and corrections against its own
    baseline window."""
    before, now = rates(reference), rates(current)
    if (
        before.get("verdicts", 0) < settings.min_feedback
        or now.get("verdicts", 0) < settings.min_feedback
    ):
        return Judged(
            "performance",
            note=f"fewer than {settings.min_feedback} verdicts on completions in a window",
        )
    fall = before["acceptance"] - now["acceptance"]
    rise = now["corrections"] - before["corrections"]
    scores = {"acceptance_drop": fall, "corrections_rise": rise}
    drifted = [name for name, value in scores.items() if value >= settings.acceptance_drop]
    figures = {
        "acceptance_reference": before["acceptance"],
        "acceptance_current": now["acceptance"],
        "corrections_reference": before["corrections"],
        "corrections_current": now["corrections"],
    }
    return Judged(
        "performance",
        scores=scores,
        drifted=drifted,
        share=len(drifted) / len(scores),
        drift=bool(drifted),
        figures=figures,
    )


def split_feedback(
    rows: Sequence[Mapping[str, Any]], window: int
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """A model's feedback, oldest first, as its baseline (the first half, at most ``window``)
    and its recent window (the newest rows after the baseline, at most ``window``)."""
    ordered = sorted(rows, key=lambda r: r["received_at"])
    head = min(window, len(ordered) // 2)
    return ordered[:head], ordered[head:][-window:]


def _judge(
    kind: DriftKind,
    reference: Sequence[Mapping[str, Any]],
    current: Sequence[Mapping[str, Any]],
    settings: DriftSettings,
    features: Callable[[Mapping[str, Any]], dict[str, Any]],
    categorical: Sequence[str],
    numerical: Sequence[str],
    minimum: int | None = None,
) -> Judged:
    needed = settings.min_rows if minimum is None else minimum
    if len(reference) < needed or len(current) < needed:
        return Judged(
            kind,
            note=f"{len(reference)} reference and {len(current)} current rows; "
            f"each window needs {needed}",
        )
    definition = DataDefinition(
        categorical_columns=list(categorical),
        numerical_columns=list(numerical),
        text_columns=["code"],
    )
    columns = [*categorical, *numerical, *DESCRIPTORS]
    before = _dataset(reference, features, definition)
    now = _dataset(current, features, definition)
    floor = {name: settings.cat_threshold for name in categorical}
    thresholds = {
        name: max(floor.get(name, settings.num_threshold), chance)
        for name, chance in chance_distances(
            before.as_dataframe(), len(current), categorical, [*numerical, *DESCRIPTORS]
        ).items()
    }
    preset = DataDriftPreset(
        columns=columns,
        drift_share=settings.share,
        num_method="wasserstein",
        cat_method="jensenshannon",
        per_column_threshold=thresholds,
    )
    snapshot = Report([preset], tags=[kind]).run(now, before)
    scores = drift_scores(snapshot.dict())
    drifted = [name for name in columns if scores.get(name, 0.0) >= thresholds[name]]
    share = len(drifted) / len(columns)
    return Judged(
        kind,
        scores=scores,
        drifted=drifted,
        share=share,
        drift=share >= settings.share,
        figures={
            "reference_rows": float(len(reference)),
            "current_rows": float(len(current)),
            **{f"threshold_{name}": value for name, value in thresholds.items()},
        },
        snapshot=snapshot,
    )


def chance_distances(
    reference: pd.DataFrame,
    size: int,
    categorical: Sequence[str],
    numerical: Sequence[str],
    seed: int = 0,
) -> dict[str, float]:
    """Per column, the distance two random parts of ``reference`` (one of ``size`` rows, at
    most half) reach in 99 % of draws: what a current window of that size shows by chance."""
    rng = np.random.default_rng(seed)
    n = len(reference)
    part = max(1, min(size, n // 2))
    draws: dict[str, list[float]] = {name: [] for name in [*categorical, *numerical]}
    for _ in range(NULL_DRAWS):
        order = rng.permutation(n)
        a, b = reference.iloc[order[:part]], reference.iloc[order[part:]]
        for name in categorical:
            draws[name].append(category_distance(a[name], b[name]))
        for name in numerical:
            draws[name].append(number_distance(b[name], a[name]))
    return {name: float(np.quantile(values, NULL_QUANTILE)) for name, values in draws.items()}


def category_distance(a: pd.Series, b: pd.Series) -> float:
    """Jensen-Shannon distance of two category mixes (as Evidently computes it)."""
    keys = sorted(set(a.dropna()) | set(b.dropna()), key=str)
    if not keys:
        return 0.0
    pa = a.value_counts().reindex(keys, fill_value=0).to_numpy() / max(len(a), 1)
    pb = b.value_counts().reindex(keys, fill_value=0).to_numpy() / max(len(b), 1)
    return float(jensenshannon(pa, pb))


def number_distance(reference: pd.Series, current: pd.Series) -> float:
    """Wasserstein distance normed by the reference's spread (as Evidently computes it)."""
    norm = max(float(np.std(reference)), 0.001)
    return float(wasserstein_distance(reference, current)) / norm


def drift_scores(result: Mapping[str, Any]) -> dict[str, float]:
    """Each column's drift score from an Evidently run's ``dict()`` (its ValueDrift metrics)."""
    scores: dict[str, float] = {}
    for metric in result.get("metrics", []):
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith(":ValueDrift"):
            value = metric.get("value")
            if isinstance(value, int | float):
                scores[str(config["column"])] = float(value)
    return scores


def _dataset(
    rows: Sequence[Mapping[str, Any]],
    features: Callable[[Mapping[str, Any]], dict[str, Any]],
    definition: DataDefinition,
) -> Dataset:
    frame = pd.DataFrame(table(rows, features))
    return Dataset.from_pandas(
        frame,
        data_definition=definition,
        descriptors=[
            TextLength("code", alias="code_length"),
            NonLetterCharacterPercentage("code", alias="code_non_letter"),
            WordCount("code", alias="code_words"),
        ],
    )
