"""`codemill up` as a user runs it: a signed push over HTTP becomes rows in Delta."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from common.lake import open_table, read_rows
from common.rows import CommitRecord, CompletionExample, RefactoringExample
from tests.integration.conftest import WEBHOOK_SECRET, eventually
from tests.support.adapters import blessed, fine_tune
from tests.support.github import github_push, signed
from tests.support.gitrepo import GitRepo, module_source
from tests.support.http import json_call
from tests.support.loop import Up
from training.registry import Registry
from training.tiny import train_tiny

pytestmark = pytest.mark.integration
sign = partial(signed, WEBHOOK_SECRET)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    home = tmp_path_factory.mktemp("up")
    train_tiny(home / "models" / "base" / "tiny", minutes=0.2, max_steps=40)  # served as base
    env = {
        "CODEMILL_WEBHOOK_MAX_BODY_BYTES": "65536",
        "CODEMILL_BASE_MODEL": "tiny",
        "CODEMILL_ROLLOUT_AUTO_CANARY": "false",  # the test deploys with the CLI
        "CODEMILL_DRIFT_RETRAIN": "false",  # and registers versions itself; the loop only checks
    }
    running = Up(home, env, ready_timeout=240, secret=WEBHOOK_SECRET, keys=None)
    yield running
    assert running.stop() == 0, running.logs()


def sources(up: Up, repo: str) -> int:
    """Source ``completion`` rows of ``repo`` (augmented variants left out)."""
    rows = read_rows(up.settings.table_uri("completion"), CompletionExample).to_pylist()
    return sum(r["repo"] == repo and not r["augmentation"] for r in rows)


def test_signed_push_becomes_rows(up: Up, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "widgets")
    base = repo.commit({"app/core.py": module_source(1)}, "base")
    head = repo.commit({"app/extra.py": module_source(2)}, "add extra")
    body = github_push(repo, "acme/widgets", base, head)

    status, answer = up.post("github", body, sign(body, delivery="push-1"))
    assert status == 202, answer
    assert answer["status"] == "accepted"

    uri = up.settings.table_uri("completion")

    def landed() -> list[dict[str, Any]]:
        rows = read_rows(uri, CompletionExample).to_pylist()
        return [r for r in rows if r["repo"] == "acme/widgets" and not r["augmentation"]]

    eventually(lambda: len(landed()) == 7, timeout=60)
    rows = landed()
    assert {r["path"] for r in rows} == {"app/extra.py"}, "only the pushed commit is ingested"
    assert {r["commit"] for r in rows} == {head}
    assert "compute_2_0" in {r["symbol"] for r in rows}

    status, answer = up.post("github", body, sign(body, delivery="push-1"))
    assert (status, answer["status"]) == (200, "duplicate")


def test_a_form_encoded_push_is_read_like_a_json_one(up: Up, tmp_path: Path) -> None:
    """GitHub's other content type: the JSON in a ``payload`` form field, signed as a form."""
    repo = GitRepo(tmp_path / "forms")
    head = repo.commit({"forms.py": module_source(4)}, "forms")
    form = urlencode({"payload": github_push(repo, "acme/forms", "0" * 40, head).decode()})
    headers = {**sign(form.encode(), delivery="form-1"), "Content-Type": FORM}
    status, answer = up.post("github", form.encode(), headers)
    assert (status, answer["status"], answer["commits"]) == (202, "accepted", 1), answer
    eventually(lambda: sources(up, "acme/forms") > 0, timeout=60)


def test_bad_signature_is_refused_and_nothing_recorded(up: Up, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "gadgets")
    head = repo.commit({"g.py": module_source(3)})
    body = github_push(repo, "acme/gadgets", "0" * 40, head)
    headers = sign(body, delivery="bad-1")
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    status, answer = up.post("github", body, headers)
    assert status == 401 and "Signature" in answer["error"]
    status, _ = up.post("github", body, {k: v for k, v in headers.items() if "Signature" not in k})
    assert status == 401
    ledger = read_rows(up.settings.table_uri("commits"), CommitRecord).to_pylist()
    assert not [r for r in ledger if r["repo"] == "acme/gadgets"]


def test_bad_input_gets_a_reason(up: Up) -> None:
    body = b'{"ref": "refs/heads/main"}'
    status, answer = up.post("github", body, sign(body, delivery="bad-2"))
    assert status == 400 and "repository" in answer["error"]
    body = b"{not json"
    status, answer = up.post("github", body, sign(body, delivery="bad-3"))
    assert status == 400 and "JSON" in answer["error"]
    body = b'{"action": "opened"}'
    status, answer = up.post("github", body, sign(body, event="issues", delivery="bad-4"))
    assert (status, answer["status"]) == (202, "ignored")
    big = b" " * 100_000
    status, answer = up.post("github", big, sign(b"", delivery="bad-5"))
    assert status == 413


def test_ping_and_tag_deletion(up: Up) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks"
    ping = (fixtures / "ping-payload.json").read_bytes()
    assert up.post("github", ping, sign(ping, event="ping", delivery="p1"))[0] == 200
    tag = (fixtures / "push-payload.json").read_bytes()
    status, answer = up.post("github", tag, sign(tag, delivery="t1"))
    assert status == 202 and answer["commits"] == 0


def test_gitlab_push_hook_with_its_token(up: Up, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "lab")
    head = repo.commit({"svc/handlers.py": module_source(5)}, "handlers")
    payload = {
        "object_kind": "push",
        "event_name": "push",
        "before": "0" * 40,
        "after": head,
        "ref": "refs/heads/main",
        "checkout_sha": head,
        "project": {"path_with_namespace": "group/lab", "git_http_url": f"file://{repo.path}"},
        "commits": [
            {
                "id": head,
                "message": "handlers",
                "timestamp": "2026-01-01T00:00:00Z",
                "author": {"name": "Ada", "email": "ada@example.com"},
                "added": ["svc/handlers.py"],
                "modified": [],
                "removed": [],
            }
        ],
        "total_commits_count": 1,
    }
    body = json.dumps(payload).encode()
    wrong = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "nope"}
    assert up.post("gitlab", body, wrong)[0] == 401
    right = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": WEBHOOK_SECRET}
    status, answer = up.post("gitlab", body, right)
    assert status == 202, answer

    def landed() -> int:
        return sources(up, "group/lab")

    eventually(lambda: landed() == 7, timeout=60)


def test_metrics_count_what_happened(up: Up) -> None:
    receiver = f"http://127.0.0.1:{up.ports['webhook']}/metrics"
    with urllib.request.urlopen(receiver, timeout=5) as response:
        text = response.read().decode()
    assert 'codemill_webhook_requests_total{outcome="401",provider="github"}' in text
    assert 'codemill_webhook_requests_total{outcome="202",provider="github"}' in text
    worker = f"http://127.0.0.1:{up.ports['worker']}/metrics"
    with urllib.request.urlopen(worker, timeout=5) as response:
        text = response.read().decode()
    assert 'codemill_rows_written_total{table="completion"}' in text
    assert "codemill_sink_batch_seconds_bucket" in text
    assert 'codemill_push_events_total{source="github"}' in text


def test_garbage_on_the_push_topic_lands_in_rejects(up: Up) -> None:
    from confluent_kafka import Producer

    from common.rows import Reject

    bootstrap = json.loads((up.home / "stack.json").read_text())["bootstrap"]
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(
        "codemill.git.push", key=b"x", value=b'{"repo": "acme/x", "password": "hunter2hunter2"}'
    )
    assert producer.flush(10) == 0

    def rejected() -> list[dict[str, Any]]:
        rows = read_rows(up.settings.table_uri("rejects"), Reject).to_pylist()
        return [r for r in rows if r["stage"] == "push"]

    eventually(lambda: len(rejected()) == 1, timeout=30)
    row = rejected()[0]
    assert row["reason"].startswith("invalid push event:")
    assert "hunter2hunter2" not in row["input"]


def test_backfill_uses_the_running_stack(up: Up, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "hist")
    for i in range(3):
        repo.commit({f"h/m{i}.py": module_source(40 + i)})
    env = {**os.environ, "CODEMILL_HOME": str(up.home)}
    env.pop("CODEMILL_KAFKA_BOOTSTRAP", None)
    result = subprocess.run(
        [sys.executable, "-m", "codemill", "backfill", str(repo.path), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["repository"], figures["commits_ingested"]) == ("hist", 3)
    # up's own worker did the work: backfill started no stack of its own
    worker = f"http://127.0.0.1:{up.ports['worker']}/metrics"
    with urllib.request.urlopen(worker, timeout=5) as response:
        assert 'codemill_push_events_total{source="backfill"} 1.0' in response.read().decode()


def test_up_answers_completions_from_the_base_at_once(up: Up) -> None:
    key = (up.home / "api_keys").read_text().split(":")[0]  # generated on first start
    assert (up.home / "api_keys").stat().st_mode & 0o777 == 0o600
    status, done = json_call(
        f"http://127.0.0.1:{up.ports['serving']}/v1/completions",
        {"prompt": "def add(a, b):\n", "max_tokens": 4},
        key=key,
    )
    assert status == 200 and done["model_version"] == "base"
    shown = subprocess.run(
        [sys.executable, "-m", "codemill", "status", "--format", "json"],
        env={**os.environ, "CODEMILL_HOME": str(up.home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    serving = json.loads(shown.stdout)["serving"]
    assert serving["weights"] == {"base": 1.0} and serving["rolling_out"] is None


def test_codemill_deploy_rolls_a_blessed_version_out_as_a_canary(up: Up) -> None:
    base = up.home / "models" / "base" / "tiny"
    registry = Registry(up.settings)
    blessed(registry, "0.1.0", base, fine_tune(base, up.home / "adapters" / "0.1.0"))
    env = {**os.environ, "CODEMILL_HOME": str(up.home)}
    deploy = [sys.executable, "-m", "codemill", "deploy", "0.1.0"]
    shown = subprocess.run(
        [*deploy, "--strategy", "canary", "--weight", "0.3", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["serving"] == {"0.1.0": 0.3, "base": 0.7}
    assert registry.get("0.1.0").status == "canary"
    again = subprocess.run(deploy, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "only a blessed version" in again.stderr
    with urllib.request.urlopen(f"http://127.0.0.1:{up.ports['serving']}/healthz") as response:
        assert json.loads(response.read())["rolling_out"] == "0.1.0"


def test_up_restarts_a_worker_that_died(up: Up, tmp_path: Path) -> None:
    found = subprocess.run(
        ["pgrep", "-P", str(up.proc.pid), "-f", "streams.worker"], capture_output=True, text=True
    )
    (worker_pid,) = found.stdout.split()
    os.kill(int(worker_pid), signal.SIGKILL)

    repo = GitRepo(tmp_path / "after-crash")
    head = repo.commit({"a/survivor.py": module_source(77)}, "after the crash")
    body = github_push(repo, "acme/after-crash", "0" * 40, head)
    status, _ = up.post("github", body, sign(body, delivery="after-crash-1"))
    assert status == 202  # the receiver does not depend on the worker

    def landed() -> int:
        return sources(up, "acme/after-crash")

    eventually(lambda: landed() == 7, timeout=120)


PAGER = '''"""Paging helpers."""


def load_page(items, page, size=10):
    """Return one page of items."""
    start = page * size
    end = start + size
    result = []
    for i in range(start, end):
        result.append(items[i])
    return result
'''


def test_review_suggestion_becomes_a_refactoring_row(up: Up, tmp_path: Path) -> None:
    """A GitHub review comment with a suggestion, on a commit the mirror can fetch: the whole
    function before and after the suggestion lands in ``refactoring`` with the comment."""
    repo = GitRepo(tmp_path / "reviewed")
    head = repo.commit({"src/pager.py": PAGER}, "pager")
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks"
    payload = json.loads((fixture / "pull-request-review-comment.json").read_text())
    payload["repository"].update(full_name="acme/reviewed", clone_url=f"file://{repo.path}")
    payload["comment"].update(commit_id=head, original_commit_id=head)
    body = json.dumps(payload).encode()
    status, answer = up.post(
        "github",
        body,
        sign(body, event="pull_request_review_comment", delivery="review-1"),
    )
    assert status == 202 and answer["status"] == "accepted", answer

    def reviewed() -> list[dict[str, Any]]:
        if open_table(up.settings.table_uri("refactoring")) is None:
            return []
        rows = read_rows(up.settings.table_uri("refactoring"), RefactoringExample).to_pylist()
        return [r for r in rows if r["repo"] == "acme/reviewed"]

    eventually(lambda: len(reviewed()) == 1, timeout=60)
    (row,) = reviewed()
    assert (row["source"], row["symbol"], row["commit"]) == ("review", "load_page", head)
    assert row["after"].endswith("return items[start:end]")
    assert "stops at the end of the list" in row["message"]
    # The review event is no push: the ledger has no commit for it.
    ledger = read_rows(up.settings.table_uri("commits"), CommitRecord).to_pylist()
    assert not [r for r in ledger if r["repo"] == "acme/reviewed"]
