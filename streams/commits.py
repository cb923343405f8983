"""One commit of a mirrored repository becomes encoded records: what the push processor ships.

:func:`ingest_commit` runs every added or modified file through
:func:`streams.examples.file_examples` and adds the commit's ledger line. The result crosses a
process boundary (the processor fans commits out to a process pool), so it is returned encoded:
JSON bytes keyed for Kafka, plus the few counts the metrics need.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import pygit2

from common.events import ZERO_SHA, PushEvent
from common.ids import author_hash
from common.rows import CommitRecord, CompletionExample, Reject
from streams.examples import Origin, commit_reject, safe_file_examples
from streams.mirror import changed_files, commit_info, read_blob


@dataclass(frozen=True)
class ExtractParams:
    max_file_bytes: int
    context_lines: int


@dataclass
class EncodedCommit:
    """A commit's records as (key, JSON) pairs, its ledger line, and counts for metrics."""

    sha: str
    status: str
    examples: list[tuple[str, bytes]] = field(default_factory=list)
    rejects: list[tuple[str, bytes]] = field(default_factory=list)
    reject_kinds: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    ledger: tuple[str, bytes] = ("", b"")


def commits_to_ingest(repo: pygit2.Repository, push: PushEvent, limit: int = 10_000) -> list[str]:
    """Oldest first. Providers cap the commits a payload lists (GitHub: 20), so where both ends
    are known git's ``before..after`` range is the truth; otherwise the commits the event names."""
    named = [c.sha for c in push.commits]
    if push.before != ZERO_SHA and push.after != ZERO_SHA:
        try:
            order = pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE
            walker = repo.walk(push.after, order)
            walker.hide(push.before)
            ranged = [str(c.id) for c in walker]
        except (KeyError, ValueError, pygit2.GitError):
            return named
        return ranged[-limit:]
    return named


def reason_kind(reject: Reject) -> str:
    """A low-cardinality label for a reject's reason: "syntax error", "not valid UTF-8", …"""
    return reject.reason.split(" at ")[0][:40] if reject.stage == "extract" else "error"


def encode(records: list[CompletionExample | Reject], ledger: CommitRecord) -> EncodedCommit:
    out = EncodedCommit(sha=ledger.sha, status=ledger.status, skipped=dict(ledger.skipped))
    for record in records:
        pair = (record.id, record.model_dump_json().encode())
        if isinstance(record, Reject):
            out.rejects.append(pair)
            out.reject_kinds.append((record.stage, reason_kind(record)))
        else:
            out.examples.append(pair)
    out.ledger = (f"{ledger.repo}@{ledger.sha}", ledger.model_dump_json().encode())
    return out


def ingest_commit(
    repo: pygit2.Repository, push: PushEvent, sha: str, params: ExtractParams, now: datetime
) -> EncodedCommit:
    info = commit_info(repo, sha)
    origin = Origin(push.repo, sha, author_hash(info.author_email), info.committed_at, now)
    records: list[CompletionExample | Reject] = []
    skipped: Counter[str] = Counter()
    for changed in changed_files(repo, sha):
        if changed.size > params.max_file_bytes:
            skipped["oversized"] += 1
            continue
        data = read_blob(repo, changed.blob_sha)
        result = safe_file_examples(
            changed.path, data, origin, params.max_file_bytes, params.context_lines
        )
        if result.skipped:
            skipped[result.skipped] += 1
        if result.reject:
            records.append(result.reject)
        records.extend(result.examples)
    rejects = sum(isinstance(r, Reject) for r in records)
    ledger = CommitRecord.of(
        push,
        sha,
        "ingested",
        now,
        examples=len(records) - rejects,
        rejects=rejects,
        skipped=dict(skipped),
        committed_at=info.committed_at,
    )
    return encode(records, ledger)


def failed_commit(push: PushEvent, sha: str, reason: str, now: datetime) -> EncodedCommit:
    origin = Origin(push.repo, sha, "", now, now)
    ledger = CommitRecord.of(push, sha, "failed", now, reason=reason)
    return encode([commit_reject(origin, "fetch", reason)], ledger)


def warm_up() -> None:
    """Nothing: submitting it makes a pool process start and import this module."""


@cache
def _open(path: str) -> pygit2.Repository:
    return pygit2.Repository(path)


def ingest_commits_at(
    mirror: str, push_json: bytes, shas: list[str], params: ExtractParams, now: datetime
) -> list[EncodedCommit]:
    """:func:`ingest_commit` over several commits, for a process pool: arguments and result
    pickle cheaply, and the mirror stays open in the pool process between calls."""
    repo = _open(mirror)
    push = PushEvent.model_validate_json(push_json)
    return [ingest_commit(repo, push, sha, params, now) for sha in shas]
