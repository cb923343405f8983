"""Reading a table: one on local disk goes through Arrow's own file system (delta-rs's Python
one, called from Arrow's threads, aborts the interpreter at exit in most runs), read back whole
and filtered, and the process that read it exits cleanly."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc

from common.lake import append_rows, local_path, open_table, scan
from common.rows import FeedbackRecord

ROOT = Path(__file__).resolve().parents[3]


def test_local_paths_and_object_stores() -> None:
    assert local_path("file:///srv/lake%20a/feedback/") == "/srv/lake a/feedback/"
    assert local_path("/srv/lake/feedback") == "/srv/lake/feedback"
    assert local_path("s3://bucket/lake/feedback") is None
    assert local_path("az://container/lake/feedback") is None


def write(uri: str, batches: int) -> None:
    for b in range(batches):  # a file a batch
        rows = [
            FeedbackRecord(
                id=f"f{b}-{i}",
                completion_id=f"cmpl-{b}-{i}",
                model_version=f"0.{b % 2}.0",
                kind="accept",
                received_at=datetime(2026, 1, 1, tzinfo=UTC),
            ).model_dump()
            for i in range(20)
        ]
        append_rows(uri, FeedbackRecord, rows)


def test_a_local_table_reads_whole_and_filtered(tmp_path: Path) -> None:
    uri = str(tmp_path / "feedback")
    write(uri, 4)
    table = open_table(uri, None)
    assert table is not None
    assert scan(table).num_rows == 80
    older = scan(table, ["id"], pc.field("model_version") == "0.1.0")
    assert older.column_names == ["id"] and older.num_rows == 40


def test_a_process_that_read_tables_exits_cleanly(tmp_path: Path) -> None:
    uri = str(tmp_path / "feedback")
    write(uri, 6)
    reader = (
        "import sys; from common.lake import open_table, scan\n"
        "print(sum(scan(open_table(sys.argv[1], None)).num_rows for _ in range(5)))"
    )
    for _ in range(4):  # the abort came in most runs, not all
        run = subprocess.run(
            [sys.executable, "-c", reader, uri], cwd=ROOT, capture_output=True, text=True
        )
        assert (run.returncode, run.stdout.strip()) == (0, "600"), run.stderr[-2000:]
