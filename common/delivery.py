"""Sending a few records to a Kafka topic and waiting for the broker's acknowledgement.

For the rare, small messages of the registry and the drift monitor (the streaming path has its
own asynchronous producer in ``streams.transport``).
"""

from collections.abc import Mapping, Sequence

from confluent_kafka import KafkaError, Message, Producer

from common.errors import BrokerError


def deliver(
    topic: str,
    records: Sequence[tuple[str, bytes]],
    producer_config: Mapping[str, str | int | float | bool],
    timeout: float = 30.0,
) -> None:
    """Produce ``records`` (key, value) to ``topic``; returns once all are acknowledged."""
    if not records:
        return
    producer = Producer({"acks": "all", **producer_config})
    failures: list[str] = []

    def delivered(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failures.append(f"{msg.key()!r}: {err}")

    for key, value in records:
        producer.produce(topic, key=key, value=value, on_delivery=delivered)
    remaining = producer.flush(timeout)
    if remaining or failures:
        raise BrokerError(
            f"{remaining} records undelivered after {timeout}s and {len(failures)} refused "
            f"({'; '.join(failures)}) on {topic}; check that Kafka at "
            f"{producer_config.get('bootstrap.servers')!r} is up"
        )
