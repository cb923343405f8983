"""A drift check against real Delta tables: the live version's recorded data version is the
reference, what was ingested since is the current window; the check leaves a row, an HTML report
and a run in the Evidently workspace, and raises an alert only when something drifted."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from common.lake import append_rows, read_rows
from common.rows import CompletionExample, DriftReport, ModelRecord
from common.schema import from_arrow
from common.settings import Settings
from tests.unit.training.test_drift import START, rows
from training.monitor import check, read_windows


def examples(language: str, count: int, seed: int, later: int = 0) -> list[dict[str, Any]]:
    made = []
    for i, row in enumerate(rows(language, count, seed)):
        made.append(
            CompletionExample(
                **{k: row[k] for k in ("id", "language", "category", "kind", "signature", "body")},
                cyclomatic=row["cyclomatic"],
                nesting_depth=row["nesting_depth"],
                repo="acme/shop",
                commit="c" * 40,
                path=f"src/{language}/{seed}_{i}",
                symbol=f"f{seed}_{i}",
                author_hash="a" * 16,
                committed_at=START,
                ingested_at=START + timedelta(hours=later, seconds=i),
                start_line=1,
                end_line=3,
            ).model_dump()
        )
    return made


def live_on(settings: Settings, version: int) -> ModelRecord:
    return ModelRecord(
        version="0.1.0",
        status="live",
        base_model="tiny",
        base_path="/base",
        data_versions={"completion": version},
        created_at=START,
        recorded_at=START,
    )


def test_a_check_compares_what_came_since_the_live_versions_data(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    uri = settings.table_uri("completion")
    append_rows(uri, CompletionExample, examples("python", 200, seed=1))
    live = live_on(settings, version=0)
    append_rows(uri, CompletionExample, examples("python", 80, seed=2, later=1))

    windows = read_windows(settings, live)
    assert len(windows.reference) == 200 and windows.new_rows == 80
    assert windows.reference_versions == {"completion": 0}
    assert windows.current_versions == {"completion": 1}
    same = check(settings, live)
    assert "data" not in same.report.drifted and same.alert is None
    assert "data no drift" in same.report.verdict

    append_rows(uri, CompletionExample, examples("go", 120, seed=3, later=2))
    moved = check(settings, live)
    assert moved.report.drifted == ["data"] and moved.report.current_rows == 200
    assert "data.language" in moved.report.drifted_features
    assert moved.alert is not None and moved.alert.kinds == ["data"]
    assert Path(moved.report.report_path).read_text().lstrip().startswith("<")  # HTML

    stored = from_arrow(DriftReport, read_rows(settings.table_uri("drift_reports"), DriftReport))
    assert sorted(r.id for r in stored) == sorted([same.report.id, moved.report.id])
    from evidently.ui.workspace import Workspace

    workspace = Workspace(str(tmp_path / "evidently"))
    (project,) = workspace.search_project("codemill model 0.1.0")
    assert len(workspace.list_runs(project.id)) == 2
    assert not list((tmp_path / "evidently").rglob("*.partial"))


def test_before_any_fine_tuned_version_there_is_nothing_to_compare(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    append_rows(settings.table_uri("completion"), CompletionExample, examples("python", 60, 1))
    result = check(settings, None)
    assert result.report.model_version == "base" and result.alert is None
    assert result.report.current_rows == 60  # what a first run would learn from
    assert "nothing to compare yet" in result.report.verdict
