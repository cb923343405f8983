"""The drift check: windows from Delta, Evidently's verdicts, and what a check leaves behind.

The reference window is what the live model was trained on: the completion table at the Delta
version recorded on the live version (its newest ``drift.window`` rows). The current window is
the rows ingested since (again the newest ``window``). Predictions and performance come from the
live version's feedback: its first window is its own baseline. A check writes a row to
``drift_reports``, an HTML report per kind judged, and the runs into the Evidently workspace
(``evidently ui --workspace $CODEMILL_HOME/evidently``: one project per model version).
"""

import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from deltalake import DeltaTable

from common.events import DriftAlert
from common.ids import example_id
from common.lake import append_rows, scan
from common.names import Table
from common.rows import DriftReport, ModelRecord
from common.settings import Settings
from training import drift_metrics
from training.alerts import alert_of
from training.drift import Judged, judge_data, judge_performance, judge_predictions, split_feedback
from training.drift_features import EXAMPLE_COLUMNS, FEEDBACK_COLUMNS
from training.snapshot import open_at
from training.workspace import add_panels, open_workspace

BASE = "base"


@dataclass(frozen=True)
class Check:
    report: DriftReport
    judged: list[Judged]
    alert: DriftAlert | None


def check(settings: Settings, live: ModelRecord | None) -> Check:
    """Judge what came since ``live``'s training data; record the report (row, HTML, workspace)."""
    started = time.monotonic()
    now = datetime.now(UTC)
    version = live.version if live else BASE
    windows = read_windows(settings, live)
    if live is None:
        judged = [Judged("data", note="no fine-tuned version is live: nothing to compare yet")]
    else:
        judged = [
            judge_data(windows.reference, windows.current, settings.drift),
            judge_predictions(*windows.feedback, settings.drift),
            judge_performance(*windows.feedback, settings.drift),
        ]
    report_id = example_id(
        "drift", version, json.dumps(windows.current_versions, sort_keys=True), now.isoformat()
    )
    paths = save_runs(settings, version, report_id, now, judged)
    drifted = [j.kind for j in judged if j.drift]
    report = DriftReport(
        id=report_id,
        model_version=version,
        reference_versions=windows.reference_versions,
        current_versions=windows.current_versions,
        reference_rows=len(windows.reference),
        current_rows=windows.new_rows,
        reference_feedback=len(windows.feedback[0]),
        current_feedback=len(windows.feedback[1]),
        drifted=drifted,
        shares={j.kind: round(j.share, 4) for j in judged if j.scores},
        scores={f"{j.kind}.{k}": round(v, 4) for j in judged for k, v in j.scores.items()},
        drifted_features=[f"{j.kind}.{name}" for j in judged if j.drift for name in j.drifted],
        figures={k: round(v, 4) for j in judged for k, v in j.figures.items()},
        verdict=verdict(judged),
        report_path=str(paths[0][0]) if paths else "",
        snapshot_id=paths[0][1] if paths else "",
        checked_at=now,
        seconds=round(time.monotonic() - started, 3),
    )
    append_rows(
        settings.table_uri(Table.DRIFT_REPORTS),
        DriftReport,
        [report.model_dump()],
        settings.lake.storage_options,
    )
    drift_metrics.observe(report, judged)
    url = f"{settings.drift.report_url.rstrip('/')}/{paths[0][0].name}" if paths else ""
    return Check(report, judged, alert_of(report, url if settings.drift.report_url else ""))


def verdict(judged: list[Judged]) -> str:
    """One line: per kind, what drifted, or why there is no verdict."""
    parts = []
    for j in judged:
        if j.note:
            parts.append(f"{j.kind}: no verdict ({j.note})")
        elif j.kind == "performance":
            f = j.figures
            state = "DRIFT" if j.drift else "steady"
            parts.append(
                f"performance {state}: acceptance {f['acceptance_reference']:.2f} → "
                f"{f['acceptance_current']:.2f}, corrections {f['corrections_reference']:.2f} → "
                f"{f['corrections_current']:.2f}"
            )
        else:
            total = len(j.scores)
            state = "DRIFT" if j.drift else "no drift"
            moved = f": {', '.join(j.drifted)}" if j.drifted else ""
            parts.append(f"{j.kind} {state}, {len(j.drifted)} of {total} features{moved}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Windows:
    reference: list[dict[str, Any]]
    current: list[dict[str, Any]]
    new_rows: int  # every example row since the reference, not only the window's
    reference_versions: dict[str, int]
    current_versions: dict[str, int]
    feedback: tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]


def read_windows(settings: Settings, live: ModelRecord | None) -> Windows:
    """The reference (at ``live``'s recorded version) and current windows of the lake."""
    window = settings.drift.window
    table = str(Table.COMPLETION)
    latest = open_at(settings, table, None)
    current_versions = {table: latest.version()} if latest is not None else {}
    original = pc.field("augmentation") == ""
    pinned = live.data_versions.get(table, -1) if live else -1
    reference_at = open_at(settings, table, pinned) if pinned >= 0 else None
    reference, _, cutoff = newest(reference_at, original, window)
    since = original if cutoff is None else original & (pc.field("ingested_at") > cutoff)
    current, new_rows, _ = newest(latest, since, window)
    feedback: tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]] = ([], [])
    verdicts = open_at(settings, str(Table.FEEDBACK), None)
    if live is not None and verdicts is not None:
        mine = pc.field("model_version") == live.version
        stored = set(verdicts.to_pyarrow_dataset().schema.names)  # older lakes: no confidence
        columns = [c for c in FEEDBACK_COLUMNS if c in stored]
        rows = scan(verdicts, columns, mine).to_pylist()
        feedback = split_feedback(rows, window)
    return Windows(
        reference=reference,
        current=current,
        new_rows=new_rows,
        reference_versions={table: pinned} if live else {},
        current_versions=current_versions,
        feedback=feedback,
    )


def newest(
    table: DeltaTable | None, where: pc.Expression, window: int
) -> tuple[list[dict[str, Any]], int, datetime | None]:
    """The newest ``window`` example rows matching ``where``, oldest first; how many match; the
    newest one's ingestion time. Only the times are read for every row, the example columns
    only for the window's."""
    if table is None:
        return [], 0, None
    times = scan(table, ["ingested_at"], where)["ingested_at"]
    if len(times) == 0:
        return [], 0, None
    ordered = pc.sort_indices(times)
    oldest_kept = times[ordered[max(0, len(times) - window)].as_py()]
    rows = scan(table, EXAMPLE_COLUMNS, where & (pc.field("ingested_at") >= oldest_kept))
    kept = sorted(rows.to_pylist(), key=lambda r: r["ingested_at"])[-window:]
    return kept, len(times), pc.max(times).as_py()


def save_runs(
    settings: Settings, version: str, report_id: str, now: datetime, judged: list[Judged]
) -> list[tuple[Path, str]]:
    """Each judged kind's Evidently run as HTML and into the workspace: (HTML, run id)."""
    runs = [j for j in judged if j.snapshot is not None]
    if not runs:
        return []
    folder = settings.home / "drift" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    workspace = open_workspace(str(settings.home / "evidently"))
    name = f"codemill model {version}"
    project = next(iter(workspace.search_project(name)), None)
    if project is None:
        project = workspace.create_project(
            name, description=f"Drift of model version {version} against its training data"
        )
        add_panels(project)
    saved = []
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    for j in runs:
        assert j.snapshot is not None
        j.snapshot.set_name(f"{j.kind} drift {stamp}")
        html = folder / f"{stamp}-{report_id[:8]}-{j.kind}.html"
        with warnings.catch_warnings():  # its correlation plots divide by constant columns' 0
            warnings.simplefilter("ignore", RuntimeWarning)
            j.snapshot.save_html(str(html))
        ref = workspace.add_run(project.id, j.snapshot)
        saved.append((html, str(ref.id)))
    return saved
