"""One training run, start to end: pinned data → mix → fine-tune → judge → registry.

``train`` reads the dataset tables at their current Delta versions (recorded on the version),
builds the mix (refusing, with the count each table gave, when there is too little), prepares
the base, fine-tunes on Ray Train, judges the adapter against the live model (or its base) on the
held-out commits and registers the version: a candidate, blessed at once when it beats the
baseline by the configured margins. An incremental run continues the live model's adapter on the
rows added since its data versions plus a replay sample of older rows.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common.errors import CodemillError
from common.rows import ModelRecord
from common.settings import Settings
from training.bases import prepare_base
from training.dataset import Mix, build_mix
from training.finetune import FineTuned, OnProgress, fine_tune
from training.judge import Verdict, judge
from training.registry import Registry, adapter_dir
from training.snapshot import ids_at, read_snapshot


class NotEnoughData(CodemillError):
    """Too few examples to train on; the message says how many each table gave."""


@dataclass(frozen=True)
class TrainOutcome:
    record: ModelRecord  # the version as registered (blessed or candidate)
    mix: Mix
    fine_tuned: FineTuned
    verdict: Verdict


def train(
    settings: Settings,
    registry: Registry,
    *,
    incremental: bool = False,
    base: str | None = None,
    on_progress: OnProgress | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
    reason: str = "",
) -> TrainOutcome:
    """``reason``: why this run happened (the retraining controller's trigger), kept on the
    version's registration row."""
    training = settings.training
    parent = _parent(registry) if incremental else None
    on_stage("reading the dataset tables")
    snapshot = read_snapshot(settings, training.tables)
    new_ids = None
    if parent is not None:
        new_ids = {r["id"] for rows in snapshot.rows.values() for r in rows} - ids_at(
            settings, parent.data_versions
        )
    mix = build_mix(
        snapshot.rows,
        holdout_fraction=training.holdout_fraction,
        max_examples=training.max_examples,
        eval_examples=training.eval_examples,
        seed=training.seed,
        new_ids=new_ids,
        replay_ratio=training.replay_ratio,
        feedback_weight=training.feedback_weight,
    )
    _check_enough(mix, snapshot.counts(), training.min_examples, parent)
    on_stage("preparing the base model")
    base_name = parent.base_model if parent else (base or settings.base_model)
    base_path = parent.base_path if parent else str(prepare_base(settings, base_name))
    version = registry.next_version()
    on_stage(f"fine-tuning {version}: {mix.describe()}")
    tuned = fine_tune(
        settings,
        mix.train,
        base_path,
        run_name=f"v{version}",
        destination=adapter_dir(settings, version),
        parent_adapter=Path(parent.adapter_path) if parent else None,
        on_progress=on_progress,
    )
    now = datetime.now(UTC)
    record = ModelRecord(
        version=version,
        status="candidate",
        base_model=base_name,
        base_path=str(base_path),
        adapter_path=str(tuned.adapter),
        adapter_bytes=sum(f.stat().st_size for f in tuned.adapter.rglob("*") if f.is_file()),
        parent_version=parent.version if parent else "",
        training_config=json.dumps(training.model_dump(), sort_keys=True),
        data_versions=snapshot.versions,
        examples=mix.per_table,
        metrics={},
        reason="; ".join(
            part for part in (reason, "stopped early on request" if tuned.stopped else "") if part
        ),
        created_at=now,
        recorded_at=now,
    )
    on_stage(f"evaluating {version} on {len(mix.held_out)} held-out examples")
    verdict = judge(settings, record, registry.live(), mix.held_out)
    record = record.model_copy(update={"metrics": _metrics(tuned, verdict)})
    registry.register(record)
    if verdict.comparison.blessed:
        record = registry.set_status(version, "blessed", "; ".join(verdict.comparison.reasons))
    return TrainOutcome(record, mix, tuned, verdict)


def _parent(registry: Registry) -> ModelRecord:
    parent = registry.live() or next(
        (r for r in registry.list() if r.status in ("blessed", "canary", "candidate")), None
    )
    if parent is None:
        raise NotEnoughData(
            "an incremental run continues a trained version, and the registry has none: "
            "run `codemill train` without --incremental first"
        )
    return parent


def _check_enough(
    mix: Mix, counts: dict[str, int], minimum: int, parent: ModelRecord | None
) -> None:
    if len(mix.train) >= minimum:
        return
    gave = ", ".join(f"{table}: {n} rows" for table, n in sorted(counts.items()))
    since = f" new since version {parent.version}" if parent else ""
    raise NotEnoughData(
        f"only {len(mix.train)} training examples{since} ({mix.describe()}; the tables hold "
        f"{gave}); at least {minimum} are needed (CODEMILL_TRAINING_MIN_EXAMPLES). Ingest more "
        "history with `codemill backfill`, or lower the minimum"
    )


def _metrics(tuned: FineTuned, verdict: Verdict) -> dict[str, float]:
    metrics = dict(verdict.candidate.metrics())
    metrics.update({f"baseline_{k}": v for k, v in verdict.baseline.metrics().items()})
    for name in ("loss", "tokens_per_s", "step"):
        if isinstance(tuned.metrics.get(name), int | float):
            metrics[f"train_{name}"] = float(tuned.metrics[name])
    metrics["train_seconds"] = tuned.seconds
    return metrics
