"""The push processor: a push event becomes examples, rejects and ledger lines.

For each push it syncs a local mirror of the repository, picks the commits to ingest (the
``before..after`` range where git knows it, else the commits the event names), skips commits the
ledger already has as ingested, and runs every added or modified file through
:func:`streams.examples.file_examples`. Git and tree-sitter work happens in a thread so the
Faust worker's event loop keeps heartbeating.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pygit2

from common.errors import RepositoryError
from common.events import ZERO_SHA, PushEvent
from common.ids import author_hash
from common.names import Topic
from common.rows import CommitRecord, CompletionExample, Reject
from common.settings import Settings
from streams import metrics
from streams.examples import Origin, commit_reject, file_examples
from streams.kafka import AsyncProducer
from streams.ledger import ingested_shas, read_ledger
from streams.mirror import (
    changed_files,
    commit_info,
    ensure_commits,
    read_blob,
    sync_mirror,
)

log = logging.getLogger(__name__)


@dataclass
class CommitOutcome:
    records: list[CompletionExample | Reject] = field(default_factory=list)
    ledger: CommitRecord | None = None


def commits_to_ingest(repo: pygit2.Repository, push: PushEvent, limit: int = 10_000) -> list[str]:
    """Oldest first. The payload's list is capped by providers (20 commits), so trust git's range
    ``before..after`` when both ends are known; otherwise take the commits the event names."""
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


def ingest_commit(
    repo: pygit2.Repository, push: PushEvent, sha: str, settings: Settings, now: datetime
) -> CommitOutcome:
    info = commit_info(repo, sha)
    origin = Origin(push.repo, sha, author_hash(info.author_email), info.committed_at, now)
    outcome = CommitOutcome()
    skipped: Counter[str] = Counter()
    max_bytes = settings.git.max_file_bytes
    for changed in changed_files(repo, sha):
        if changed.size > max_bytes:
            skipped["oversized"] += 1
            continue
        result = file_examples(
            changed.path,
            read_blob(repo, changed.blob_sha),
            origin,
            max_bytes,
            settings.ingest.context_lines,
        )
        if result.skipped:
            skipped[result.skipped] += 1
        if result.reject:
            outcome.records.append(result.reject)
        outcome.records.extend(result.examples)
    rejects = sum(isinstance(r, Reject) for r in outcome.records)
    outcome.ledger = CommitRecord(
        repo=push.repo,
        sha=sha,
        status="ingested",
        event_id=push.event_id,
        ref=push.ref,
        clone_url=push.clone_url,
        examples=len(outcome.records) - rejects,
        rejects=rejects,
        skipped=dict(skipped),
        committed_at=info.committed_at,
        recorded_at=now,
    )
    return outcome


def failed_commit(push: PushEvent, sha: str, reason: str, now: datetime) -> CommitOutcome:
    origin = Origin(push.repo, sha, "", now, now)
    ledger = CommitRecord(
        repo=push.repo,
        sha=sha,
        status="failed",
        event_id=push.event_id,
        ref=push.ref,
        clone_url=push.clone_url,
        reason=reason,
        recorded_at=now,
    )
    return CommitOutcome(records=[commit_reject(origin, "fetch", reason)], ledger=ledger)


class PushProcessor:
    """Wires :func:`ingest_commit` to the mirror cache, the ledger and the producer."""

    def __init__(self, settings: Settings, producer: AsyncProducer) -> None:
        self.settings = settings
        self.producer = producer
        self._ingested: dict[str, set[str]] = {}

    def forget(self) -> None:
        self._ingested.clear()

    def _already_ingested(self, repo: str) -> set[str]:
        if repo not in self._ingested:
            self._ingested[repo] = ingested_shas(read_ledger(self.settings, repo))
        return self._ingested[repo]

    async def handle(self, push: PushEvent) -> None:
        started = time.perf_counter()
        metrics.PUSHES.labels(push.source).inc()
        if push.ref.startswith("refs/tags/") or push.is_deletion:
            log.info("push %s (%s) has nothing to ingest", push.event_id, push.ref)
            return
        outcomes = await asyncio.to_thread(lambda: list(self._outcomes(push)))
        records = [r for o in outcomes for r in o.records]
        ledger = [o.ledger for o in outcomes if o.ledger is not None]
        # The ledger lines go out only after the broker has every example of their commits.
        await self.producer.send_all(
            Topic.EXAMPLES, [(r.id, r.model_dump_json().encode()) for r in records]
        )
        await self.producer.send_all(
            Topic.EXAMPLES, [(f"{c.repo}@{c.sha}", c.model_dump_json().encode()) for c in ledger]
        )
        done = self._already_ingested(push.repo)
        for line in ledger:
            metrics.COMMITS.labels(line.status).inc()
            if line.status == "ingested":
                done.add(line.sha)
        for record in records:
            if isinstance(record, Reject):
                metrics.REJECTS.labels(record.stage, record.reason.split(" ")[0]).inc()
            else:
                metrics.EXAMPLES_OUT.labels(record.dataset).inc()
        for line in ledger:
            for reason, n in line.skipped.items():
                metrics.SKIPPED.labels(reason).inc(n)
        metrics.PUSH_SECONDS.observe(time.perf_counter() - started)

    def _outcomes(self, push: PushEvent) -> Iterator[CommitOutcome]:
        now = datetime.now(UTC)
        git = self.settings.git
        token = git.token.get_secret_value() if git.token else None
        cache = self.settings.mirrors_dir
        named = [c.sha for c in push.commits]
        try:
            repo = sync_mirror(cache, push.repo, push.clone_url, token, git.username)
            shas = commits_to_ingest(repo, push)
            missing = set(
                ensure_commits(repo, cache, push.repo, push.clone_url, shas, token, git.username)
            )
        except RepositoryError as exc:
            log.warning("push %s: %s", push.event_id, exc)
            for sha in named:
                yield failed_commit(push, sha, str(exc), now)
            return
        done = self._already_ingested(push.repo)
        for sha in shas:
            if sha in done:
                continue
            if sha in missing:
                yield failed_commit(push, sha, f"commit {sha} not found in {push.clone_url}", now)
                continue
            yield ingest_commit(repo, push, sha, self.settings, now)
