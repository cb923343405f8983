"""A lake written by an older codemill: a table whose rows lack a column the model has since
gained takes new rows with it, and its old rows read back with the column empty."""

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from common.lake import append_rows, read_rows
from common.rows import FeedbackRecord
from common.schema import arrow_schema, from_arrow


def test_a_new_column_is_merged_into_an_older_table(tmp_path: Path) -> None:
    uri = str(tmp_path / "feedback")
    row = FeedbackRecord(
        id="f1",
        completion_id="cmpl-1",
        model_version="0.1.0",
        kind="accept",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    ).model_dump()
    older = arrow_schema(FeedbackRecord)
    older = older.remove(older.get_field_index("confidence"))
    old_row = {k: v for k, v in row.items() if k != "confidence"}
    write_deltalake(uri, pa.Table.from_pylist([old_row], schema=older))

    append_rows(uri, FeedbackRecord, [{**row, "id": "f2", "confidence": 0.8}])

    stored = {r.id: r for r in from_arrow(FeedbackRecord, read_rows(uri, FeedbackRecord))}
    assert stored["f1"].confidence is None and stored["f2"].confidence == 0.8
