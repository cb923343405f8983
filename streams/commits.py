"""One commit of a mirrored repository becomes encoded records: what the push processor ships.

:func:`ingest_commit` reads every added or modified file with its parent's version and the
commit's README, runs the dataset chain over them (:func:`streams.examples.commit_outcomes`,
pure) and adds the commit's ledger line, with the compliance summary (what the sanitizer
redacted, by kind). The result crosses a process boundary (the processor fans commits out to a
process pool), so it is returned encoded: JSON bytes keyed for Kafka, plus the few counts the
metrics need.
"""

import gc
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache

import pygit2

from common.events import ZERO_SHA, PushEvent
from common.ids import author_hash
from common.rows import CommitRecord, Reject
from streams.architecture import readme_sections
from streams.augment import compile_all_queries
from streams.examples import (
    ExampleRecord,
    Origin,
    SourceFile,
    StageParams,
    commit_outcomes,
    commit_reject,
)
from streams.languages import compile_all, language_for_path
from streams.mirror import ChangedFile, blob_size, changed_files, commit_info, read_blob
from streams.text import canonical_source

README_NAMES = ("README.md", "README.rst", "README.markdown", "README.txt", "README")


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


def encode(records: list[ExampleRecord | Reject], ledger: CommitRecord) -> EncodedCommit:
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
    repo: pygit2.Repository, push: PushEvent, sha: str, params: StageParams, now: datetime
) -> EncodedCommit:
    info = commit_info(repo, sha)
    origin = Origin(
        push.repo, sha, author_hash(info.author_email), info.committed_at, now, info.message
    )
    files: list[SourceFile] = []
    skipped: Counter[str] = Counter()
    for changed in changed_files(repo, sha):
        if changed.size > params.max_file_bytes:
            skipped["oversized"] += 1
            continue
        files.append(_source_file(repo, changed, params.max_file_bytes))
    readme = _readme(repo, sha) if files else []
    outcomes = commit_outcomes(files, origin, params, readme)
    records: list[ExampleRecord | Reject] = []
    redacted: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.skipped:
            skipped[outcome.skipped] += 1
        records.extend(outcome.rejects)
        records.extend(outcome.records)
        redacted.update(outcome.redacted)
    ledger = CommitRecord.of(
        push,
        sha,
        "ingested",
        now,
        examples=sum(o.rows for o in outcomes),
        rejects=sum(len(o.rejects) for o in outcomes),
        skipped=dict(skipped),
        redacted=dict(redacted),
        committed_at=info.committed_at,
    )
    return encode(records, ledger)


def _source_file(repo: pygit2.Repository, changed: ChangedFile, max_bytes: int) -> SourceFile:
    """A changed file's bytes, with its parent's version when it is a source file that has one
    of at most ``max_bytes`` (a larger one is never read: it would give no refactoring pair)."""
    data = read_blob(repo, changed.blob_sha)
    old = changed.old_blob_sha
    if old is None or language_for_path(changed.path) is None or blob_size(repo, old) > max_bytes:
        return SourceFile(changed.path, data)
    parent = read_blob(repo, old)
    return SourceFile(changed.path, data, parent, changed.old_path)


def _readme(repo: pygit2.Repository, sha: str) -> list[str]:
    """The sections of the README at the root of commit ``sha``'s tree (none without one)."""
    tree = repo.revparse_single(sha).peel(pygit2.Tree)
    for name in README_NAMES:
        if name in tree:
            entry = tree[name]
            if isinstance(entry, pygit2.Blob):
                return _sections(repo.path, str(entry.id))
    return []


@lru_cache(maxsize=64)
def _sections(repo_path: str, blob_sha: str) -> list[str]:
    data = read_blob(_open(repo_path), blob_sha)
    return readme_sections(canonical_source(data).decode("utf-8", "replace"))


def failed_commit(push: PushEvent, sha: str, reason: str, now: datetime) -> EncodedCommit:
    origin = Origin(push.repo, sha, "", now, now)
    ledger = CommitRecord.of(push, sha, "failed", now, reason=reason)
    return encode([commit_reject(origin, "fetch", reason)], ledger)


def warm_up() -> None:
    """Make a pool process start, import this module and compile every language's queries
    (a language that fails here fails again on its first file, which is rejected with why)."""
    try:
        compile_all()
        compile_all_queries()
    except Exception:
        logging.getLogger(__name__).exception("warm-up failed; queries compile on first use")


# A pool process's young collections: every 10,000 allocations net of frees, not Python's 700.
POOL_GC_THRESHOLD = 10_000


def start_pool_process() -> None:
    """A pool process's initializer: :func:`warm_up`, then its garbage collector set for a
    process that only runs the chain. What start-up made (modules, grammars, compiled queries)
    is frozen out of every collection, and young collections run every
    :data:`POOL_GC_THRESHOLD` allocations: the chain's objects seldom form cycles, and full
    collections walked every module object. Over the benchmark's corpus the collector's share
    of the chain fell from 8 % to under 2 %, at the same peak memory. Not for threads: the
    collector is the whole process's, and a thread pool shares the Faust worker's."""
    warm_up()
    gc.freeze()
    gc.set_threshold(POOL_GC_THRESHOLD, 10, 10)


@cache
def _open(path: str) -> pygit2.Repository:
    return pygit2.Repository(path)


def ingest_commits_at(
    mirror: str, push_json: bytes, shas: list[str], params: StageParams, now: datetime
) -> list[EncodedCommit]:
    """:func:`ingest_commit` over several commits, for a process pool: arguments and result
    pickle cheaply, and the mirror stays open in the pool process between calls."""
    repo = _open(mirror)
    push = PushEvent.model_validate_json(push_json)
    return [_ingest_or_fail(repo, push, sha, params, now) for sha in shas]


def _ingest_or_fail(
    repo: pygit2.Repository, push: PushEvent, sha: str, params: StageParams, now: datetime
) -> EncodedCommit:
    """:func:`ingest_commit`, where a failure (a corrupt or partial mirror, a bug) fails that
    commit with the reason, not the whole batch of commits nor the push."""
    try:
        return ingest_commit(repo, push, sha, params, now)
    except Exception as exc:
        logging.getLogger(__name__).exception("commit %s of %s failed", sha, push.repo)
        return failed_commit(push, sha, f"internal error: {type(exc).__name__}: {exc}"[:500], now)
