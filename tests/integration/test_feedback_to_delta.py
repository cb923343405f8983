"""Feedback on the real stack: records on ``codemill.feedback`` land in Delta ``feedback`` once
(a replayed record is not stored twice), a malformed one goes to ``rejects`` with the reason,
and the corrections are what the next training mix reads."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.lake import read_rows
from common.names import Topic
from common.rows import FeedbackRecord, Reject
from infra.stack import local_stack
from streams.kafka import AsyncProducer
from tests.integration.conftest import eventually, make_settings
from training.dataset import build_mix
from training.snapshot import read_snapshot

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 26, tzinfo=UTC)


def verdict(i: int, kind: str) -> FeedbackRecord:
    return FeedbackRecord(
        id=f"fb-{i}",
        completion_id=f"cmpl-{i}",
        model_version="0.1.0",
        kind=kind,  # type: ignore[arg-type]
        prompt="def area(r):\n    ",
        original="return r * r",
        corrected="return math.pi * r * r" if kind == "correction" else "",
        language="python",
        user_hash="a1b2c3d4e5f6",
        received_at=NOW,
    )


async def _produce(producer: AsyncProducer, values: list[tuple[str, bytes]]) -> None:
    await asyncio.gather(*(producer.produce(Topic.FEEDBACK, k, v) for k, v in values))


def test_feedback_lands_in_delta_once_and_feeds_the_training_mix(tmp_path: Path) -> None:
    records = [verdict(1, "accept"), verdict(2, "correction"), verdict(3, "reject")]
    values = [(r.model_version, r.model_dump_json().encode()) for r in records]
    with local_stack(make_settings(tmp_path / "home")) as stack:
        settings = stack.settings
        producer = AsyncProducer(settings.kafka.client_config())
        try:
            # The correction twice (a client retry), and one record that is not feedback.
            asyncio.run(_produce(producer, [*values, values[1], ("0.1.0", b'{"kind": "?"}')]))
        finally:
            producer.close()
        uri = settings.table_uri("feedback")

        def stored() -> list[dict[str, object]]:
            return read_rows(uri, FeedbackRecord).to_pylist()  # type: ignore[no-any-return]

        eventually(lambda: len(stored()) >= 3, timeout=120)
        eventually(lambda: bool(_rejects(settings.table_uri("rejects"))), timeout=60)
        rows = stored()
        rejected = _rejects(settings.table_uri("rejects"))

    assert sorted(r["id"] for r in rows) == ["fb-1", "fb-2", "fb-3"]
    assert "invalid record" in rejected[0]["reason"]
    snapshot = read_snapshot(settings, ["feedback"])
    mix = build_mix(
        snapshot.rows, holdout_fraction=0.2, max_examples=10, eval_examples=1, feedback_weight=3.0
    )
    assert [(t.id, t.target, t.weight) for t in mix.train] == [
        ("fb-2", "return math.pi * r * r", 3.0)
    ]


def _rejects(uri: str) -> list[dict[str, object]]:
    return read_rows(uri, Reject).to_pylist()  # type: ignore[no-any-return]
