"""The push processor: a push event becomes examples, rejects and ledger lines on Kafka.

For each push it syncs a local mirror of the repository, picks the commits to ingest
(:func:`streams.commits.commits_to_ingest`), leaves out those the ledger already has as
ingested, and fans the rest out to a process pool (:func:`streams.commits.ingest_commit_at`),
so extraction uses every core while the Faust worker's event loop keeps heartbeating. Examples
this worker already shipped (an unchanged function in a modified file) are not shipped again;
the sink would drop them anyway, this only saves the work.
"""

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime

import pygit2
from pydantic import ValidationError

from common.errors import RepositoryError
from common.events import PushEvent, ReviewComment
from common.names import Topic
from common.settings import Settings
from streams import metrics
from streams.commits import (
    EncodedCommit,
    commits_to_ingest,
    failed_commit,
    ingest_commits_at,
    start_pool_process,
    warm_up,
)
from streams.examples import Origin, StageParams, reject
from streams.kafka import AsyncProducer
from streams.ledger import ingested_shas, read_ledger
from streams.mirror import ensure_commits, file_at, mirror_path, sync_mirror
from streams.review_examples import review_rows
from streams.validate import Bounds

log = logging.getLogger(__name__)

SHIPPED_CAPACITY = 2_000_000  # ids remembered per worker before the memory is reset


def make_pool(count: int) -> Executor:
    """Processes for extraction (spawned: forking a Faust worker's threads is unsafe), each
    warmed up, its collector set, as it starts (:func:`~streams.commits.start_pool_process`);
    one thread in the worker's own process where ``count`` is 1."""
    pool: Executor
    if count <= 1:
        pool = ThreadPoolExecutor(max_workers=1, initializer=warm_up)
    else:
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=count, mp_context=spawn, initializer=start_pool_process
        )
    for _ in range(count):  # start them now, not when the first push is waiting
        pool.submit(warm_up)  # a no-op once warm
    return pool


def _split(items: list[str], parts: int) -> list[list[str]]:
    """``items`` in at most ``parts`` contiguous, nearly equal runs (order kept)."""
    size = -(-len(items) // max(1, parts))
    return [items[i : i + size] for i in range(0, len(items), size)] if items else []


def stage_params(settings: Settings) -> StageParams:
    """The dataset generation knobs, from the settings."""
    ingest = settings.ingest
    return StageParams(
        max_file_bytes=settings.git.max_file_bytes,
        context_lines=ingest.context_lines,
        augment_fraction=ingest.augment_fraction,
        error_fix_fraction=ingest.error_fix_fraction,
        bounds=Bounds(
            min_chars=ingest.min_snippet_chars,
            max_chars=ingest.max_snippet_chars,
            max_lines=ingest.max_snippet_lines,
        ),
        anonymize=tuple(ingest.anonymize),
    )


class PushProcessor:
    """Wires commit ingestion to the mirror cache, the ledger, the pool and the producer."""

    def __init__(self, settings: Settings, producer: AsyncProducer) -> None:
        self.settings = settings
        self.producer = producer
        self.workers = settings.ingest.processes or os.cpu_count() or 1
        self.pool = make_pool(self.workers)
        self.params = stage_params(settings)
        self._ingested: dict[str, set[str]] = {}
        self._shipped: set[str] = set()

    def forget(self) -> None:
        self._ingested.clear()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

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
        commits = await self._ingest(push)
        extracted = time.perf_counter()
        if len(self._shipped) > SHIPPED_CAPACITY:
            self._shipped.clear()
        fresh = self._fresh(commits)
        records = fresh + [pair for c in commits for pair in c.rejects]
        # Ledger lines go out only once the broker has every record of their commits.
        await self.producer.send_all(Topic.EXAMPLES, records)
        await self.producer.send_all(Topic.EXAMPLES, [c.ledger for c in commits])
        # Remembered only once acknowledged: a push that failed to ship is shipped whole again.
        self._shipped.update(key for key, _ in fresh)
        self._account(push, commits, len(fresh))
        seconds = time.perf_counter() - started
        metrics.PUSH_SECONDS.observe(seconds)
        log.info(
            "push %s: %d commits, %d examples (%d new) in %.3fs (extraction %.3fs)",
            push.event_id,
            len(commits),
            sum(len(c.examples) for c in commits),
            len(fresh),
            seconds,
            extracted - started,
        )

    async def handle_review(self, comment: ReviewComment) -> None:
        """A review comment's suggestions become ``refactoring`` rows (see
        :mod:`streams.review_examples`), from the whole file when the mirror can get it."""
        text = await asyncio.to_thread(self._file_at, comment)
        rows = review_rows(comment, text, datetime.now(UTC), self.params.bounds)
        await self.producer.send_all(
            Topic.EXAMPLES, [(row.id, row.model_dump_json().encode()) for row in rows]
        )
        metrics.EXAMPLES_OUT.labels("refactoring").inc(sum(r.dataset != "rejects" for r in rows))
        log.info("review %s: %d rows", comment.event_id, len(rows))

    def _file_at(self, comment: ReviewComment) -> str | None:
        """The commented file at the comment's commit, or None (a fork's commit, say)."""
        try:
            repo = self._mirror(comment.repo, comment.clone_url)
            missing = self._ensure(repo, comment.repo, comment.clone_url, [comment.commit])
            data = None if missing else file_at(repo, comment.commit, comment.path)
        except RepositoryError as exc:
            log.warning("review %s: %s", comment.event_id, exc)
            return None
        return None if data is None else data.decode("utf-8", "replace")

    async def reject_invalid(self, value: bytes, error: ValidationError) -> None:
        """A record on the push topic that is no PushEvent: keep it in ``rejects``, with why."""
        now = datetime.now(UTC)
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": str(error)}
        where = ".".join(str(part) for part in first["loc"]) or "event"
        origin = Origin("", "", "", now, now)
        row = reject(origin, "", "push", f"invalid push event: {where}: {first['msg']}", value)
        await self.producer.send_all(Topic.EXAMPLES, [(row.id, row.model_dump_json().encode())])
        metrics.REJECTS.labels("push", "invalid event").inc()

    def _fresh(self, commits: list[EncodedCommit]) -> list[tuple[str, bytes]]:
        """Examples not shipped before by this worker (the sink would drop them anyway)."""
        fresh = []
        seen: set[str] = set()
        for commit in commits:
            for key, value in commit.examples:
                if key not in self._shipped and key not in seen:
                    seen.add(key)
                    fresh.append((key, value))
        return fresh

    def _account(self, push: PushEvent, commits: list[EncodedCommit], fresh: int) -> None:
        done = self._already_ingested(push.repo)
        for commit in commits:
            metrics.COMMITS.labels(commit.status).inc()
            if commit.status == "ingested":
                done.add(commit.sha)
            for stage, kind in commit.reject_kinds:
                metrics.REJECTS.labels(stage, kind).inc()
            for reason, n in commit.skipped.items():
                metrics.SKIPPED.labels(reason).inc(n)
        metrics.EXAMPLES_OUT.labels("completion").inc(fresh)

    async def _ingest(self, push: PushEvent) -> list[EncodedCommit]:
        now = datetime.now(UTC)
        named = [c.sha for c in push.commits]
        try:
            shas, missing = await asyncio.to_thread(self._sync, push)
        except RepositoryError as exc:
            log.warning("push %s: %s", push.event_id, exc)
            return [failed_commit(push, sha, str(exc), now) for sha in named]
        done = self._already_ingested(push.repo)
        todo = [sha for sha in shas if sha not in done]
        mirror = str(mirror_path(self.settings.mirrors_dir, push.repo))
        payload = push.model_dump_json().encode()
        present = [sha for sha in todo if sha not in missing]
        loop = asyncio.get_running_loop()
        jobs = [
            loop.run_in_executor(
                self.pool, ingest_commits_at, mirror, payload, part, self.params, now
            )
            for part in _split(present, self.workers * 4)
        ]
        results = iter([c for part in await asyncio.gather(*jobs) for c in part])
        reason = "commit {} not found in " + push.clone_url
        return [
            failed_commit(push, sha, reason.format(sha), now) if sha in missing else next(results)
            for sha in todo
        ]

    def _sync(self, push: PushEvent) -> tuple[list[str], set[str]]:
        """Mirror the commits the push needs; fetch only when the mirror lacks one of them."""
        repo = self._mirror(push.repo, push.clone_url)
        # The range before..after is made of ancestors of `after`: asking for it and the named
        # commits is enough to know every commit we will read is there (or missing for good).
        needed = [c.sha for c in push.commits] + ([] if push.is_deletion else [push.after])
        missing = self._ensure(repo, push.repo, push.clone_url, needed)
        return commits_to_ingest(repo, push), set(missing)

    def _token(self) -> str | None:
        token = self.settings.git.token
        return token.get_secret_value() if token else None

    def _mirror(self, name: str, clone_url: str) -> pygit2.Repository:
        """The local mirror of ``name``, cloned on first use."""
        path = mirror_path(self.settings.mirrors_dir, name)
        if path.exists():
            return pygit2.Repository(str(path))
        git = self.settings.git
        return sync_mirror(self.settings.mirrors_dir, name, clone_url, self._token(), git.username)

    def _ensure(
        self, repo: pygit2.Repository, name: str, clone_url: str, shas: list[str]
    ) -> list[str]:
        """Fetch only when the mirror lacks one of ``shas``; those still missing after."""
        git = self.settings.git
        cache = self.settings.mirrors_dir
        return ensure_commits(repo, cache, name, clone_url, shas, self._token(), git.username)
