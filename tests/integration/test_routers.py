"""Several router replicas on real Ray Serve (HAProxy spreading the requests over them) act as
one API: a canary's share holds across them, feedback finds a completion whichever router showed
it, the rollout figures and ``/metrics`` count every router's requests."""

import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from ray import serve

from serving.app import APP_NAME, ServedVersion
from serving.controller import rollout_plan
from serving.deploy import rollout_state, run_model
from serving.sharing import SYNC_S
from tests.integration.conftest import eventually, serving_base, serving_settings
from tests.support.http import json_call
from training.tiny import train_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
KEY = "ide-key-0123456789abcdef"
call = partial(json_call, key=KEY)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("routers")
    base = train_tiny(home / "tiny", minutes=0.2, max_steps=30)
    settings = serving_settings(home, f"{KEY}:complete+feedback+admin")
    settings = settings.model_copy(
        update={
            "serving": settings.serving.model_copy(update={"routers": 2}),
            # No step of the canary while its share is measured.
            "rollout": settings.rollout.model_copy(update={"min_requests_per_step": 10_000}),
        }
    )
    with serving_base(settings, base) as live:
        run_model(live, ServedVersion("copy", str(base)))
        yield f"http://127.0.0.1:{settings.serving.port}"


def complete(api: str, users: int) -> list[dict[str, Any]]:
    """Completions for ``users`` distinct users, 8 at a time."""

    def one(n: int) -> dict[str, Any]:
        body = {"prompt": f"def f{n}(x):\n", "max_tokens": 4, "user": f"dev-{uuid.uuid4().hex}"}
        status, done = call(f"{api}/v1/completions", body)
        assert status == 200, done
        return done

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(users)))


def test_two_routers_serve_one_plan_share_feedback_and_count_together(api: str) -> None:
    eventually(lambda: rollout_state()["routers"] == 2, timeout=30)

    done = complete(api, 60)
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(
            pool.map(
                lambda d: call(f"{api}/v1/feedback", {"completion_id": d["id"], "kind": "accept"}),
                done,
            )
        )
    assert [status for status, _ in verdicts] == [202] * 60, verdicts

    def counted() -> bool:
        figures = rollout_state()["figures"]["base"]
        return figures["requests"] == 60 and figures["judged"] == 60

    eventually(counted, timeout=10)
    with urllib.request.urlopen(f"{api}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("codemill_completions_total", (("version", "base"),))] == 60
    assert samples[("codemill_feedback_total", (("kind", "accept"), ("version", "base")))] == 60

    # A canary set through one router reaches the other: 20 % of distinct users in all.
    serve.get_app_handle(APP_NAME).set_plan.remote(
        rollout_plan("base", "copy", "canary", 0.2)
    ).result()
    time.sleep(2 * SYNC_S)  # the other router learns it at its next report
    answers = complete(api, 200)
    share = sum(a["model_version"] == "copy" for a in answers) / len(answers)
    assert 0.12 <= share <= 0.28, share

    def all_counted() -> bool:
        figures = rollout_state()["figures"]
        return bool(figures["copy"]["requests"] + figures["base"]["requests"] == 200)

    eventually(all_counted, timeout=10)
