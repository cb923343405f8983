"""Backfill: replay a repository's history as push events, and watch it land.

The repository (local path, ``file://`` or https URL) is mirrored, its commits listed oldest
first, the ones the ledger already has as ingested left out, and the rest written to the ledger
as ``received`` and published in chunks on ``codemill.git.push``.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from common.errors import ConfigError
from common.events import PushCommit, PushEvent
from common.names import Topic
from common.settings import Settings
from streams.kafka import AsyncProducer
from streams.ledger import ingested_shas, latest_status, read_ledger, record_received
from streams.mirror import CommitInfo, list_commits, sync_mirror
from streams.webhooks import redact_url_credentials


@dataclass(frozen=True)
class BackfillPlan:
    repo: str
    clone_url: str
    ref: str
    commits: list[CommitInfo]
    pending: list[CommitInfo]


@dataclass(frozen=True)
class Progress:
    done: int
    failed: int
    examples: int
    rejects: int


SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)(?P<path>.+)$")  # git@github.com:org/name.git


def repo_name(source: str) -> str:
    """``org/name`` for a URL (as webhooks name it), the folder name for a local repository."""
    scp = SCP_LIKE.match(source)
    if scp:
        return scp["path"].strip("/").removesuffix(".git")
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https", "ssh", "git") and parsed.path.strip("/"):
        return parsed.path.strip("/").removesuffix(".git")
    path = Path(parsed.path if parsed.scheme == "file" else source).expanduser().resolve()
    return path.name.removesuffix(".git") or "repository"


def clone_source(source: str) -> str:
    """What to clone from: URLs as given, local paths made absolute.

    A token inside an https URL would travel into events and the ledger: refuse it and say
    where it belongs instead.
    """
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https") and (parsed.username or parsed.password):
        raise ConfigError(
            f"{redact_url_credentials(source)}: remove the credentials from the URL and set "
            "CODEMILL_GIT_TOKEN (and CODEMILL_GIT_USERNAME if not x-access-token) instead"
        )
    if SCP_LIKE.match(source) or parsed.scheme in ("http", "https", "ssh", "git", "file"):
        return source
    path = Path(source).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(
            f"{source}: no such folder here; give a git repository's folder or its URL"
        )
    return str(path)


def plan_backfill(
    settings: Settings,
    source: str,
    branch: str | None = None,
    since: datetime | None = None,
    max_commits: int | None = None,
    name: str | None = None,
) -> BackfillPlan:
    repo = name or repo_name(source)
    url = clone_source(source)
    git = settings.git
    token = git.token.get_secret_value() if git.token else None
    mirror = sync_mirror(settings.mirrors_dir, repo, url, token, git.username)
    commits = list_commits(mirror, branch, since, max_commits)
    done = ingested_shas(read_ledger(settings, repo))
    ref = f"refs/heads/{branch}" if branch else "HEAD"
    pending = [c for c in commits if c.sha not in done]
    return BackfillPlan(repo, url, ref, commits, pending)


def push_events(plan: BackfillPlan, chunk: int, now: datetime) -> list[PushEvent]:
    events = []
    for start in range(0, len(plan.pending), chunk):
        part = plan.pending[start : start + chunk]
        events.append(
            PushEvent(
                event_id=f"backfill:{plan.repo}:{part[0].sha}:{part[-1].sha}",
                source="backfill",
                repo=plan.repo,
                clone_url=plan.clone_url,
                ref=plan.ref,
                after=part[-1].sha,
                commits=[PushCommit(sha=c.sha, message=c.message) for c in part],
                received_at=now,
            )
        )
    return events


async def publish(settings: Settings, producer: AsyncProducer, plan: BackfillPlan) -> int:
    """Ledger first, then Kafka; returns how many events were published."""
    events = push_events(plan, settings.ingest.commits_per_event, datetime.now(UTC))
    for event in events:
        record_received(settings, event, [c.sha for c in event.commits])
    await producer.send_all(
        Topic.GIT_PUSH, [(e.repo, e.model_dump_json().encode()) for e in events]
    )
    return len(events)


def progress(settings: Settings, repo: str, shas: Sequence[str]) -> Progress:
    wanted = set(shas)
    latest = latest_status(read_ledger(settings, repo))
    done = failed = examples = rejects = 0
    for (_, sha), line in latest.items():
        if sha not in wanted:
            continue
        if line.status == "ingested":
            done += 1
            examples += line.examples
            rejects += line.rejects
        elif line.status == "failed":
            failed += 1
    return Progress(done, failed, examples, rejects)
