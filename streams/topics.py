"""Create codemill's topics with the partition counts the Faust app expects."""

import logging

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic  # type: ignore[attr-defined]

from common.errors import BrokerError
from common.names import Topic
from common.settings import KafkaSettings

log = logging.getLogger(__name__)


def topic_partitions(kafka: KafkaSettings) -> dict[str, int]:
    """Partitions per topic: the keyed data topics scale out; control topics stay ordered."""
    wide = kafka.partitions
    return {
        Topic.GIT_PUSH: wide,
        Topic.EXAMPLES: wide,
        Topic.FEEDBACK: wide,
        Topic.DRIFT_ALERTS: 1,
        Topic.MODELS: 1,
    }


def ensure_topics(kafka: KafkaSettings, timeout: float = 15.0) -> dict[str, int]:
    """Create missing topics and grow any with too few partitions; returns the final counts."""
    admin = AdminClient(kafka.client_config())
    wanted = topic_partitions(kafka)
    try:
        existing = admin.list_topics(timeout=timeout).topics
    except Exception as exc:
        raise BrokerError(f"cannot reach Kafka at {kafka.bootstrap!r}: {exc}") from exc
    new = [
        NewTopic(name, num_partitions=n, replication_factor=kafka.replication)
        for name, n in wanted.items()
        if name not in existing
    ]
    grow = [
        NewPartitions(name, n)
        for name, n in wanted.items()
        if name in existing and len(existing[name].partitions) < n
    ]
    futures = {**(admin.create_topics(new) if new else {})}
    futures.update(admin.create_partitions(grow) if grow else {})
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise BrokerError(f"cannot create topic {name}: {exc}") from exc
    final = admin.list_topics(timeout=timeout).topics
    counts = {name: len(final[name].partitions) for name in wanted if name in final}
    missing = set(wanted) - set(counts)
    if missing:
        raise BrokerError(f"topics still missing after creation: {sorted(missing)}")
    return counts


def consumer_lag(kafka: KafkaSettings, group: str, timeout: float = 10.0) -> dict[str, int]:
    """Records each topic's consumers in ``group`` have yet to commit, summed over partitions."""
    consumer = Consumer({**kafka.client_config(), "group.id": group, "enable.auto.commit": False})
    try:
        topics = consumer.list_topics(timeout=timeout).topics
        wanted = [
            TopicPartition(name, p)
            for name in (Topic.GIT_PUSH, Topic.EXAMPLES)
            if name in topics
            for p in topics[name].partitions
        ]
        lag: dict[str, int] = {}
        for tp in consumer.committed(wanted, timeout=timeout):
            _, high = consumer.get_watermark_offsets(tp, timeout=timeout)
            done = tp.offset if tp.offset >= 0 else 0
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, high - done)
        return lag
    finally:
        consumer.close()


def cluster_id(kafka: KafkaSettings, timeout: float = 10.0) -> str:
    # librdkafka reports the id the broker was started with (a fresh one per embedded broker).
    """The cluster's id; scopes the sink's app transactions to one broker's offsets."""
    metadata = AdminClient(kafka.client_config()).list_topics(timeout=timeout)
    return str(metadata.cluster_id or "kafka")
