"""Feedback through the whole loop on real parts: a completion from Ray Serve, a correction
posted to /v1/feedback, Kafka, the Faust agent, Delta ``feedback`` (redacted, tied to the
version, the key known by its id); unknown completions get 404, a key without the feedback scope
403, and with collection turned off nothing is taken."""

import json
from functools import partial
from pathlib import Path

import pytest
import ray
from ray import serve

from common.lake import read_rows
from common.ports import free_port
from common.rows import FeedbackRecord
from infra.stack import local_stack
from serving.app import ServedVersion
from serving.controller import Plan
from serving.deploy import start
from serving.keys import parse_keys
from tests.integration.conftest import eventually, make_settings
from tests.support.http import json_call
from training.tiny import train_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
KEY = "ide-key-0123456789abcdef"
COMPLETE_ONLY = "cli-key-0123456789abcdef"
PLANTED = "AKIAQ3EGRT7YV5NLK2ZD"


post = partial(json_call, key=KEY)


def test_a_correction_reaches_delta_tied_to_its_version(tmp_path: Path) -> None:
    base = train_tiny(tmp_path / "tiny", minutes=0.2, max_steps=30)
    port = free_port()
    settings = make_settings(tmp_path / "home").model_copy(
        update={"api_keys": f"{KEY}:complete+feedback,{COMPLETE_ONLY}:complete"}
    )
    with local_stack(settings) as stack:
        served = stack.settings.model_copy(
            update={"serving": stack.settings.serving.model_copy(update={"port": port})}
        )
        api = f"http://127.0.0.1:{port}"
        try:
            start(served, Plan("base"), [ServedVersion("base", str(base))])
            status, done = post(f"{api}/v1/completions", {"prompt": "def f(x):\n", "max_tokens": 4})
            assert status == 200
            correction = {
                "completion_id": done["id"],
                "kind": "correction",
                "corrected": f'    return boto3.client("s3", aws_access_key_id="{PLANTED}")',
            }
            status, accepted = post(f"{api}/v1/feedback", correction)
            assert status == 202 and accepted["status"] == "accepted"
            assert post(f"{api}/v1/feedback", correction)[0] == 202  # a retry: stored once
            unknown = {"completion_id": "cmpl-nope", "kind": "accept"}
            assert post(f"{api}/v1/feedback", unknown)[0] == 404
            assert post(f"{api}/v1/feedback", correction, key=COMPLETE_ONLY)[0] == 403

            uri = stack.settings.table_uri("feedback")
            eventually(lambda: read_rows(uri, FeedbackRecord).num_rows >= 1, timeout=90)
            rows = read_rows(uri, FeedbackRecord).to_pylist()

            off = served.model_copy(
                update={"serving": served.serving.model_copy(update={"feedback": False})}
            )
            start(off, Plan("base"), [ServedVersion("base", str(base))])
            status, refused = post(f"{api}/v1/feedback", correction)
            assert status == 403 and "off" in refused["error"]["message"]
        finally:
            serve.shutdown()
            ray.shutdown()

    [row] = rows
    assert (row["completion_id"], row["model_version"], row["kind"]) == (
        done["id"],
        "base",
        "correction",
    )
    assert PLANTED not in json.dumps(row, default=str) and "<SECRET:" in row["corrected"]
    assert row["prompt"] == "def f(x):\n" and row["user_hash"] == parse_keys(KEY)[0].id
