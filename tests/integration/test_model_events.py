"""Registry lifecycle events reach ``codemill.models`` on the real broker, keyed by version."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from common.names import Topic
from common.rows import ModelRecord
from infra.stack import local_stack
from tests.integration.conftest import make_settings
from training.registry import ModelEvent, Registry, kafka_publisher

pytestmark = pytest.mark.integration


def test_a_registered_version_is_announced_on_the_models_topic(tmp_path: Path) -> None:
    version = f"0.{uuid.uuid4().int % 10_000}.0"  # unique, should the cluster be shared
    now = datetime.now(UTC)
    with local_stack(make_settings(tmp_path / "home"), worker=False) as stack:
        registry = Registry(stack.settings, publisher=kafka_publisher(stack.settings))
        registry.register(
            ModelRecord(
                version=version,
                status="candidate",
                base_model="tiny",
                base_path="/models/base/tiny",
                created_at=now,
                recorded_at=now,
            )
        )
        registry.set_status(version, "blessed", "beat the base")

        consumer = Consumer(
            {
                **stack.settings.kafka.client_config(),
                "group.id": f"test-model-events-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        # Assigned, not subscribed: no consumer-group join to wait for.
        partitions = consumer.list_topics(str(Topic.MODELS), timeout=10).topics[Topic.MODELS]
        consumer.assign(
            [TopicPartition(str(Topic.MODELS), p, OFFSET_BEGINNING) for p in partitions.partitions]
        )
        received: list[tuple[str, ModelEvent]] = []
        try:
            for _ in range(300):
                message = consumer.poll(0.2)
                if message is None or message.error() is not None:
                    continue
                event = ModelEvent.model_validate_json(message.value() or b"")
                if event.version == version:
                    received.append(((message.key() or b"").decode(), event))
                if len(received) == 2:
                    break
        finally:
            consumer.close()

    assert [(key, e.event, e.status, e.reason) for key, e in received] == [
        (version, "trained", "candidate", ""),
        (version, "blessed", "blessed", "beat the base"),
    ]
