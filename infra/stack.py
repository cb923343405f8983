"""The local stack: broker (embedded unless configured), topics, owed pushes, Faust worker.

``local_stack`` is what ``codemill up``, ``demo`` and ``backfill`` stand on. Everything it starts
it stops on exit, and children die with their parent, so no process is left behind.
"""

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common.errors import BrokerError
from common.names import Topic
from common.runfiles import live_record, write_record
from common.settings import Settings
from infra.broker import EmbeddedBroker, die_with_parent
from streams.kafka import AsyncProducer
from streams.ledger import owed_pushes, read_ledger
from streams.topics import ensure_topics

log = logging.getLogger(__name__)


@dataclass
class Stack:
    settings: Settings
    broker: EmbeddedBroker | None
    worker: subprocess.Popen[bytes] | None
    replayed: int
    loop: subprocess.Popen[bytes] | None = None  # the drift and retraining loop, once started


def stack_file(settings: Settings) -> Path:
    return settings.home / "stack.json"


def running_bootstrap(settings: Settings) -> str | None:
    """The broker of a ``codemill up`` already running on this home, if any."""
    info = live_record(stack_file(settings))
    return None if info is None else str(info["bootstrap"])


def worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["CODEMILL_KAFKA_BOOTSTRAP"] = settings.kafka.bootstrap
    env["CODEMILL_HOME"] = str(settings.home)
    env["CODEMILL_WORKER_PORT"] = str(settings.worker.port)
    return env


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    return _start(settings, "streams.worker", "worker.log")


def start_loop(settings: Settings) -> subprocess.Popen[bytes]:
    """The loop worker (drift checks, alerts, unattended retraining) on this stack's broker and
    ``settings.ray_address`` (the Ray cluster serving runs on)."""
    env = {"CODEMILL_RAY_ADDRESS": settings.ray_address} if settings.ray_address else {}
    return _start(settings, "training.loop_worker", "loop.log", env)


def _start(
    settings: Settings, module: str, log_name: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / log_name).open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            env={**worker_env(settings), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )


def wait_worker_ready(settings: Settings, worker: subprocess.Popen[bytes], timeout: float) -> None:
    """Until the worker's consumers have partitions (its /healthz answers 200)."""
    url = f"http://127.0.0.1:{settings.worker.port}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise BrokerError(
                f"the Faust worker exited with code {worker.returncode}; "
                f"see {settings.home / 'logs' / 'worker.log'}"
            )
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise BrokerError(f"the Faust worker was not ready within {timeout}s")


def supervise(stack: Stack, stop: threading.Event, every: float = 1.0) -> None:
    """Restart the Faust worker and the loop worker whenever one dies, until ``stop`` is set
    (``codemill up``)."""
    starts = {"worker": (start_worker, "worker.log"), "loop": (start_loop, "loop.log")}
    while not stop.wait(every):
        for role, (start, log_name) in starts.items():
            proc: subprocess.Popen[bytes] | None = getattr(stack, role)
            if proc is not None and proc.poll() is not None:
                log.error(
                    "the %s process exited with code %s; restarting it (see %s)",
                    role,
                    proc.returncode,
                    stack.settings.home / "logs" / log_name,
                )
                setattr(stack, role, start(stack.settings))


def stop_process(proc: subprocess.Popen[bytes] | None, grace: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


async def replay_owed(settings: Settings) -> int:
    """Publish again every push the ledger says was received but never ingested."""
    events = owed_pushes(
        await asyncio.to_thread(read_ledger, settings),
        settings.ingest.commits_per_event,
        datetime.now(UTC),
    )
    if events:
        producer = AsyncProducer(settings.kafka.client_config())
        try:
            await producer.send_all(
                Topic.GIT_PUSH, [(e.repo, e.model_dump_json().encode()) for e in events]
            )
        finally:
            producer.close()
    return len(events)


@contextlib.contextmanager
def local_stack(
    settings: Settings, worker: bool = True, ready_timeout: float = 90.0
) -> Iterator[Stack]:
    settings.home.mkdir(parents=True, exist_ok=True)
    broker = None
    if not settings.kafka.bootstrap:
        broker = EmbeddedBroker(settings.home / "logs" / "broker.log").start()
        settings = settings.with_bootstrap(broker.bootstrap)
    stack = Stack(settings, broker, None, 0)
    try:
        ensure_topics(settings.kafka)
        stack.replayed = asyncio.run(replay_owed(settings))
        if worker:
            stack.worker = start_worker(settings)
            wait_worker_ready(settings, stack.worker, ready_timeout)
        write_record(stack_file(settings), {"bootstrap": settings.kafka.bootstrap})
        yield stack
    finally:
        with contextlib.suppress(FileNotFoundError):
            stack_file(settings).unlink()
        stop_process(stack.loop)
        stop_process(stack.worker)  # whichever worker runs now, restarted ones included
        if broker is not None:
            broker.stop()
