"""Choosing and ingesting commits from a real repository (built with git in tmp_path)."""

from datetime import UTC, datetime
from pathlib import Path

import pygit2

from common.events import ZERO_SHA, PushCommit, PushEvent
from common.rows import CommitRecord, CompletionExample
from streams.commits import ExtractParams, commits_to_ingest, ingest_commit
from tests.support.gitrepo import GitRepo, module_source

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def push(repo: GitRepo, before: str, after: str, named: list[str]) -> PushEvent:
    return PushEvent(
        event_id="e",
        source="github",
        repo="acme/w",
        clone_url=str(repo.path),
        ref="refs/heads/main",
        before=before,
        after=after,
        commits=[PushCommit(sha=s) for s in named],
        received_at=NOW,
    )


def test_range_beats_the_payload_list_which_providers_truncate(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "w")
    shas = [repo.commit({f"m{i}.py": module_source(i)}) for i in range(5)]
    git = pygit2.Repository(str(repo.path))
    # A payload naming only the last commit (as a truncated one would) still yields the range.
    assert commits_to_ingest(git, push(repo, shas[1], shas[4], [shas[4]])) == shas[2:]
    # A new branch has no "before": the named commits are the truth.
    assert commits_to_ingest(git, push(repo, ZERO_SHA, shas[4], shas[3:])) == shas[3:]
    # An unknown "before" (force-push over history we never saw) falls back to the names.
    unknown = "f" * 40
    assert commits_to_ingest(git, push(repo, unknown, shas[4], [shas[4]])) == [shas[4]]


def test_ingest_commit_encodes_examples_rejects_skips_and_ledger(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "w")
    repo.commit({"a.py": module_source(1)})
    sha = repo.commit(
        {
            "b.py": module_source(2),
            "bad.py": "def x(:\n",
            "logo.png": b"\x89PNG\x00",
            "a.py": "x=1\n",
        }
    )
    git = pygit2.Repository(str(repo.path))
    out = ingest_commit(git, push(repo, ZERO_SHA, sha, [sha]), sha, ExtractParams(100_000, 5), NOW)
    examples = [CompletionExample.model_validate_json(v) for _, v in out.examples]
    assert {e.path for e in examples} == {"b.py"} and len(examples) == 7
    assert [k for k, _ in out.examples] == [e.id for e in examples]
    assert out.reject_kinds == [("extract", "syntax error")]
    ledger = CommitRecord.model_validate_json(out.ledger[1])
    assert out.ledger[0] == f"acme/w@{sha}"
    assert (ledger.status, ledger.examples, ledger.rejects) == ("ingested", 7, 1)
    assert ledger.skipped == {"unsupported_language": 1}
    assert ledger.committed_at is not None
