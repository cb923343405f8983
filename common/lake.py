"""Delta Lake read/write helpers shared by every writer and reader of the tables.

Writes are appends carrying Delta app transactions, so a writer can record how far it got (its
Kafka offsets) in the same atomic commit as the rows, and skip anything at or below that on replay.
"""

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import TableNotFoundError
from pyarrow import fs
from pydantic import BaseModel

from common.schema import arrow_schema, to_arrow


def open_table(uri: str, storage_options: Mapping[str, str] | None = None) -> DeltaTable | None:
    """The table at ``uri``, or None where none has been written yet."""
    try:
        return DeltaTable(uri, storage_options=dict(storage_options or {}))
    except TableNotFoundError:
        return None


def append_rows(
    uri: "str | DeltaTable",
    model: type[BaseModel],
    rows: Sequence[dict[str, Any]],
    storage_options: Mapping[str, str] | None = None,
    app_transactions: Mapping[str, int] | None = None,
) -> None:
    """Append ``rows`` (dicts of ``model``) in one Delta commit, recording app transactions.

    Pass an open :class:`DeltaTable` to skip re-reading the log: it is brought up to date. A
    column the model gained since the table was made is added to the table (schema merge), so
    a lake written by an older codemill keeps working.
    """
    table = to_arrow(model, list(rows))
    txns = [Transaction(app_id, version) for app_id, version in (app_transactions or {}).items()]
    write_deltalake(
        uri,
        table,
        mode="append",
        schema_mode="merge",
        storage_options=dict(storage_options or {}),
        commit_properties=CommitProperties(app_transactions=txns or None, max_commit_retries=50),
    )


def transaction_version(
    uri: str, app_id: str, storage_options: Mapping[str, str] | None = None
) -> int | None:
    """The last version an app recorded in this table, None if it never wrote here."""
    table = open_table(uri, storage_options)
    return None if table is None else table.transaction_version(app_id)


def scan(
    table: DeltaTable, columns: Sequence[str] | None = None, filter: pc.Expression | None = None
) -> pa.Table:
    """Read a table (projected and filtered) into Arrow.

    Arrow's threads calling back into delta-rs's Python filesystem abort the interpreter at exit
    ("terminate called without an active exception") in most threaded reads with deltalake 1.5
    and 1.6 and pyarrow 25 and 26. So a table on local disk is read through Arrow's own file
    system (no Python in its threads), and one in an object store through delta-rs's, on one
    thread.
    """
    local = local_path(table.table_uri)
    filesystem = None if local is None else fs.SubTreeFileSystem(local, fs.LocalFileSystem())
    dataset = table.to_pyarrow_dataset(filesystem=filesystem)
    return dataset.to_table(
        columns=list(columns) if columns else None, filter=filter, use_threads=False
    )


def local_path(table_uri: str) -> str | None:
    """The directory of a table on local disk (``file://`` or a bare path); None elsewhere."""
    if table_uri.startswith("file://"):
        return unquote(urlparse(table_uri).path)
    return None if "://" in table_uri else table_uri


def read_rows(
    uri: str,
    model: type[BaseModel],
    columns: Sequence[str] | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> pa.Table:
    """The table's rows as Arrow (an empty table with the model's schema if absent)."""
    schema = arrow_schema(model)
    table = open_table(uri, storage_options)
    if table is None:
        empty = schema.empty_table()
        return empty.select(list(columns)) if columns else empty
    return scan(table, columns)


def compact(
    uri: "str | DeltaTable", storage_options: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge small files (the sink writes many) and checkpoint the log; returns delta-rs metrics."""
    table = uri if isinstance(uri, DeltaTable) else open_table(uri, storage_options)
    if table is None:
        return {}
    metrics = table.optimize.compact()
    table.create_checkpoint()
    return dict(metrics)


def vacuum(table_uri: str, storage_options: Mapping[str, str] | None = None) -> list[str]:
    """Delete files compaction replaced, once older than the table's retention (7 days)."""
    table = open_table(table_uri, storage_options)
    return [] if table is None else list(table.vacuum(dry_run=False))
