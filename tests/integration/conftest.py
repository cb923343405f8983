"""Session fixtures for the real system: embedded (or configured) broker, Faust worker, Delta.

Broker and lake come from the same settings as production: set CODEMILL_KAFKA_BOOTSTRAP to run
the suite against a real cluster (topics must be dedicated to the test run).
"""

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common.ports import free_port
from common.settings import Settings

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "integration-test-secret"


def make_settings(home: Path) -> Settings:
    return Settings(
        home=home,
        webhook={"secret": WEBHOOK_SECRET, "port": free_port()},
        worker={"port": free_port(), "session_timeout": 6.0},
        lake={"batch_seconds": 0.2},
    )


def serving_settings(home: Path, api_keys: str) -> Settings:
    """:func:`make_settings` for tests that serve: a free API port, ``api_keys``, no rate limit,
    and replicas of half a CPU so that two versions fit on two cores."""
    serving = Settings().serving.model_copy(
        update={"port": free_port(), "rate_limit": 0, "cpus_per_replica": 0.5}
    )
    return make_settings(home).model_copy(update={"api_keys": api_keys, "serving": serving})


@contextlib.contextmanager
def serving_base(settings: Settings, base: Path) -> Iterator[Settings]:
    """The broker and lake of ``settings`` (no Faust worker) and the API serving ``base`` as
    version ``base``; yields the live settings, and stops Serve and Ray after."""
    import ray
    from ray import serve

    from infra.stack import local_stack
    from serving.app import ServedVersion
    from serving.controller import Plan
    from serving.deploy import start

    with local_stack(settings, worker=False) as stack:
        try:
            start(stack.settings, Plan("base"), [ServedVersion("base", str(base))])
            yield stack.settings
        finally:
            serve.shutdown()
            ray.shutdown()


def eventually(check: Callable[[], bool], timeout: float = 60.0, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s")
