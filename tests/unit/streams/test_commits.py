"""Choosing and ingesting commits from a real repository (built with git in tmp_path)."""

from datetime import UTC, datetime
from pathlib import Path

import pygit2

from common.events import ZERO_SHA, PushCommit, PushEvent
from common.rows import (
    SINK_RECORD,
    ArchitectureExample,
    Bundle,
    CommitRecord,
    RefactoringExample,
)
from streams.commits import (
    POOL_GC_THRESHOLD,
    _source_file,
    commits_to_ingest,
    ingest_commit,
    ingest_commits_at,
)
from streams.examples import StageParams
from streams.mirror import changed_files
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
    params = StageParams(max_file_bytes=100_000, context_lines=5)
    out = ingest_commit(git, push(repo, ZERO_SHA, sha, [sha]), sha, params, NOW)
    records = [SINK_RECORD.validate_json(v) for _, v in out.examples]
    bundles = [r for r in records if isinstance(r, Bundle)]
    assert {b.source.path for b in bundles} == {"b.py"} and len(bundles) == 7
    assert [k for k, _ in out.examples] == [r.id for r in records]  # type: ignore[union-attr]
    assert out.reject_kinds == [("extract", "syntax error")]
    ledger = CommitRecord.model_validate_json(out.ledger[1])
    assert out.ledger[0] == f"acme/w@{sha}"
    rows = sum(1 + len(b.derived) for b in bundles) + len(records) - len(bundles)
    assert (ledger.status, ledger.examples, ledger.rejects) == ("ingested", rows, 1)
    assert ledger.skipped == {"unsupported_language": 1}
    assert ledger.committed_at is not None


def test_a_commit_that_cannot_be_read_fails_alone_not_its_batch(tmp_path: Path) -> None:
    """A blob missing from the mirror (corruption, a partial clone) fails its commit with the
    reason; the other commits of the pool's batch are still ingested."""
    repo = GitRepo(tmp_path / "w")
    first = repo.commit({"a.py": module_source(1)})
    broken = repo.commit({"b.py": module_source(2)})
    blob = repo.git("rev-parse", f"{broken}:b.py")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    event = push(repo, ZERO_SHA, broken, [first, broken]).model_dump_json().encode()
    params = StageParams(max_file_bytes=100_000, context_lines=5)
    done = ingest_commits_at(str(repo.path / ".git"), event, [first, broken], params, NOW)
    assert [(c.sha, c.status) for c in done] == [(first, "ingested"), (broken, "failed")]
    assert done[0].examples
    ledger = CommitRecord.model_validate_json(done[1].ledger[1])
    assert ledger.reason.startswith("internal error: ") and blob in ledger.reason
    assert len(done[1].rejects) == 1


PAGER = '''"""Paging helpers for the catalogue API."""


def load_page(items, page, size=10):
    """Return one page of items."""
    start = page * size
    end = start + size
    result = []
    for i in range(start, end):
        result.append(items[i])
    return result


class Catalogue:
    """The products on sale, paged."""

    def __init__(self, items):
        self.items = items

    def page(self, number):
        return load_page(self.items, number)
'''

TESTS = """from pager import load_page


def test_first_page():
    assert load_page(list(range(30)), 0) == list(range(10))
"""

README = "# shop\n\n## pager\n\nThe pager module pages the catalogue for the API.\n"


def test_a_commit_yields_every_dataset_with_its_context(tmp_path: Path) -> None:
    """Refactoring pairs against the parent, related tests, README-backed architecture rows, and
    a compliance report of what the sanitizer redacted."""
    repo = GitRepo(tmp_path / "w")
    repo.commit({"pager.py": PAGER, "README.md": README})
    token = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8"
    fixed = PAGER.replace(
        "    result = []\n    for i in range(start, end):\n        result.append(items[i])\n"
        "    return result\n",
        "    return items[start:min(end, len(items))]\n",
    ).replace(
        "        self.items = items", f'        self.items = items\n        self.token = "{token}"'
    )
    sha = repo.commit({"pager.py": fixed, "test_pager.py": TESTS}, "Fix crash past the last page")
    git = pygit2.Repository(str(repo.path))
    params = StageParams(augment_fraction=1.0, error_fix_fraction=1.0)
    out = ingest_commit(git, push(repo, ZERO_SHA, sha, [sha]), sha, params, NOW)
    assert token.encode() not in b"".join(v for _, v in out.examples)
    records = [SINK_RECORD.validate_json(v) for _, v in out.examples]
    bundles = {r.source.symbol: r for r in records if isinstance(r, Bundle)}
    assert bundles["load_page"].source.related_tests == ["test_pager.py::test_first_page"]
    assert {d.dataset for d in bundles["load_page"].derived} >= {"naming", "completion"}
    pairs = {r.symbol: r for r in records if isinstance(r, RefactoringExample)}
    assert pairs["load_page"].change == "bug_fix" and pairs["load_page"].source == "history"
    assert "items[start:min(end, len(items))]" in pairs["load_page"].after
    assert "<SECRET:" in pairs["Catalogue.__init__"].after
    (design,) = [r for r in records if isinstance(r, ArchitectureExample)]
    assert design.path == "pager.py" and "pages the catalogue" in design.requirements
    assert "def load_page(items, page, size=10):" in design.design
    ledger = CommitRecord.model_validate_json(out.ledger[1])
    assert ledger.redacted and sum(ledger.redacted.values()) >= 2


def test_a_commit_of_windows_line_ends_stores_none(tmp_path: Path) -> None:
    """A repository that keeps CR LF line ends in its files (no autocrlf) gives rows with LF
    alone, its README's sections too."""
    repo = GitRepo(tmp_path / "w")
    windows = {"pager.py": PAGER.replace("\n", "\r\n"), "README.md": README.replace("\n", "\r\n")}
    sha = repo.commit(windows)
    git = pygit2.Repository(str(repo.path))
    params = StageParams(augment_fraction=1.0, error_fix_fraction=1.0)
    out = ingest_commit(git, push(repo, ZERO_SHA, sha, [sha]), sha, params, NOW)
    records = [SINK_RECORD.validate_json(v) for _, v in out.examples]
    assert any(isinstance(r, Bundle) for r in records) and not out.rejects
    (design,) = [r for r in records if isinstance(r, ArchitectureExample)]
    assert "pages the catalogue" in design.requirements
    assert not any("\\r" in r.model_dump_json() for r in records)  # how JSON writes a CR


def test_a_parent_version_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    """A file shrunk below the limit is ingested; its parent, over it, gives no pairs and is
    never inflated (a generated file replaced by a small one may have been huge)."""
    repo = GitRepo(tmp_path / "w")
    padded = PAGER + "\n# a note on paging\n" * 300
    repo.commit({"pager.py": padded})
    sha = repo.commit({"pager.py": PAGER}, "Drop the notes")
    git = pygit2.Repository(str(repo.path))
    (changed,) = changed_files(git, sha)
    assert _source_file(git, changed, len(padded) - 1).parent is None
    assert _source_file(git, changed, len(padded)).parent == padded.encode()
    params = StageParams(max_file_bytes=len(padded) - 1)
    out = ingest_commit(git, push(repo, ZERO_SHA, sha, [sha]), sha, params, NOW)
    assert any(isinstance(SINK_RECORD.validate_json(v), Bundle) for _, v in out.examples)


def _compiled() -> tuple[int, int, int, bool]:
    """How many extraction and augmentation queries this process has compiled, its collector's
    young threshold and whether it froze what start-up made."""
    import gc

    from streams.augment import tree
    from streams.languages import query_for

    compiled = query_for.cache_info().currsize, tree._query.cache_info().currsize
    return *compiled, gc.get_threshold()[0], gc.get_freeze_count() > 0


def test_every_pool_process_compiles_every_query_as_it_starts() -> None:
    from streams.augment.bindings import NAME_RULES
    from streams.augment.bugs import ERROR_QUERIES
    from streams.augment.comments import COMMENT_QUERIES
    from streams.augment.layout import LAYOUT_QUERIES
    from streams.languages import LANGUAGES
    from streams.processor import make_pool

    maps = [{n: r.query for n, r in NAME_RULES.items()}, ERROR_QUERIES, COMMENT_QUERIES]
    augmenting = {pair for queries in [*maps, LAYOUT_QUERIES] for pair in queries.items()}
    pool = make_pool(2)
    try:
        seen = {pool.submit(_compiled).result(timeout=120) for _ in range(8)}
    finally:
        pool.shutdown()
    assert seen == {(len(LANGUAGES), len(augmenting), POOL_GC_THRESHOLD, True)}
