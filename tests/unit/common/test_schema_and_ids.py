from datetime import UTC, datetime

import pyarrow as pa

from common.ids import author_hash, example_id
from common.rows import CommitRecord, CompletionExample
from common.schema import arrow_schema, to_arrow


def test_ids_are_deterministic_and_sensitive_to_every_part() -> None:
    base = example_id("acme/w", "a.py", "f", "def f(): pass")
    assert base == example_id("acme/w", "a.py", "f", "def f(): pass")
    assert len(base) == 32
    variants = {
        example_id("acme/x", "a.py", "f", "def f(): pass"),
        example_id("acme/w", "b.py", "f", "def f(): pass"),
        example_id("acme/w", "a.py", "g", "def f(): pass"),
        example_id("acme/w", "a.py", "f", "def f(): return"),
        example_id("acme/wa.py", "", "f", "def f(): pass"),
    }
    assert base not in variants and len(variants) == 5


def test_author_hash_hides_the_email() -> None:
    assert author_hash("Ada@Example.com ") == author_hash("ada@example.com")
    assert "ada" not in author_hash("ada@example.com")


def test_schema_follows_the_model() -> None:
    schema = arrow_schema(CompletionExample)
    assert schema.names == list(CompletionExample.model_fields)
    assert schema.field("imports").type == pa.list_(pa.string())
    assert schema.field("committed_at").type == pa.timestamp("us", tz="UTC")
    ledger = arrow_schema(CommitRecord)
    assert ledger.field("committed_at").nullable
    assert ledger.field("skipped").type == pa.map_(pa.string(), pa.int64())


def test_rows_convert_to_arrow() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    row = CommitRecord(
        repo="r", sha="s", status="ingested", event_id="e", skipped={"binary": 2}, recorded_at=now
    )
    table = to_arrow(CommitRecord, [row.model_dump()])
    assert table.num_rows == 1
    assert table.column("skipped").to_pylist() == [[("binary", 2)]]
