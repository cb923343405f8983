"""The sink's replay and duplicate logic, pure and against a real local Delta table."""

from datetime import UTC, datetime
from pathlib import Path

from common.lake import read_rows
from common.rows import CommitRecord, CompletionExample, Reject
from common.settings import Settings
from streams.sink import DeltaSink, Incoming, decode, select_new

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def example(i: int) -> CompletionExample:
    return CompletionExample(
        id=f"id-{i}",
        repo="r",
        commit="c",
        path="a.py",
        symbol=f"f{i}",
        language="python",
        author_hash="h",
        committed_at=NOW,
        ingested_at=NOW,
        kind="function",
        signature=f"def f{i}():",
        body=f"def f{i}(): pass",
        start_line=1,
        end_line=1,
    )


def ledger(sha: str) -> CommitRecord:
    return CommitRecord(repo="r", sha=sha, status="ingested", event_id="e", recorded_at=NOW)


def incoming(partition: int, offset: int, record: CompletionExample | CommitRecord) -> Incoming:
    return Incoming(partition, offset, record.model_dump_json().encode())


def test_select_new_drops_replays_and_known_keys() -> None:
    rows = [(incoming(0, o, example(o)), example(o).model_dump()) for o in range(5)]
    rows.append((incoming(1, 0, example(2)), example(2).model_dump()))  # same id, other offset
    fresh, replayed, duplicates = select_new(rows, "completion", {0: 1, 1: None}, {"id-3"})
    assert [r["id"] for r in fresh] == ["id-2", "id-4"]
    assert replayed == 2  # offsets 0 and 1 of partition 0
    assert duplicates == 2  # id-3 already in the table, id-2 twice in the batch


def test_decode_turns_garbage_into_a_reject() -> None:
    decoded = decode([Incoming(2, 9, b"{oops"), incoming(0, 0, ledger("a"))], NOW)
    assert [table for _, table, _ in decoded] == ["rejects", "commits"]
    reject = decoded[0][2]
    assert reject["stage"] == "sink" and "codemill.examples[2]@9" in reject["path"]


def test_replayed_batch_writes_nothing_twice(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    batch = [incoming(0, o, example(o)) for o in range(3)] + [incoming(1, 0, ledger("a"))]
    first = DeltaSink(settings, "test").write(batch)
    assert first.written == {"completion": 3, "commits": 1}

    # A new process (empty caches) replays the same offsets: skipped by app transactions.
    again = DeltaSink(settings, "test").write(batch)
    assert again.written == {} and again.replayed == 4

    # The same examples at new offsets (a re-processed push): skipped by id.
    moved = [incoming(0, 10 + o, example(o)) for o in range(3)] + [incoming(0, 20, example(7))]
    third = DeltaSink(settings, "test").write(moved)
    assert third.written == {"completion": 1} and third.duplicates == 3

    ids = read_rows(settings.table_uri("completion"), CompletionExample, ["id"])["id"].to_pylist()
    assert sorted(ids) == ["id-0", "id-1", "id-2", "id-7"]
    assert read_rows(settings.table_uri("rejects"), Reject).num_rows == 0
