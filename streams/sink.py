"""The Delta sink: micro-batches from ``codemill.examples`` become idempotent Delta commits.

Exactly-once on top of at-least-once delivery, in two layers:

* every table commit carries one Delta app transaction per Kafka partition in the batch
  (``app_id`` = ``<prefix>:<partition>``, version = the partition's last offset), so a batch
  replayed after a crash is recognised by its offsets and skipped;
* rows are de-duplicated on their deterministic key (example ``id``, ledger ``repo@sha:status``)
  against everything already in the table, so a push re-processed after a crash upstream (same
  examples, new offsets) adds nothing either.

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
from common.rows import SINK_RECORD, TABLE_MODELS, Reject, Row
from common.settings import Settings

log = logging.getLogger(__name__)

# Tables are written in this order, so a ledger line never lands before its examples.
WRITE_ORDER = ("completion", "rejects", "commits")


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
    invalid: int = 0
    seconds: float = 0.0


def dedup_key(table: str, row: Mapping[str, Any]) -> str:
    if table == "commits":
        return f"{row['repo']}@{row['sha']}:{row['status']}"
    return str(row["id"])


def decode(batch: Iterable[Incoming], now: datetime) -> list[tuple[Incoming, str, dict[str, Any]]]:
    """Parse each record into (incoming, table, row); undecodable ones become ``rejects`` rows."""
    decoded = []
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
        decoded.append((item, table, record.model_dump()))
    return decoded


def select_new(
    rows: list[tuple[Incoming, dict[str, Any]]],
    table: str,
    versions: Mapping[int, int | None],
    seen: set[str],
) -> tuple[list[dict[str, Any]], int, int]:
    """Rows not yet in the table: drop replays (offset ≤ recorded version) and known keys.

    Returns (new rows, replayed count, duplicate count); ``seen`` is not modified.
    """
    fresh: list[dict[str, Any]] = []
    batch_keys: set[str] = set()
    replayed = duplicates = 0
    for item, row in rows:
        version = versions.get(item.partition)
        if version is not None and item.offset <= version:
            replayed += 1
            continue
        key = dedup_key(table, row)
        if key in seen or key in batch_keys:
            duplicates += 1
            continue
        batch_keys.add(key)
        fresh.append(row)
    return fresh, replayed, duplicates


class DeltaSink:
    """Writes decoded batches to Delta; keeps per-table keys and app versions in memory."""

    def __init__(self, settings: Settings, app_prefix: str) -> None:
        self.settings = settings
        self.app_prefix = app_prefix
        self._keys: dict[str, set[str]] = {}
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

    def _known_keys(self, table: str) -> set[str]:
        if table not in self._keys:
            self._keys[table] = self._load_keys(table)
        return self._keys[table]

    def _load_keys(self, table: str) -> set[str]:
        delta = self._table(table)
        if delta is None:
            return set()
        if table == "commits":
            data = scan(delta, ["repo", "sha", "status"])
            keys = pc.binary_join_element_wise(
                data["repo"], pc.binary_join_element_wise(data["sha"], data["status"], ":"), "@"
            )
            return set(keys.to_pylist())
        return set(scan(delta, ["id"])["id"].to_pylist())

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
        by_table: dict[str, list[tuple[Incoming, dict[str, Any]]]] = defaultdict(list)
        for item, table, row in decode(batch, datetime.now(UTC)):
            by_table[table].append((item, row))
            result.invalid += table == "rejects" and row.get("stage") == "sink"
        for table in sorted(by_table, key=WRITE_ORDER.index):
            versions = self._partition_versions(table, last_offsets)
            seen = self._known_keys(table)
            rows, replayed, duplicates = select_new(by_table[table], table, versions, seen)
            result.replayed += replayed
            result.duplicates += duplicates
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
            seen.update(dedup_key(table, row) for row in rows)
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
            "seconds": round(result.seconds, 3),
        }
    )
