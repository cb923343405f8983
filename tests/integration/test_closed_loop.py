"""The closed loop, unattended, on embedded defaults: `codemill up` ingests a Python repository,
trains, blesses and canaries the first version by itself and promotes it on live traffic; a
push of more Python code raises no alert; a push of Go code raises a drift alert (seen on the
topic, on the loop worker's /metrics, at the test's webhook and in the Evidently workspace),
and the controller retrains: the new version is evaluated against the live one and, when
blessed, canaried and promoted or rolled back. No command is typed after `codemill up`, but
`codemill drift` and `codemill status` are asked at the end, as an engineer would."""

import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from common.events import DriftAlert
from common.names import Topic
from common.rows import DriftReport
from common.runfiles import live_record, loop_file
from common.settings import Settings
from tests.support.gitrepo import GitRepo, go_source, module_source
from tests.support.loop import FAST_LOOP, Developers, Up, eventually
from training.registry import Registry
from training.tiny import train_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    home = tmp_path_factory.mktemp("loop")
    train_tiny(home / "models" / "base" / "tiny", minutes=0.2, max_steps=40)
    env = {
        **FAST_LOOP,
        "CODEMILL_BASE_MODEL": "tiny",
        "CODEMILL_SERVING_CPUS_PER_REPLICA": "0.5",
        "CODEMILL_TRAINING_MAX_STEPS": "40",
        "CODEMILL_TRAINING_MIN_EXAMPLES": "30",
        "CODEMILL_TRAINING_LEARNING_RATE": "0.002",
        "CODEMILL_TRAINING_EVAL_EXAMPLES": "40",
        "CODEMILL_DRIFT_INTERVAL_S": "4",
        "CODEMILL_DRIFT_MIN_ROWS": "20",
    }
    running = Up(home, env, ready_timeout=240)
    try:
        yield running
    finally:
        code = running.stop()
        print(running.logs())
        assert code == 0


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


def python(first: int, commits: int) -> list[dict[str, str | bytes]]:
    return [
        {f"shop/m{i}_{j}.py": module_source(i * 10 + j) for j in range(2)}
        for i in range(first, first + commits)
    ]


def go(commits: int) -> list[dict[str, str | bytes]]:
    return [{f"svc/s{i}_{j}.go": go_source(i * 10 + j) for j in range(2)} for i in range(commits)]


def test_drift_retrains_and_rolls_out_without_a_human(up: Up, tmp_path: Path) -> None:
    with Developers(up.api) as developers:
        _run(up, tmp_path)
        assert developers.answers > 0


def _run(up: Up, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    head = repo.commit({"README.md": "# shop\n"}, "start")

    # 1. One style, one language: the loop trains the first version by itself, serving canaries
    # it and promotes it on the developers' traffic.
    head = up.commit_and_push(repo, head, python(0, 8), "python module")[-1]
    eventually(lambda: up.rows() >= 80, timeout=120)
    eventually(lambda: up.models().get("0.1.0") is not None, timeout=300, every=2)
    assert "retrained on first" in Registry(up.settings).history("0.1.0")[0].reason
    eventually(lambda: up.models()["0.1.0"].status == "live", timeout=300, every=2)
    live = up.models()["0.1.0"]

    # 2. Control: more code of the same kind is no drift and raises no alert.
    live_rows = up.rows()
    head = up.commit_and_push(repo, head, python(8, 3), "python module")[-1]
    eventually(lambda: up.rows() >= live_rows + 30, timeout=120)
    settled = up.rows()

    def control_report() -> DriftReport | None:
        found = [r for r in up.reports() if r.model_version == "0.1.0"]
        return next((r for r in reversed(found) if r.current_rows >= settled - live_rows), None)

    eventually(lambda: control_report() is not None, timeout=120, every=2)
    report = control_report()
    assert report is not None and "data" not in report.drifted, report.verdict
    assert report.reference_rows > 0 and "data no drift" in report.verdict
    assert not [a for a in alerts(up.settings) if "data" in a.kinds]
    assert not up.hooks.received
    # 3. Another language and style: a data drift alert, everywhere it should be seen.
    up.commit_and_push(repo, head, go(6), "go service")
    eventually(lambda: any("data" in a.kinds for a in alerts(up.settings)), timeout=180)
    alert = next(a for a in alerts(up.settings) if "data" in a.kinds)
    assert alert.model_version == "0.1.0"
    assert "data.language" in alert.drifted_features
    assert Path(alert.report_url).exists()  # Evidently's HTML report
    eventually(lambda: bool(up.hooks.received), timeout=30)
    assert "0.1.0" in up.hooks.received[0]["text"]
    assert up.hooks.received[0]["blocks"][0]["type"] == "header"
    with urllib.request.urlopen(f"http://127.0.0.1:{up.ports['loop']}/metrics") as page:
        metrics = page.read().decode()
    assert 'codemill_drift_detected{kind="data",model_version="0.1.0"} 1.0' in metrics
    assert 'codemill_drift_alerts_total{kind="data"}' in metrics
    from evidently.ui.workspace import Workspace

    projects: list[Any] = []

    def has_runs() -> bool:  # read while the loop writes runs: each is written whole
        workspace = Workspace(str(up.home / "evidently"))
        projects[:] = workspace.search_project("codemill model 0.1.0")
        return bool(projects and workspace.list_runs(projects[0].id))

    eventually(has_runs, timeout=30, every=0.5)
    assert projects[0].dashboard.model().panels  # drift share over the checks, per kind

    # 4. The controller retrains on the drift; the candidate is judged against the live
    # version; a blessed one is canaried and then promoted or rolled back.
    eventually(lambda: up.models().get("0.2.0") is not None, timeout=400, every=2)
    second = Registry(up.settings).history("0.2.0")
    assert second[0].parent_version == "0.1.0"
    assert "retrained on drift" in second[0].reason and "data.language" in second[0].reason
    assert second[0].data_versions["completion"] > live.data_versions["completion"]
    assert "baseline_next_token_accuracy" in second[0].metrics

    def outcome() -> str | None:
        state = live_record(loop_file(up.home)) or {}
        lines = [d.get("outcome", "") for d in state.get("decisions", [])]
        return next((line for line in lines if line.startswith("0.2.0 trained")), None)

    eventually(lambda: outcome() is not None, timeout=120, every=1)
    if "not blessed" in (outcome() or ""):  # evaluated and not good enough: never served
        assert [r.status for r in Registry(up.settings).history("0.2.0")] == ["candidate"]
        return
    eventually(lambda: up.models()["0.2.0"].status in ("live", "rolled_back"), timeout=400)
    statuses = [r.status for r in Registry(up.settings).history("0.2.0")]
    assert statuses[:3] == ["candidate", "blessed", "canary"], statuses

    # 5. What an engineer asks afterwards: a check now, and the loop's state.
    checked = cli(up, "drift", "--format", "json")
    assert checked["model_version"] in ("0.1.0", "0.2.0") and checked["verdict"]
    status = cli(up, "status", "--format", "json")
    assert status["drift"]["model_version"] == checked["model_version"]
    loop = status["loop"]
    assert isinstance(loop, dict) and loop["decisions"] and loop["last_check"]["verdict"]


def cli(up: Up, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "codemill", *args],
        env=up.environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, object] = json.loads(result.stdout)
    return answer
