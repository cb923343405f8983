"""Backfill through the real broker, Faust worker and Delta; a SIGKILLed worker loses nothing."""

import os
import signal
from pathlib import Path

import pytest

from common.lake import open_table, read_rows
from common.rows import EXAMPLE_TABLES, TABLE_MODELS, CommitRecord, CompletionExample, Reject
from common.settings import IngestSettings, Settings
from infra.stack import local_stack, start_worker, wait_worker_ready
from streams.backfill import plan_backfill, progress, publish
from streams.kafka import AsyncProducer
from tests.integration.conftest import eventually, make_settings
from tests.support.gitrepo import GitRepo, module_source

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COMMITS = 120


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = GitRepo(tmp_path_factory.mktemp("history") / "widgets")
    for i in range(COMMITS):
        files: dict[str, str | bytes] = {f"pkg/mod_{i}.py": module_source(i)}
        if i % 10 == 3:
            files[f"pkg/broken_{i}.py"] = "def broken(:\n    pass\n"
        if i % 10 == 5:
            files[f"assets/logo_{i}.bin"] = b"\x00\x01binary"
        repo.commit(files, f"commit {i}")
    return repo


def _publish(settings: Settings, source: Path) -> list[str]:
    import asyncio

    plan = plan_backfill(settings, str(source))
    producer = AsyncProducer(settings.kafka.client_config())
    try:
        asyncio.run(publish(settings, producer, plan))
    finally:
        producer.close()
    return [c.sha for c in plan.pending]


def _ids(settings: Settings) -> list[str]:
    """The ids of every example table's rows, each prefixed by its table."""
    ids = []
    for table in EXAMPLE_TABLES:
        if open_table(settings.table_uri(table)) is not None:
            found = read_rows(settings.table_uri(table), TABLE_MODELS[table], ["id"])["id"]
            ids += [f"{table}:{i}" for i in found.to_pylist()]
    return ids


def _ingested(settings: Settings, shas: list[str]) -> int:
    state = progress(settings, "widgets", shas)
    return state.done + state.failed


def test_backfill_lands_every_function_with_provenance(tmp_path: Path, history: GitRepo) -> None:
    with local_stack(make_settings(tmp_path / "home")) as stack:
        shas = _publish(stack.settings, history.path)
        assert len(shas) == COMMITS
        eventually(lambda: _ingested(stack.settings, shas) == COMMITS, timeout=180)
        rows = read_rows(stack.settings.table_uri("completion"), CompletionExample).to_pylist()
        rejects = read_rows(stack.settings.table_uri("rejects"), Reject).to_pylist()
    variants = [r for r in rows if r["augmentation"]]
    assert {r["source_id"] for r in variants} <= {r["id"] for r in rows}
    rows = [r for r in rows if not r["augmentation"]]
    # 5 functions + 1 class + 1 method per module, each once (no two are near-duplicates)
    assert len(rows) == COMMITS * 7
    assert len({r["id"] for r in rows}) == len(rows)
    by_symbol = {(r["path"], r["symbol"]): r for r in rows}
    first = by_symbol[("pkg/mod_0.py", "compute_0_1")]
    assert first["commit"] == shas[0]
    assert first["language"] == "python"
    assert first["kind"] == "function"
    assert first["docstring"].startswith("Add 1 to the ")
    assert first["category"] and first["intent"] and 0 < first["quality"] <= 1
    assert first["content_hash"] and len(first["lsh_bands"]) == 8
    assert first["signature"].startswith("def compute_0_1(value: int) -> int")
    assert "ada@example.com" not in str(first)
    method = by_symbol[("pkg/mod_7.py", "Service7.run")]
    assert method["kind"] == "method" and method["enclosing_class"] == "Service7"
    broken = sorted(r["path"] for r in rejects)
    assert broken == sorted(f"pkg/broken_{i}.py" for i in range(COMMITS) if i % 10 == 3)
    assert all(r["stage"] == "extract" and "syntax error" in r["reason"] for r in rejects)


def test_sigkill_mid_backfill_leaves_the_same_ids(tmp_path: Path, history: GitRepo) -> None:
    with local_stack(make_settings(tmp_path / "reference")) as stack:
        shas = _publish(stack.settings, history.path)
        eventually(lambda: _ingested(stack.settings, shas) == COMMITS, timeout=180)
        reference = _ids(stack.settings)

    # Small push events, so the ledger moves in small steps and the kill lands mid-backfill.
    settings = make_settings(tmp_path / "killed").model_copy(
        update={"ingest": IngestSettings(commits_per_event=3)}
    )
    with local_stack(settings) as stack:
        shas = _publish(stack.settings, history.path)
        eventually(lambda: _ingested(stack.settings, shas) >= 3, timeout=180, every=0.02)
        assert stack.worker is not None
        os.kill(stack.worker.pid, signal.SIGKILL)
        stack.worker.wait()
        assert _ingested(stack.settings, shas) < COMMITS, "the worker finished before the kill"
        stack.worker = start_worker(stack.settings)
        wait_worker_ready(stack.settings, stack.worker, timeout=120)
        eventually(lambda: _ingested(stack.settings, shas) == COMMITS, timeout=240)
        survived = _ids(stack.settings)
        ledger = read_rows(stack.settings.table_uri("commits"), CommitRecord).to_pylist()

    assert len(survived) == len(set(survived)), "duplicated examples after the crash"
    assert set(survived) == set(reference), "lost or extra examples after the crash"
    ingested = [r for r in ledger if r["status"] == "ingested"]
    assert len({r["sha"] for r in ingested}) == COMMITS
