"""Read the dataset tables at pinned Delta versions: what a run trained on can be read again.

A run records each table's version; evaluation and incremental runs re-open the tables at those
versions (Delta time travel), so "the rows added since the live model" is an exact set.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from common.lake import scan
from common.settings import Settings
from training.dataset import COLUMNS


@dataclass(frozen=True)
class Snapshot:
    """Rows of each table and the Delta version they were read at."""

    rows: dict[str, list[dict[str, Any]]]
    versions: dict[str, int]

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}


def read_snapshot(
    settings: Settings, tables: Sequence[str], versions: Mapping[str, int] | None = None
) -> Snapshot:
    """Each table's example columns, at ``versions`` where given, else at its latest version.

    A table never written is empty (version -1).
    """
    rows: dict[str, list[dict[str, Any]]] = {}
    pinned: dict[str, int] = {}
    for table in tables:
        version = (versions or {}).get(table)
        # -1 pins "not written yet": the table may exist now, but the run saw nothing of it.
        delta = None if version is not None and version < 0 else open_at(settings, table, version)
        if delta is None:
            rows[table], pinned[table] = [], -1
            continue
        rows[table] = scan(delta, COLUMNS[table]).to_pylist()
        pinned[table] = delta.version()
    return Snapshot(rows, pinned)


def ids_at(settings: Settings, versions: Mapping[str, int]) -> set[str]:
    """Every example id the tables held at ``versions`` (what an earlier run could have seen)."""
    found: set[str] = set()
    for table, version in versions.items():
        delta = open_at(settings, table, version) if version >= 0 else None
        if delta is not None:
            found.update(scan(delta, ["id"])["id"].to_pylist())
    return found


def open_at(settings: Settings, table: str, version: int | None) -> DeltaTable | None:
    try:
        return DeltaTable(
            settings.table_uri(table),
            version=version,
            storage_options=dict(settings.lake.storage_options) or None,
        )
    except TableNotFoundError:
        return None
