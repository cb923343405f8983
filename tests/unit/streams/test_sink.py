"""The sink's replay and duplicate logic, pure and against a real local Delta table."""

from datetime import UTC, datetime
from pathlib import Path

from common.lake import read_rows
from common.rows import Bundle, CommitRecord, CompletionExample, NamingExample, Reject
from common.settings import Settings
from streams.sink import Decoded, DeltaSink, Incoming, Keys, decode, select_new
from streams.validate import fingerprint

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def example(i: int, body: str = "", **fields: object) -> CompletionExample:
    body = body or f"def f{i}(): pass"
    content_hash, bands = fingerprint(body)
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
        body=body,
        start_line=1,
        end_line=1,
        content_hash=content_hash,
        lsh_bands=bands,
        **fields,
    )


def naming(i: int) -> NamingExample:
    return NamingExample(
        id=f"naming-{i}",
        repo="r",
        commit="c",
        path="a.py",
        symbol=f"f{i}",
        language="python",
        author_hash="h",
        committed_at=NOW,
        ingested_at=NOW,
        kind="function",
        concept="def <NAME>(): pass",
        name=f"f{i}",
        convention="lowercase",
        source_id=f"id-{i}",
    )


def bundle(i: int, body: str = "") -> Bundle:
    return Bundle(id=f"id-{i}", source=example(i, body), derived=[naming(i)])


def ledger(sha: str) -> CommitRecord:
    return CommitRecord(repo="r", sha=sha, status="ingested", event_id="e", recorded_at=NOW)


def incoming(
    partition: int, offset: int, record: CompletionExample | CommitRecord | Bundle
) -> Incoming:
    return Incoming(partition, offset, record.model_dump_json().encode())


def test_select_new_drops_replays_and_known_keys() -> None:
    rows = [
        Decoded(incoming(0, o, example(o)), "completion", example(o).model_dump()) for o in range(5)
    ]
    # same id, other offset
    rows.append(Decoded(incoming(1, 0, example(2)), "completion", example(2).model_dump()))
    chosen = select_new(rows, "completion", {0: 1, 1: None}, Keys(ids={"id-3"}), {})
    assert [r["id"] for r in chosen.rows] == ["id-2", "id-4"]
    assert chosen.replayed == 2  # offsets 0 and 1 of partition 0
    assert chosen.duplicates == 2  # id-3 already in the table, id-2 twice in the batch


BODY = """def total(items):
    result = 0
    for item in items:
        if item.price > 0:
            result += item.price * item.quantity
    return result
"""


def test_content_duplicates_are_dropped_with_their_derived_rows(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    sink = DeltaSink(settings, "test")
    first = sink.write([incoming(0, 0, bundle(1, BODY))])
    assert first.written == {"completion": 1, "naming": 1}
    # The same code elsewhere (other id, layout changed): an exact duplicate up to layout.
    moved = bundle(2, BODY.replace("    ", "  "))
    # One line changed in a long function: a near-duplicate by MinHash LSH.
    near = bundle(3, BODY + "\n".join(f"    log(item_{k}, result)" for k in range(40)))
    nearer = bundle(4, BODY + "\n".join(f"    log(item_{k}, result)" for k in range(41)))
    other = bundle(5, "def greet(name):\n    return f'hello {name} from the other module'\n")
    second = DeltaSink(settings, "test").write(
        [incoming(0, 1, moved), incoming(0, 2, near), incoming(0, 3, nearer), incoming(0, 4, other)]
    )
    assert second.written == {"completion": 2, "naming": 2}
    # the moved copy, its naming row and the naming row of the near-duplicate
    assert second.duplicates == 3 and second.near_duplicates == 1
    ids = read_rows(settings.table_uri("completion"), CompletionExample, ["id"])["id"].to_pylist()
    assert sorted(ids) == ["id-1", "id-3", "id-5"]
    names = read_rows(settings.table_uri("naming"), NamingExample, ["id"])["id"].to_pylist()
    assert sorted(names) == ["naming-1", "naming-3", "naming-5"]


def test_augmented_rows_are_not_duplicates_of_their_source() -> None:
    source = example(1, BODY)
    variant = example(2, BODY.replace("    ", "  "), augmentation="reformat", source_id="id-1")
    rows = [
        Decoded(incoming(0, 0, source), "completion", source.model_dump()),
        Decoded(incoming(0, 1, variant), "completion", variant.model_dump(), "id-1"),
    ]
    chosen = select_new(rows, "completion", {}, Keys(), {})
    assert [r["id"] for r in chosen.rows] == ["id-1", "id-2"]


def test_decode_turns_garbage_into_a_reject() -> None:
    decoded = decode([Incoming(2, 9, b"{oops"), incoming(0, 0, ledger("a"))], NOW)
    assert [d.table for d in decoded] == ["rejects", "commits"]
    reject = decoded[0].row
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
