"""Reading the tables at pinned Delta versions, the feedback table's corrections included."""

from datetime import UTC, datetime
from pathlib import Path

from common.lake import append_rows
from common.rows import FeedbackRecord
from common.settings import Settings
from training.dataset import build_mix
from training.snapshot import ids_at, read_snapshot

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def correction(i: int) -> dict[str, object]:
    return FeedbackRecord(
        id=f"fb{i}",
        completion_id=f"cmpl-{i}",
        model_version="0.1.0",
        kind="correction",
        prompt="def area(r):\n    ",
        original="return r * r",
        corrected="return math.pi * r * r",
        language="python",
        user_hash="u1",
        received_at=T0,
    ).model_dump()


def test_corrections_stored_in_delta_reach_the_mix_and_versions_pin_them(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    uri = settings.table_uri("feedback")
    append_rows(uri, FeedbackRecord, [correction(1)])
    append_rows(uri, FeedbackRecord, [correction(2), {**correction(3), "kind": "accept"}])

    latest = read_snapshot(settings, ["completion", "feedback"])
    assert latest.versions == {"completion": -1, "feedback": 1}
    assert latest.counts() == {"completion": 0, "feedback": 3}
    mix = build_mix(
        latest.rows, holdout_fraction=0.2, max_examples=100, eval_examples=10, feedback_weight=2.5
    )
    assert sorted(t.id for t in mix.train) == ["fb1", "fb2"]
    assert {t.weight for t in mix.train} == {2.5}
    assert mix.train[0].target == "return math.pi * r * r"

    first = read_snapshot(settings, ["feedback"], versions={"feedback": 0})
    assert [r["id"] for r in first.rows["feedback"]] == ["fb1"]
    assert ids_at(settings, {"feedback": 0}) == {"fb1"}


def test_a_table_pinned_before_it_existed_reads_empty_once_it_does(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    before = read_snapshot(settings, ["feedback"])
    assert before.versions == {"feedback": -1}
    append_rows(settings.table_uri("feedback"), FeedbackRecord, [correction(1)])
    again = read_snapshot(settings, ["feedback"], versions=before.versions)
    assert again.rows == {"feedback": []} and again.versions == {"feedback": -1}
