"""The Faust app: the push processor and a Delta sink per written topic (examples, feedback) as
agents, compaction as a timer.

Delivery is at-least-once (Faust's default); exactly-once results come from the sink's
idempotent Delta commits (see :mod:`streams.sink`), not from Kafka transactions.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

import faust
from faust import Stream
from faust.types import TP, EventT, StreamT
from pydantic import ValidationError

from common.events import GIT_EVENT, ReviewComment
from common.faust_apps import new_app
from common.lake import compact, vacuum
from common.names import CONSUMER_GROUP, Table, Topic
from common.settings import Settings
from streams import metrics
from streams.kafka import AsyncProducer
from streams.processor import PushProcessor
from streams.sink import BatchResult, DeltaSink, Incoming, describe

log = logging.getLogger(__name__)

COMPACTED = (Table.COMPLETION, Table.REJECTS, Table.COMMITS)
SUNK = (Topic.EXAMPLES, Topic.FEEDBACK)  # topics written to Delta by the sink


def create_app(settings: Settings, cluster: str) -> faust.App:
    """The worker app for one Kafka cluster (``cluster`` scopes the sink's app transactions)."""
    kafka = settings.kafka
    app = new_app(
        CONSUMER_GROUP,
        settings,
        "faust",
        settings.worker.port,
        consumer_auto_offset_reset="earliest",
        stream_buffer_maxsize=max(4096, settings.lake.batch_size * 2),
        broker_max_poll_records=2000,
        broker_commit_every=settings.lake.batch_size,
        broker_session_timeout=settings.worker.session_timeout,
        broker_heartbeat_interval=min(3.0, settings.worker.session_timeout / 3),
    )
    partitions = kafka.partitions
    pushes = app.topic(Topic.GIT_PUSH, value_serializer="raw", partitions=partitions)
    producer = AsyncProducer(kafka.client_config())
    processor = PushProcessor(settings, producer)
    # Examples, and developers' verdicts on completions (the training mix reads the
    # corrections from Delta ``feedback``), each through its own idempotent sink.
    sinks = {
        topic: DeltaSink(settings, app_prefix=f"codemill-sink:{cluster}:{topic}") for topic in SUNK
    }
    for topic, sink in sinks.items():
        channel = app.topic(topic, value_serializer="raw", partitions=partitions)
        app.agent(channel, name=f"write-{topic}")(_sink_agent(app, settings, topic, sink))

    @app.agent(pushes)
    async def process_pushes(stream: StreamT[bytes]) -> None:
        async for value in stream:
            try:
                event = GIT_EVENT.validate_json(value)
            except ValidationError as exc:
                log.error("an invalid push event goes to rejects: %s", exc)
                await processor.reject_invalid(value, exc)
                continue
            if isinstance(event, ReviewComment):
                await processor.handle_review(event)
            else:
                await processor.handle(event)

    @app.timer(interval=settings.lake.compact_every_seconds)  # type: ignore[untyped-decorator]
    async def compact_tables() -> None:
        for table in COMPACTED:
            uri, options = settings.table_uri(table), settings.lake.storage_options
            await asyncio.to_thread(compact, uri, options)
            await asyncio.to_thread(vacuum, uri, options)

    @app.page("/healthz")
    async def healthz(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        assigned = len(app.consumer.assignment())
        return web.json(
            {"status": "ok" if assigned else "starting", "partitions": assigned},
            status=200 if assigned else 503,
        )

    @app.on_partitions_assigned.connect
    def on_assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        for sink in sinks.values():
            sink.forget()
        processor.forget()

    @app.on_before_shutdown.connect
    def on_shutdown(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        producer.close()
        processor.close()

    return app


def _sink_agent(
    app: faust.App, settings: Settings, topic: str, sink: DeltaSink
) -> Callable[[StreamT[bytes]], Coroutine[Any, Any, None]]:
    """The agent writing ``topic`` to Delta in micro-batches."""

    async def write(stream: StreamT[bytes]) -> None:
        batches = cast(Stream[bytes], stream).take_events(
            settings.lake.batch_size, within=settings.lake.batch_seconds
        )
        async for events in batches:
            batch = [_incoming(event) for event in events]
            result = await asyncio.to_thread(sink.write, batch)
            _observe(app, batch, result, topic)
            log.info("%s batch of %d: %s", topic, len(batch), describe(result))

    return write


def _incoming(event: EventT[bytes]) -> Incoming:
    message = event.message
    return Incoming(message.partition, message.offset, message.value or b"")


def _observe(app: faust.App, batch: list[Incoming], result: BatchResult, topic: str) -> None:
    for table, n in result.written.items():
        metrics.ROWS_WRITTEN.labels(table).inc(n)
    metrics.SINK_DUPLICATES.labels("replay").inc(result.replayed)
    metrics.SINK_DUPLICATES.labels("id").inc(result.duplicates)
    metrics.SINK_DUPLICATES.labels("near").inc(result.near_duplicates)
    metrics.SINK_COMMIT_SECONDS.observe(result.seconds)
    done: dict[int, int] = {}
    for item in batch:
        done[item.partition] = max(item.offset, done.get(item.partition, -1))
    for partition, offset in done.items():
        high = app.consumer.highwater(TP(topic, partition))
        if high is not None:
            metrics.LAG.labels(topic, str(partition)).set(max(0, high - offset - 1))
