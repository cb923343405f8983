"""The ``commits`` ledger: what was received, what was ingested, and what is still owed.

The embedded broker keeps its log in memory, so the ledger in Delta — not Kafka — is the record
of which pushes are owed: commits received but not (yet) ingested are re-derived from it and
replayed as push events when the stack starts.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow.compute as pc

from common.events import PushCommit, PushEvent
from common.lake import append_rows, open_table, scan
from common.rows import CommitRecord
from common.settings import Settings

LEDGER_COLUMNS = ["repo", "sha", "status", "clone_url", "ref", "examples", "rejects", "recorded_at"]


@dataclass(frozen=True)
class LedgerLine:
    repo: str
    sha: str
    status: str
    clone_url: str
    ref: str
    examples: int
    rejects: int
    recorded_at: datetime


def read_ledger(settings: Settings, repo: str | None = None) -> list[LedgerLine]:
    table = open_table(settings.table_uri("commits"), settings.lake.storage_options)
    if table is None:
        return []
    expr = pc.field("repo") == repo if repo is not None else None
    data = scan(table, LEDGER_COLUMNS, expr)
    return [LedgerLine(**row) for row in data.to_pylist()]


def latest_status(lines: Iterable[LedgerLine]) -> dict[tuple[str, str], LedgerLine]:
    """The latest line per (repo, sha); an ``ingested`` line wins over any other."""
    latest: dict[tuple[str, str], LedgerLine] = {}
    for line in lines:
        key = (line.repo, line.sha)
        current = latest.get(key)
        if current is None or _supersedes(line, current):
            latest[key] = line
    return latest


def _supersedes(line: LedgerLine, current: LedgerLine) -> bool:
    if current.status == "ingested":
        return False
    return line.status == "ingested" or line.recorded_at >= current.recorded_at


def ingested_shas(lines: Iterable[LedgerLine]) -> set[str]:
    return {line.sha for line in lines if line.status == "ingested"}


def owed_pushes(lines: Iterable[LedgerLine], chunk: int, now: datetime) -> list[PushEvent]:
    """Push events that replay every commit received (or failed) but never ingested."""
    owed: dict[tuple[str, str], list[LedgerLine]] = {}
    for line in latest_status(lines).values():
        if line.status != "ingested":
            owed.setdefault((line.repo, line.clone_url), []).append(line)
    events = []
    for (repo, url), pending in sorted(owed.items()):
        pending.sort(key=lambda line: line.recorded_at)
        for start in range(0, len(pending), chunk):
            part = pending[start : start + chunk]
            events.append(
                PushEvent(
                    event_id=f"recovery:{repo}:{part[0].sha}:{part[-1].sha}",
                    source="recovery",
                    repo=repo,
                    clone_url=url,
                    ref=part[-1].ref,
                    after=part[-1].sha,
                    commits=[PushCommit(sha=line.sha) for line in part],
                    received_at=now,
                )
            )
    return events


def record_received(settings: Settings, push: PushEvent, shas: Sequence[str]) -> None:
    """Write ``received`` lines for a push's commits, before it is handed to Kafka."""
    if not shas:
        return
    now = datetime.now(UTC)
    rows = [CommitRecord.of(push, sha, "received", now).model_dump() for sha in shas]
    append_rows(settings.table_uri("commits"), CommitRecord, rows, settings.lake.storage_options)
