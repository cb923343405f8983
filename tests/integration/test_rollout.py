"""Rollouts on real Ray Serve with real models (the tiny base trained here, adapters fine-tuned
here) and the registry on Delta with its events on the broker: a canary at 20 % gets about 20 %
of distinct users, a healthy canary is promoted by the controller on live evidence, a broken one
is rolled back within 60 s while its users see no error, blue-green switches at once."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from ray import serve

from common.names import Topic
from common.settings import Settings
from serving.app import model_app
from serving.controller import Plan
from serving.deploy import current_plan, deploy, rollout_state, watch_blessed
from tests.integration.conftest import eventually, serving_base, serving_settings
from tests.support.adapters import blessed, fine_tune
from tests.support.http import json_call
from training.registry import ModelEvent, Registry, kafka_publisher
from training.tiny import train_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
KEY = "ide-key-0123456789abcdef"
call = partial(json_call, key=KEY)


@dataclass
class Site:
    api: str
    settings: Settings
    registry: Registry
    base: Path
    adapters: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("rollout")
    base = train_tiny(home / "tiny", minutes=0.2, max_steps=40)
    settings = serving_settings(home, f"{KEY}:complete+feedback")
    settings = settings.model_copy(
        update={"rollout": settings.rollout.model_copy(update={"interval_s": 0.5})}
    )
    with serving_base(settings, base) as live:
        registry = Registry(live, publisher=kafka_publisher(live))
        api = f"http://127.0.0.1:{settings.serving.port}"
        yield Site(api, live, registry, base, home / "adapters")


def traffic(
    api: str, rate: float, until: Callable[[], bool], limit_s: float, feedback: bool = False
) -> list[dict[str, Any]]:
    """Completions from distinct users at ``rate`` a second until ``until()`` or ``limit_s``;
    each answer (status, version), and an accept posted for every third when ``feedback``."""
    answers: list[dict[str, Any]] = []

    def one(n: int) -> None:
        body = {"prompt": f"def f{n}(x):\n", "max_tokens": 4, "temperature": 0.8}
        status, done = call(f"{api}/v1/completions", body | {"user": f"dev-{uuid.uuid4().hex}"})
        answers.append({"status": status, "version": done.get("model_version")})
        if feedback and status == 200 and n % 3 == 0:
            call(f"{api}/v1/feedback", {"completion_id": done["id"], "kind": "accept"})

    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        n = 0
        while time.monotonic() - started < limit_s and not until():
            pool.submit(one, n)
            n += 1
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
    return answers


def events(settings: Settings, version: str) -> list[str]:
    """The lifecycle events of ``version`` on ``codemill.models``, oldest first."""
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": f"test-rollout-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    partitions = consumer.list_topics(str(Topic.MODELS), timeout=10).topics[Topic.MODELS]
    consumer.assign(
        [TopicPartition(str(Topic.MODELS), p, OFFSET_BEGINNING) for p in partitions.partitions]
    )
    found: list[ModelEvent] = []
    try:
        for _ in range(25):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                event = ModelEvent.model_validate_json(message.value() or b"")
                if event.version == version:
                    found.append(event)
    finally:
        consumer.close()
    return [e.event for e in sorted(found, key=lambda e: e.at)]


def test_a_canary_gets_its_share_of_distinct_users_then_is_promoted(site: Site) -> None:
    blessed(site.registry, "0.1.0", site.base, fine_tune(site.base, site.adapters / "0.1.0"))
    plan = deploy(site.settings, site.registry, "0.1.0", "canary", 0.2)
    assert plan.shares() == [("0.1.0", 0.2), ("base", 0.8)]
    assert site.registry.get("0.1.0").status == "canary"

    # 150 distinct users: about 30 reach the canary, fewer than it needs to step up.
    sample = traffic(site.api, 20, lambda: False, 150 / 20)
    assert all(a["status"] == 200 for a in sample)
    share = sum(a["version"] == "0.1.0" for a in sample) / len(sample)
    assert 0.12 <= share <= 0.28, share

    # At 10 requests a second, with developers accepting some completions.
    started = time.monotonic()
    answers = traffic(site.api, 10, lambda: current_plan().candidate is None, 300, feedback=True)
    took = time.monotonic() - started
    assert current_plan() == Plan("0.1.0"), rollout_state()["transitions"]
    assert all(a["status"] == 200 for a in answers)
    outcomes = [t["outcome"] for t in rollout_state()["transitions"]]
    assert outcomes[-1] == "promoted" and "stepped" in outcomes, outcomes
    assert took < 300
    eventually(lambda: site.registry.get("0.1.0").status == "live")  # written after the switch
    assert events(site.settings, "0.1.0")[-2:] == ["canary", "promoted"]
    with pytest.raises(Exception, match="base"):  # the base's application is gone
        serve.get_app_handle(model_app("base"))


def test_a_broken_canary_is_rolled_back_within_a_minute_and_users_see_no_error(
    site: Site,
) -> None:
    broken = fine_tune(site.base, site.adapters / "0.2.0", diverged=True)
    blessed(site.registry, "0.2.0", site.base, broken)
    assert current_plan() == Plan("0.1.0")
    deploy(site.settings, site.registry, "0.2.0", "canary", 0.2)

    started = time.monotonic()
    answers = traffic(site.api, 10, lambda: current_plan().candidate is None, 60)
    took = time.monotonic() - started
    assert current_plan() == Plan("0.1.0") and took < 60, rollout_state()
    errors = sum(a["status"] != 200 for a in answers)
    assert errors <= 0.01 * len(answers), (errors, len(answers))
    eventually(lambda: site.registry.get("0.2.0").status == "rolled_back")
    assert "error rate" in site.registry.get("0.2.0").reason
    assert events(site.settings, "0.2.0")[-2:] == ["canary", "rolled_back"]


def test_blue_green_moves_every_user_at_once_and_keeps_blue_until_green_is_proven(
    site: Site,
) -> None:
    blessed(site.registry, "0.3.0", site.base, fine_tune(site.base, site.adapters / "0.3.0"))
    plan = deploy(site.settings, site.registry, "0.3.0", "blue-green")
    assert plan.shares() == [("0.3.0", 1.0), ("0.1.0", 0.0)]
    answers = traffic(site.api, 20, lambda: current_plan().candidate is None, 120)
    assert {a["version"] for a in answers} == {"0.3.0"}
    assert current_plan() == Plan("0.3.0")
    eventually(lambda: site.registry.get("0.3.0").status == "live")
    assert site.registry.get("0.1.0").status == "retired"


def test_serving_rolls_a_newly_blessed_version_out_by_itself(site: Site) -> None:
    assert current_plan() == Plan("0.3.0")
    halt = threading.Event()
    quick = site.settings.model_copy(
        update={"rollout": site.settings.rollout.model_copy(update={"watch_s": 0.5})}
    )
    watcher = threading.Thread(target=watch_blessed, args=(quick, site.registry, halt))
    watcher.start()
    try:
        blessed(site.registry, "0.4.0", site.base, fine_tune(site.base, site.adapters / "0.4.0"))
        eventually(lambda: current_plan().candidate == "0.4.0", timeout=120)
    finally:
        halt.set()
        watcher.join()
    assert current_plan().shares() == [("0.4.0", 0.1), ("0.3.0", 0.9)]
    assert site.registry.get("0.4.0").status == "canary"
