"""The CLI as the README runs it: `codemill demo` and `codemill backfill`, and the README itself."""

import contextlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.lake import read_rows
from common.ports import free_port
from common.rows import CompletionExample
from common.settings import Settings
from infra.stack import local_stack
from streams.backfill import plan_backfill, push_events
from streams.ledger import latest_status, read_ledger, record_received
from tests.integration.conftest import eventually, make_settings
from tests.support.gitrepo import GitRepo, module_source
from training.tiny import train_tiny

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    home: Path,
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "CODEMILL_HOME": str(home),
        "CODEMILL_WORKER_PORT": str(free_port()),
        **(env or {}),
    }
    environment.pop("CODEMILL_KAFKA_BOOTSTRAP", None)
    return subprocess.run(
        [sys.executable, "-m", "codemill", *args],
        env=environment,
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stack_processes(home: Path) -> set[str]:
    """Pids of every broker, Faust worker and loop worker on the machine started for ``home``
    (they inherit its CODEMILL_HOME): another codemill running beside the test is not ours."""
    pattern = "tansu.* broker|streams.worker|training.loop_worker"
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True)
    marker = f"CODEMILL_HOME={home}".encode()
    ours = set()
    for pid in found.stdout.decode().split():
        with contextlib.suppress(OSError):  # it ended meanwhile
            if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                ours.add(pid)
    return ours


def test_demo_ingests_a_repository_and_leaves_nothing_running(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    for i in range(4):
        repo.commit({f"shop/m{i}.py": module_source(i), f"shop/data{i}.bin": b"\x00\xff"}, f"c{i}")
    repo.commit({"shop/bad.py": "def oops(:\n"}, "broken")
    repo.commit(
        {
            "web/cart.ts": "export function total(xs: number[]): number {\n"
            "  return xs.reduce((a, b) => a + b, 0);\n}\n",
            "svc/price.go": "package svc\n\n// Price adds tax.\nfunc Price(c int) int {\n"
            "\treturn c * 2\n}\n",
        },
        "other languages",
    )
    for i in range(4, 8):  # the newest, pushed after the first version is out
        repo.commit({f"shop/m{i}.py": module_source(i)}, f"c{i}")

    home = tmp_path / "home"
    train_tiny(home / "models" / "base" / "tiny", minutes=0.2, max_steps=40)  # the base, ready
    before = stack_processes(home)
    result = run_cli(
        home,
        *("demo", "--repo", str(repo.path), "--format", "json"),
        *("--train-steps", "4", "--completions", "12"),
        env={"CODEMILL_BASE_MODEL": "tiny", "CODEMILL_SERVING_PORT": str(free_port())},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["commits_ingested"] == 8  # the newest 2 of 10 came after the first version
    assert figures["commits_in_history"] == 8 and figures["commits_already_ingested"] == 0
    assert figures["pushed_later"]["commits_ingested"] == 2
    rows = read_rows(Settings(home=tmp_path / "home").table_uri("completion"), CompletionExample)
    sources = [r for r in rows.to_pylist() if not r["augmentation"]]
    assert len(sources) == 8 * 7 + 2  # every definition once; augmented variants beside them
    assert figures["tables"]["completion"] == rows.num_rows >= len(sources)
    by_language = {(r["language"], r["symbol"]) for r in sources}
    assert {("typescript", "total"), ("go", "Price")} <= by_language
    assert figures["rejects_by_reason"] == {"extract: syntax error": 1}
    assert figures["skipped_files"] == {"unsupported_language": 4}
    later = figures["pushed_later"]["examples_new"]
    assert figures["examples_new"] + later == rows.num_rows and figures["new_per_second"] > 0
    assert stack_processes(home) <= before, "a broker or worker of the demo outlived it"

    # Then it fine-tuned the tiny base, rolled the version out as a canary when it was blessed,
    # and developers completed code and sent verdicts that reached Delta.
    training, serving = figures["training"], figures["serving"]
    assert training["trained"] == "0.1.0", training
    served = serving["completions"]
    assert sum(served.values()) == 12 and serving["failed"] == 0
    if training["blessed"]:
        assert set(served) == {"base", "0.1.0"}, served  # half the developers on the canary
    else:
        assert set(served) == {"base"}
    verdicts = sum(sum(kinds.values()) for kinds in serving["feedback"].values())
    assert verdicts == 12 and serving["feedback_rows_in_delta"] == 12

    # Last, the loop's turn: the newest commits were judged against what 0.1.0 learned from.
    loop = figures["loop"]
    assert loop["against"] == "0.1.0" and loop["new_rows"] == 2 * 7
    assert "each window needs 50" in loop["verdict"]  # too few rows for a verdict, and it says so
    assert loop["retrain"].startswith("no (none)")
    assert list(figures["timeline"])[-1] == "checked drift on them and decided whether to retrain"


def test_backfill_branch_and_max_commits(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "lib")
    for i in range(3):
        repo.commit({f"lib/a{i}.py": module_source(i)})
    repo.git("checkout", "-q", "-b", "feature")
    last = repo.commit({"lib/feature.py": module_source(9)}, "feature work")
    repo.git("checkout", "-q", "main")

    result = run_cli(
        tmp_path / "home",
        "backfill",
        str(repo.path),
        "--branch",
        "feature",
        "--max-commits",
        "2",
        "--name",
        "acme/lib",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["repository"], figures["commits_ingested"]) == ("acme/lib", 2)
    rows = read_rows(Settings(home=tmp_path / "home").table_uri("completion"), CompletionExample)
    commits = set(rows["commit"].to_pylist())
    assert last in commits and len(commits) == 2


def test_restart_replays_pushes_the_ledger_still_owes(tmp_path: Path) -> None:
    """The embedded broker forgets; the ledger does not: received-but-not-ingested is replayed."""
    repo = GitRepo(tmp_path / "owed")
    for i in range(3):
        repo.commit({f"o/m{i}.py": module_source(i)})
    settings = make_settings(tmp_path / "home")
    plan = plan_backfill(settings, str(repo.path), name="acme/owed")
    for event in push_events(plan, 2, datetime.now(UTC)):  # accepted, then the broker died
        record_received(settings, event, [c.sha for c in event.commits])

    with local_stack(settings) as stack:
        assert stack.replayed == 1  # the three owed commits, in one push event

        def all_ingested() -> bool:
            latest = latest_status(read_ledger(settings, "acme/owed"))
            return sorted(line.status for line in latest.values()) == ["ingested"] * 3

        eventually(all_ingested, timeout=90)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)
    assert blocks[0] == "bash infra/bootstrap.sh && .venv/bin/codemill demo"
    assert blocks[1] == "bash infra/bootstrap.sh && .venv/bin/pytest"
    assert readme.index(blocks[0]) < 40, "the demo command must open the README"
    assert blocks[1] in (ROOT / ".ci" / "run").read_text()


def test_datasets_reports_counts_languages_and_samples(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "mix")
    repo.commit(
        {"a.py": module_source(1), "b.go": "package b\n\nfunc Add(x int) int {\n\treturn x\n}\n"}
    )
    home = tmp_path / "home"
    assert run_cli(home, "backfill", str(repo.path), "--format", "json").returncode == 0
    result = run_cli(home, "datasets", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    completion = report["mix"]["completion"]
    assert completion["augmentation"][""] == 8  # 8 definitions, plus their augmented variants
    assert report["tables"]["completion"] == sum(completion["augmentation"].values())
    assert set(report["languages"]) == {"python", "go"}
    assert sum(completion["category"].values()) == report["tables"]["completion"]
    assert report["tables"]["naming"] > 0 and report["mix"]["naming"]["convention"]
    assert all(s["head"] and s["label"] for s in report["samples"]["completion"])
    assert report["samples"]["naming"]
