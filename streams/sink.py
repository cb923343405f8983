"""The Delta sink: micro-batches from ``codemill.examples`` become idempotent Delta commits.

Exactly-once on top of at-least-once delivery, in two layers:

* every table commit carries one Delta app transaction per Kafka partition in the batch
  (``app_id`` = ``<prefix>:<partition>``, version = the partition's last offset), so a batch
  replayed after a crash is recognised by its offsets and skipped;
* rows are de-duplicated on their deterministic key (example ``id``, ledger ``repo@sha:status``)
  against everything already in the table, so a push re-processed after a crash upstream (same
  examples, new offsets) adds nothing either.

The same key sets carry the validate stage's de-duplication across the whole table: an example
whose ``content_hash`` (exact, up to layout) or any of whose ``lsh_bands`` (MinHash near-duplicate)
matches a stored row of its table is dropped. A :class:`~common.rows.Bundle`'s derived rows
(augmented variants, naming, error_fix) live and die with its source row: they are kept when the
source is new or already stored, dropped when it duplicates another row.

Kafka offsets are committed by Faust only after :meth:`DeltaSink.write` returned.
"""

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow.compute as pc
from deltalake import DeltaTable
from pydantic import ValidationError

from common.ids import example_id
from common.lake import append_rows, compact, open_table, scan
from common.rows import SINK_RECORD, TABLE_MODELS, Bundle, Reject, Row
from common.settings import Settings

log = logging.getLogger(__name__)

# Tables are written in this order, so a ledger line never lands before its examples.
WRITE_ORDER = (
    "completion",
    "naming",
    "error_fix",
    "refactoring",
    "architecture",
    "feedback",
    "rejects",
    "commits",
)


@dataclass(frozen=True)
class Incoming:
    partition: int
    offset: int
    value: bytes


@dataclass
class BatchResult:
    written: dict[str, int] = field(default_factory=dict)
    replayed: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    invalid: int = 0
    seconds: float = 0.0


def dedup_key(table: str, row: Mapping[str, Any]) -> str:
    if table == "commits":
        return f"{row['repo']}@{row['sha']}:{row['status']}"
    return str(row["id"])


@dataclass
class Keys:
    """What a table already holds, for de-duplication: ids, content hashes and LSH bands."""

    ids: set[str] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)
    bands: set[int] = field(default_factory=set)

    def duplicate(self, row: Mapping[str, Any]) -> str | None:
        """ "exact" or "near" when ``row`` repeats another stored row's content, else None."""
        if row.get("content_hash") and row["content_hash"] in self.hashes:
            return "exact"
        if any(band in self.bands for band in row.get("lsh_bands", ())):
            return "near"
        return None

    def add(self, table: str, row: Mapping[str, Any]) -> None:
        self.ids.add(dedup_key(table, row))
        if row.get("content_hash"):
            self.hashes.add(row["content_hash"])
        self.bands.update(row.get("lsh_bands", ()))


@dataclass
class Decoded:
    """One row bound for ``table``; a derived row names its bundle's source (``source_id``)."""

    item: Incoming
    table: str
    row: dict[str, Any]
    source_id: str | None = None


def decode(batch: Iterable[Incoming], now: datetime) -> list[Decoded]:
    """Parse each record into rows per table (a bundle into its source and derived rows);
    undecodable records become ``rejects`` rows."""
    decoded: list[Decoded] = []
    for item in batch:
        try:
            record: Row = SINK_RECORD.validate_json(item.value)
            table = str(record.dataset)  # type: ignore[attr-defined]
        except ValidationError as exc:
            text = item.value[:2000].decode("utf-8", "replace")
            record = Reject(
                id=example_id("", f"kafka:{item.partition}:{item.offset}", "sink", text),
                repo="",
                commit="",
                path=f"codemill.examples[{item.partition}]@{item.offset}",
                stage="sink",
                reason=f"invalid record: {exc.errors()[0]['msg'] if exc.errors() else exc}",
                input=text,
                recorded_at=now,
            )
            table = "rejects"
        if isinstance(record, Bundle):
            decoded.append(Decoded(item, "completion", record.source.model_dump()))
            decoded.extend(
                Decoded(item, row.dataset, row.model_dump(), record.id) for row in record.derived
            )
        else:
            decoded.append(Decoded(item, table, record.model_dump()))
    return decoded


@dataclass
class Selection:
    rows: list[dict[str, Any]] = field(default_factory=list)
    replayed: int = 0
    duplicates: int = 0
    near_duplicates: int = 0


def select_new(
    rows: list[Decoded],
    table: str,
    versions: Mapping[int, int | None],
    keys: Keys,
    alive: dict[str, bool],
) -> Selection:
    """Rows not yet in the table: drop replays (offset ≤ recorded version), known keys, content
    duplicates, and derived rows whose source was dropped. ``keys`` is not modified; ``alive``
    records, for each source row seen, whether its derived rows may be kept.
    """
    out = Selection()
    batch = Keys()
    for decoded in rows:
        row = decoded.row
        key = dedup_key(table, row)
        if decoded.source_id is not None and not alive.get(decoded.source_id, False):
            out.duplicates += 1
            continue
        known = key in keys.ids or key in batch.ids
        version = versions.get(decoded.item.partition)
        if version is not None and decoded.item.offset <= version:
            out.replayed += 1
            alive[key] = key in keys.ids
            continue
        if known:
            out.duplicates += 1
            alive[key] = True
            continue
        kind = (keys.duplicate(row) or batch.duplicate(row)) if not row.get("source_id") else None
        alive[key] = kind is None
        if kind is not None:
            out.duplicates += kind == "exact"
            out.near_duplicates += kind == "near"
            continue
        batch.add(table, row)
        out.rows.append(row)
    return out


class DeltaSink:
    """Writes decoded batches to Delta; keeps per-table keys and app versions in memory."""

    def __init__(self, settings: Settings, app_prefix: str) -> None:
        self.settings = settings
        self.app_prefix = app_prefix
        self._keys: dict[str, Keys] = {}
        self._versions: dict[str, dict[int, int | None]] = defaultdict(dict)
        self._tables: dict[str, DeltaTable] = {}
        self._writes: Counter[str] = Counter()

    def forget(self) -> None:
        """Drop cached keys and versions (after a rebalance another worker may have written)."""
        self._keys.clear()
        self._versions.clear()
        self._tables.clear()

    def _table(self, table: str) -> DeltaTable | None:
        if table not in self._tables:
            opened = open_table(self._uri(table), self.settings.lake.storage_options)
            if opened is None:
                return None
            self._tables[table] = opened
        return self._tables[table]

    def app_id(self, partition: int) -> str:
        return f"{self.app_prefix}:{partition}"

    def _uri(self, table: str) -> str:
        return self.settings.table_uri(table)

    def _known_keys(self, table: str) -> Keys:
        if table not in self._keys:
            self._keys[table] = self._load_keys(table)
        return self._keys[table]

    def _load_keys(self, table: str) -> Keys:
        delta = self._table(table)
        if delta is None:
            return Keys()
        if table == "commits":
            data = scan(delta, ["repo", "sha", "status"])
            keys = pc.binary_join_element_wise(
                data["repo"], pc.binary_join_element_wise(data["sha"], data["status"], ":"), "@"
            )
            return Keys(ids=set(keys.to_pylist()))
        if table in ("rejects", "feedback"):  # kept by id alone: no content keys
            return Keys(ids=set(scan(delta, ["id"])["id"].to_pylist()))
        data = scan(delta, ["id", "content_hash", "lsh_bands"])
        return Keys(
            ids=set(data["id"].to_pylist()),
            hashes=set(data["content_hash"].to_pylist()) - {""},
            bands=set(pc.list_flatten(data["lsh_bands"]).to_pylist()),
        )

    def _partition_versions(self, table: str, partitions: Iterable[int]) -> dict[int, int | None]:
        cached = self._versions[table]
        missing = [p for p in partitions if p not in cached]
        if missing:
            delta = self._table(table)
            for p in missing:
                cached[p] = None if delta is None else delta.transaction_version(self.app_id(p))
        return cached

    def _after_write(self, table: str) -> None:
        """Compact every ``compact_every_writes`` commits: each micro-batch adds small files."""
        self._writes[table] += 1
        if self._writes[table] % self.settings.lake.compact_every_writes == 0:
            delta = self._table(table)
            if delta is not None:
                compact(delta)

    def write(self, batch: list[Incoming]) -> BatchResult:
        started = time.perf_counter()
        result = BatchResult()
        if not batch:
            return result
        last_offsets: dict[int, int] = {}
        for item in batch:
            last_offsets[item.partition] = max(item.offset, last_offsets.get(item.partition, -1))
        by_table: dict[str, list[Decoded]] = defaultdict(list)
        for decoded in decode(batch, datetime.now(UTC)):
            by_table[decoded.table].append(decoded)
            result.invalid += decoded.table == "rejects" and decoded.row.get("stage") == "sink"
        alive: dict[str, bool] = {}  # source rows: may their derived rows be kept?
        for table in sorted(by_table, key=WRITE_ORDER.index):
            versions = self._partition_versions(table, last_offsets)
            seen = self._known_keys(table)
            selection = select_new(by_table[table], table, versions, seen, alive)
            result.replayed += selection.replayed
            result.duplicates += selection.duplicates
            result.near_duplicates += selection.near_duplicates
            rows = selection.rows
            if not rows:
                continue
            txns = {self.app_id(p): o for p, o in last_offsets.items()}
            append_rows(
                self._table(table) or self._uri(table),
                TABLE_MODELS[table],
                rows,
                self.settings.lake.storage_options,
                app_transactions=txns,
            )
            self._after_write(table)
            for row in rows:
                seen.add(table, row)
            versions.update(last_offsets)
            result.written[table] = len(rows)
        result.seconds = time.perf_counter() - started
        return result


def describe(result: BatchResult) -> str:
    return json.dumps(
        {
            "written": result.written,
            "replayed": result.replayed,
            "duplicates": result.duplicates,
            "near_duplicates": result.near_duplicates,
            "seconds": round(result.seconds, 3),
        }
    )
