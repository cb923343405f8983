"""The closed loop, unattended, on embedded defaults: `codemill up` ingests a Python repository,
trains, blesses and canaries the first version by itself and promotes it on live traffic; a
push of more Python code raises no alert; a push of Go code raises a drift alert (seen on the
topic, on the loop worker's /metrics, at the test's webhook and in the Evidently workspace),
and the controller retrains: the new version is evaluated against the live one and, when
blessed, canaried and promoted or rolled back. No command is typed after `codemill up`."""

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from common.events import DriftAlert
from common.lake import read_rows
from common.names import Topic
from common.rows import CompletionExample, DriftReport, ModelRecord
from common.runfiles import live_record, loop_file
from common.schema import from_arrow
from common.settings import Settings
from infra.broker import free_port
from tests.integration.conftest import WEBHOOK_SECRET, eventually
from tests.integration.test_webhook_to_delta import github_push, signed
from tests.support.gitrepo import GitRepo, go_source, module_source
from tests.support.http import json_call
from training.registry import Registry
from training.tiny import train_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]
KEY = "loop-test-key-0123456789"


@dataclass
class Hooks:
    """The test's chat webhook: every JSON body POSTed to it."""

    received: list[dict[str, Any]] = field(default_factory=list)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


@dataclass
class Loop:
    home: Path
    webhook_port: int
    serving_port: int
    loop_port: int
    hooks: Hooks
    settings: Settings

    def push(self, repo: GitRepo, before: str, after: str) -> None:
        body = github_push(repo, "acme/shop", before, after)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.webhook_port}/webhooks/github",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **signed(body, delivery=after)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 202

    def models(self) -> dict[str, ModelRecord]:
        return {r.version: r for r in Registry(self.settings).list()}

    def reports(self) -> list[DriftReport]:
        rows = read_rows(self.settings.table_uri("drift_reports"), DriftReport)
        return sorted(from_arrow(DriftReport, rows), key=lambda r: r.checked_at)

    def rows(self) -> int:
        rows = read_rows(self.settings.table_uri("completion"), CompletionExample, ["augmentation"])
        return sum(1 for r in rows.to_pylist() if not r["augmentation"])


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    home = tmp_path_factory.mktemp("loop")
    train_tiny(home / "models" / "base" / "tiny", minutes=0.2, max_steps=40)
    hooks = Hooks()
    server, hook_url = hooks.serve()
    ports = {name: free_port() for name in ("webhook", "worker", "serving", "loop")}
    env = {
        **os.environ,
        "CODEMILL_HOME": str(home),
        "CODEMILL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CODEMILL_WEBHOOK_PORT": str(ports["webhook"]),
        "CODEMILL_WEBHOOK_HOST": "127.0.0.1",
        "CODEMILL_WORKER_PORT": str(ports["worker"]),
        "CODEMILL_WORKER_SESSION_TIMEOUT": "6",
        "CODEMILL_LAKE_BATCH_SECONDS": "0.2",
        "CODEMILL_BASE_MODEL": "tiny",
        "CODEMILL_API_KEYS": f"{KEY}:complete+feedback",
        "CODEMILL_SERVING_PORT": str(ports["serving"]),
        "CODEMILL_SERVING_RATE_LIMIT": "0",
        "CODEMILL_SERVING_CPUS_PER_REPLICA": "0.5",
        "CODEMILL_ROLLOUT_CANARY_WEIGHT": "0.5",
        "CODEMILL_ROLLOUT_STEPS": "[0.5, 1.0]",
        "CODEMILL_ROLLOUT_MIN_REQUESTS_PER_STEP": "10",
        "CODEMILL_ROLLOUT_MIN_FEEDBACK": "3",
        "CODEMILL_ROLLOUT_INTERVAL_S": "0.5",
        "CODEMILL_ROLLOUT_WATCH_S": "2",
        "CODEMILL_TRAINING_MAX_STEPS": "40",
        "CODEMILL_TRAINING_MIN_EXAMPLES": "30",
        "CODEMILL_TRAINING_LEARNING_RATE": "0.002",
        "CODEMILL_TRAINING_EVAL_EXAMPLES": "40",
        "CODEMILL_DRIFT_INTERVAL_S": "4",
        "CODEMILL_DRIFT_MIN_ROWS": "20",
        "CODEMILL_DRIFT_DEBOUNCE_S": "6",
        "CODEMILL_DRIFT_RETRAIN_COOLDOWN_S": "0",
        "CODEMILL_DRIFT_VOLUME_ROWS": "100000",
        "CODEMILL_DRIFT_WEBHOOK_URL": hook_url,
        "CODEMILL_DRIFT_PORT": str(ports["loop"]),
    }
    env.pop("CODEMILL_KAFKA_BOOTSTRAP", None)
    log = (home / "up.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "codemill", "up"], env=env, stdout=log, stderr=subprocess.STDOUT
    )

    def answering() -> bool:
        assert proc.poll() is None, (home / "up.log").read_text()
        status, _ = json_call(f"http://127.0.0.1:{ports['serving']}/healthz")
        hooked, _ = json_call(f"http://127.0.0.1:{ports['webhook']}/healthz")
        return status == hooked == 200

    try:
        eventually(lambda: _quietly(answering), timeout=240, every=1)
        bootstrap = live_record(home / "stack.json")
        assert bootstrap is not None
        settings = Settings(home=home).with_bootstrap(bootstrap["bootstrap"])
        yield Loop(home, ports["webhook"], ports["serving"], ports["loop"], hooks, settings)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=90)
        log.close()
        server.shutdown()
        logs = home / "logs" / "loop.log"
        print(
            (home / "up.log").read_text()[-4000:], logs.read_text()[-6000:] if logs.exists() else ""
        )
        assert code == 0


def _quietly(check: Any) -> bool:
    try:
        return bool(check())
    except (OSError, ValueError):  # not listening yet, or Serve's proxy answering without JSON
        return False


class Developers:
    """Developers typing Python while the test runs: completions, each accepted."""

    def __init__(self, api: str) -> None:
        self.api, self.stop, self.answers = api, threading.Event(), 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with ThreadPoolExecutor(4) as pool:
            n = 0
            while not self.stop.wait(0.25):
                pool.submit(self.one, n)
                n += 1

    def one(self, n: int) -> None:
        body = {
            "prompt": f"def compute_{n % 40}(value: int) -> int:\n",
            "max_tokens": 6,
            "user": f"dev-{uuid.uuid4().hex}",
        }
        status, done = json_call(f"{self.api}/v1/completions", body, key=KEY)
        if status == 200:
            self.answers += 1
            feedback = {"completion_id": done["id"], "kind": "accept"}
            json_call(f"{self.api}/v1/feedback", feedback, key=KEY)


def alerts(settings: Settings) -> list[DriftAlert]:
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": f"test-loop-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    topic = str(Topic.DRIFT_ALERTS)
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    found: list[DriftAlert] = []
    try:
        for _ in range(20):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                found.append(DriftAlert.model_validate_json(message.value() or b""))
    finally:
        consumer.close()
    return found


def test_drift_retrains_and_rolls_out_without_a_human(loop: Loop, tmp_path: Path) -> None:
    developers = Developers(f"http://127.0.0.1:{loop.serving_port}")
    developers.thread.start()
    try:
        _run(loop, tmp_path, developers)
    finally:
        developers.stop.set()


def _run(loop: Loop, tmp_path: Path, developers: Developers) -> None:
    repo = GitRepo(tmp_path / "shop")
    head = repo.commit({"README.md": "# shop\n"}, "start")

    # 1. One style, one language: the loop trains the first version by itself, serving canaries
    # it and promotes it on the developers' traffic.
    for i in range(8):
        files = {f"shop/m{i}_{j}.py": module_source(i * 10 + j) for j in range(2)}
        before, head = head, repo.commit(files, f"python module {i}")
        loop.push(repo, before, head)
    eventually(lambda: loop.rows() >= 80, timeout=120)
    eventually(lambda: loop.models().get("0.1.0") is not None, timeout=300, every=2)
    assert "retrained on first" in Registry(loop.settings).history("0.1.0")[0].reason
    eventually(lambda: loop.models()["0.1.0"].status == "live", timeout=300, every=2)
    live = loop.models()["0.1.0"]

    # 2. Control: more code of the same kind is no drift and raises no alert.
    control_rows = loop.rows()
    for i in range(8, 11):
        files = {f"shop/m{i}_{j}.py": module_source(i * 10 + j) for j in range(2)}
        before, head = head, repo.commit(files, f"python module {i}")
        loop.push(repo, before, head)
    eventually(lambda: loop.rows() >= control_rows + 30, timeout=120)
    settled = loop.rows()

    def control_report() -> DriftReport | None:
        found = [r for r in loop.reports() if r.model_version == "0.1.0"]
        return next((r for r in reversed(found) if r.current_rows >= settled - live_rows), None)

    live_rows = control_rows  # rows the live version could have seen, at most
    eventually(lambda: control_report() is not None, timeout=120, every=2)
    report = control_report()
    assert report is not None and "data" not in report.drifted, report.verdict
    assert report.reference_rows > 0 and "data no drift" in report.verdict
    assert not [a for a in alerts(loop.settings) if "data" in a.kinds]
    assert not loop.hooks.received

    # 3. Another language and style: a data drift alert, everywhere it should be seen.
    for i in range(6):
        files = {f"svc/s{i}_{j}.go": go_source(i * 10 + j) for j in range(2)}
        before, head = head, repo.commit(files, f"go service {i}")
        loop.push(repo, before, head)
    eventually(lambda: any("data" in a.kinds for a in alerts(loop.settings)), timeout=180)
    alert = next(a for a in alerts(loop.settings) if "data" in a.kinds)
    assert alert.model_version == "0.1.0"
    assert "data.language" in alert.drifted_features
    assert Path(alert.report_url).exists()  # Evidently's HTML report
    eventually(lambda: bool(loop.hooks.received), timeout=30)
    assert "0.1.0" in loop.hooks.received[0]["text"]
    assert loop.hooks.received[0]["blocks"][0]["type"] == "header"
    with urllib.request.urlopen(f"http://127.0.0.1:{loop.loop_port}/metrics") as page:
        metrics = page.read().decode()
    assert 'codemill_drift_detected{kind="data",model_version="0.1.0"} 1.0' in metrics
    assert 'codemill_drift_alerts_total{kind="data"}' in metrics
    from evidently.ui.workspace import Workspace

    workspace = Workspace(str(loop.home / "evidently"))
    projects = workspace.search_project("codemill model 0.1.0")
    assert projects and workspace.list_runs(projects[0].id)

    # 4. The controller retrains on the drift; the candidate is judged against the live
    # version; a blessed one is canaried and then promoted or rolled back.
    eventually(lambda: loop.models().get("0.2.0") is not None, timeout=400, every=2)
    second = Registry(loop.settings).history("0.2.0")
    assert second[0].parent_version == "0.1.0"
    assert "retrained on drift" in second[0].reason and "data.language" in second[0].reason
    assert second[0].data_versions["completion"] > live.data_versions["completion"]
    assert "baseline_next_token_accuracy" in second[0].metrics

    def outcome() -> str | None:
        state = live_record(loop_file(loop.home)) or {}
        lines = [d.get("outcome", "") for d in state.get("decisions", [])]
        return next((line for line in lines if line.startswith("0.2.0 trained")), None)

    eventually(lambda: outcome() is not None, timeout=120, every=1)
    if "not blessed" in (outcome() or ""):  # evaluated and not good enough: never served
        assert [r.status for r in Registry(loop.settings).history("0.2.0")] == ["candidate"]
        return
    eventually(lambda: loop.models()["0.2.0"].status in ("live", "rolled_back"), timeout=400)
    statuses = [r.status for r in Registry(loop.settings).history("0.2.0")]
    assert statuses[:3] == ["candidate", "blessed", "canary"], statuses
    assert developers.answers > 0
