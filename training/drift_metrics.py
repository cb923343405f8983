"""Prometheus figures of the drift monitor and the retraining loop (the loop worker's /metrics)."""

from prometheus_client import Counter, Gauge

from common.rows import DriftReport
from training.drift import Judged

DRIFT_SHARE = Gauge(
    "codemill_drift_share",
    "Share of a kind's features that drifted (0..1)",
    ["model_version", "kind"],
)
DRIFT_DETECTED = Gauge(
    "codemill_drift_detected", "1 when a kind drifted at the last check", ["model_version", "kind"]
)
DRIFT_ALERTS = Counter("codemill_drift_alerts_total", "Drift alerts sent", ["kind"])
LAST_RUN = Gauge("codemill_drift_last_run_timestamp_seconds", "When drift was last checked")
NEW_ROWS = Gauge(
    "codemill_drift_new_rows",
    "Example rows since the live model's training data",
    ["model_version"],
)
RETRAIN_DECISIONS = Counter(
    "codemill_retrain_decisions_total", "Retraining decisions", ["decision", "reason"]
)
TRAINING_RUNS = Counter(
    "codemill_training_runs_total", "Unattended training runs by outcome", ["outcome"]
)


def observe(report: DriftReport, judged: list[Judged]) -> None:
    for j in judged:
        if j.scores:
            DRIFT_SHARE.labels(report.model_version, j.kind).set(j.share)
            DRIFT_DETECTED.labels(report.model_version, j.kind).set(1 if j.drift else 0)
    NEW_ROWS.labels(report.model_version).set(report.current_rows)
    LAST_RUN.set(report.checked_at.timestamp())
