from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.errors import ConfigError
from streams.backfill import clone_source, repo_name
from streams.ledger import LedgerLine, latest_status, owed_pushes

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def line(sha: str, status: str, minutes: int, repo: str = "acme/w") -> LedgerLine:
    return LedgerLine(
        repo, sha, status, "file:///src/w", "refs/heads/main", 0, 0, T0 + timedelta(minutes=minutes)
    )


def test_ingested_wins_whatever_came_later() -> None:
    latest = latest_status(
        [
            line("a", "received", 0),
            line("a", "ingested", 1),
            line("a", "received", 2),
            line("b", "failed", 3),
        ]
    )
    assert latest[("acme/w", "a")].status == "ingested"
    assert latest[("acme/w", "b")].status == "failed"


def test_owed_pushes_replay_received_and_failed_only() -> None:
    lines = [line(c * 40, "received", i) for i, c in enumerate("abcde")]
    lines += [line("a" * 40, "ingested", 9), line("e" * 40, "failed", 9)]
    lines += [line("f" * 40, "received", 1, repo="acme/other")]
    events = owed_pushes(lines, chunk=2, now=T0)
    assert [(e.repo, [c.sha[0] for c in e.commits]) for e in events] == [
        ("acme/other", ["f"]),
        ("acme/w", ["b", "c"]),
        ("acme/w", ["d", "e"]),
    ]
    assert all(e.source == "recovery" and e.clone_url == "file:///src/w" for e in events)


def test_repo_names_match_what_webhooks_call_them() -> None:
    assert repo_name("https://github.com/Codertocat/Hello-World.git") == "Codertocat/Hello-World"
    assert repo_name("https://gitlab.example.com/group/sub/proj") == "group/sub/proj"
    assert repo_name("/srv/git/widgets.git") == "widgets"
    assert repo_name("file:///srv/git/widgets") == "widgets"
    assert repo_name("git@github.com:acme/widgets.git") == "acme/widgets"
    assert repo_name("ssh://git@gitlab.com/acme/tools/cli.git") == "acme/tools/cli"


def test_tokens_in_backfill_urls_are_refused_not_stored() -> None:
    with pytest.raises(ConfigError) as refused:
        clone_source("https://x-access-token:ghp_secret123@github.com/acme/w.git")
    assert "ghp_secret123" not in str(refused.value)
    assert "CODEMILL_GIT_TOKEN" in str(refused.value)
    assert clone_source("https://github.com/acme/w.git") == "https://github.com/acme/w.git"


def test_a_local_source_must_be_a_folder(tmp_path: Path) -> None:
    """A mistyped path is named as one, not passed to git as an unknown URL protocol."""
    assert clone_source(str(tmp_path)) == str(tmp_path.resolve())
    with pytest.raises(ConfigError, match="no such folder here"):
        clone_source(str(tmp_path / "typo"))
