"""An asyncio face on confluent-kafka's producer: ``await produce(...)`` resolves on broker ack.

librdkafka batches and compresses in its own thread; a poller thread delivers its reports back to
the event loop, so producing thousands of records a second costs the loop almost nothing.
"""

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from common.errors import BrokerError


class AsyncProducer:
    def __init__(self, config: Mapping[str, str | int | float | bool], **overrides: Any) -> None:
        settings: dict[str, Any] = {
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "none",
            "queue.buffering.max.messages": 1_000_000,
            "message.max.bytes": 16 * 1024 * 1024,
            **config,
            **overrides,
        }
        self._producer = Producer(settings)
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-producer-poll", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(0.05)

    def produce(self, topic: str, key: str | bytes, value: bytes) -> "asyncio.Future[Message]":
        """Queue one record; the returned future resolves when the broker acknowledged it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()

        def delivered(err: KafkaError | None, msg: Message) -> None:
            loop.call_soon_threadsafe(_settle, future, err, msg)

        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=delivered)
                return future
            except BufferError:  # local queue full: let librdkafka drain, then retry
                self._producer.poll(0.05)

    async def send_all(self, topic: str, records: list[tuple[str, bytes]]) -> None:
        """Produce every (key, value) and wait until the broker acknowledged all of them.

        One future for the whole batch: per-record futures cost more than the produce itself.
        """
        if not records:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        lock = threading.Lock()
        left = [len(records)]
        failures: list[KafkaError] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            with lock:
                if err is not None:
                    failures.append(err)
                left[0] -= 1
                finished = left[0] == 0
            if finished:
                loop.call_soon_threadsafe(_settle_all, done, failures)

        for key, value in records:
            while True:
                try:
                    self._producer.produce(topic, value=value, key=key, on_delivery=delivered)
                    break
                except BufferError:  # local queue full: give librdkafka time to drain it
                    await asyncio.sleep(0.01)
        await done

    def flush(self, timeout: float = 30.0) -> None:
        remaining = self._producer.flush(timeout)
        if remaining:
            raise BrokerError(f"{remaining} records were not delivered within {timeout}s")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._closed.set()
            self._poller.join(timeout=2)


def _settle(future: "asyncio.Future[Message]", err: KafkaError | None, msg: Message) -> None:
    if future.done():
        return
    if err is not None:
        future.set_exception(KafkaException(err))
    else:
        future.set_result(msg)


def _settle_all(future: "asyncio.Future[None]", failures: list[KafkaError]) -> None:
    if future.done():
        return
    if failures:
        future.set_exception(KafkaException(failures[0]))
    else:
        future.set_result(None)
