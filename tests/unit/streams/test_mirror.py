"""Tests for streams.mirror, against real repositories built with the git CLI."""

import os
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pygit2
import pytest

from common.errors import RepositoryError
from streams.mirror import (
    ChangedFile,
    changed_files,
    commit_info,
    ensure_commits,
    list_commits,
    mirror_path,
    read_blob,
    safe_url,
    sync_mirror,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
BINARY = bytes(range(256)) * 4
HELPER_LINES = [f"def helper_{i}():\n    return {i}\n" for i in range(20)]
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


def git(cwd: Path, *args: str, hour: int = 0) -> str:
    """Run git in ``cwd`` with author and committer dates fixed at ``T0 + hour``."""
    stamp = (T0 + timedelta(hours=hour)).isoformat()
    env = {**GIT_ENV, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def commit(cwd: Path, message: str, hour: int) -> str:
    git(cwd, "commit", "-q", "-m", message, hour=hour)
    return git(cwd, "rev-parse", "HEAD")


def write(root: Path, name: str, content: str | bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def build_source(root: Path) -> dict[str, str]:
    """A history with adds, a rename, a deletion, binary, symlink, submodule, branch and merge."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "README.md", "# demo\n")
    write(root, "src/app.py", "print('v1')\n")
    write(root, "src/util.py", "".join(HELPER_LINES))
    write(root, "logo.bin", BINARY)
    (root / "link").symlink_to("README.md")
    git(root, "add", ".")
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},vendor/lib")
    shas = {"root": commit(root, "root commit", 0)}
    git(root, "tag", "-a", "v1", "-m", "first release", hour=0)

    write(root, "src/app.py", "print('v2')\n")
    write(root, "docs/guide.md", "guide\n")
    git(root, "add", ".")
    shas["modify"] = commit(root, "modify app, add guide", 1)

    git(root, "mv", "src/util.py", "src/helpers.py")
    write(root, "src/helpers.py", "".join(HELPER_LINES[:-1]) + "def helper_19():\n    return 0\n")
    git(root, "add", ".")
    shas["rename"] = commit(root, "rename util to helpers", 2)

    git(root, "rm", "-q", "docs/guide.md")
    write(root, "README.md", "# demo\n\nmore\n")
    git(root, "add", ".")
    shas["delete"] = commit(root, "delete guide", 3)

    git(root, "checkout", "-q", "-b", "feature")
    write(root, "feature.py", "FEATURE = True\n")
    git(root, "add", ".")
    shas["feature"] = commit(root, "add feature", 4)

    git(root, "checkout", "-q", "main")
    write(root, "src/app.py", "print('v3')\n")
    (root / "src/helpers.py").chmod(0o755)
    git(root, "add", ".")
    shas["mode"] = commit(root, "app v3, helpers executable", 5)

    git(root, "merge", "-q", "--no-ff", "-m", "merge feature", "feature", hour=6)
    shas["merge"] = git(root, "rev-parse", "HEAD")
    return shas


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("built") / "source"
    return root, build_source(root)


@pytest.fixture
def source(built: tuple[Path, dict[str, str]], tmp_path: Path) -> Path:
    """A private copy of the built repository, so a test may push to it."""
    copy = tmp_path / "source"
    shutil.copytree(built[0], copy, symlinks=True)
    return copy


@pytest.fixture
def shas(built: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return built[1]


@pytest.fixture(scope="module")
def mirror(
    built: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> pygit2.Repository:
    """A read-only mirror of the built repository, shared by the reading tests."""
    return sync_mirror(tmp_path_factory.mktemp("cache"), "org/demo", str(built[0]))


def by_path(files: list[ChangedFile]) -> dict[str, ChangedFile]:
    return {changed.path: changed for changed in files}


def test_mirror_path_is_deterministic_safe_and_distinct(tmp_path: Path) -> None:
    path = mirror_path(tmp_path, "org/name")
    assert path == mirror_path(tmp_path, "org/name")
    assert path.parent == tmp_path
    assert path.name.startswith("org__name-") and path.name.endswith(".git")
    assert mirror_path(tmp_path, "org/Name") != path
    assert mirror_path(tmp_path, "../../etc passwd").parent == tmp_path
    assert not mirror_path(tmp_path, "..").name.startswith(".")


def test_sync_mirror_clones_a_local_path_as_a_bare_mirror(tmp_path: Path, source: Path) -> None:
    repo = sync_mirror(tmp_path / "cache", "org/demo", str(source))
    assert repo.is_bare
    assert Path(repo.path).resolve() == mirror_path(tmp_path / "cache", "org/demo").resolve()
    assert {"refs/heads/main", "refs/heads/feature", "refs/tags/v1"} <= set(repo.references)
    assert repo.head.name == "refs/heads/main"
    assert str(repo.head.target) == git(source, "rev-parse", "main")
    assert not list((tmp_path / "cache").glob(".*.tmp"))


def test_sync_mirror_clones_a_file_url(tmp_path: Path, source: Path) -> None:
    repo = sync_mirror(tmp_path / "cache", "org/demo", source.as_uri())
    assert str(repo.references["refs/heads/feature"].target) == git(source, "rev-parse", "feature")


def test_sync_mirror_fetches_new_commits_and_prunes_deleted_branches(
    tmp_path: Path, source: Path
) -> None:
    cache = tmp_path / "cache"
    sync_mirror(cache, "org/demo", str(source))
    write(source, "new.py", "x = 1\n")
    git(source, "add", ".")
    new_sha = commit(source, "new commit", 10)
    git(source, "branch", "-q", "-D", "feature")

    repo = sync_mirror(cache, "org/demo", str(source))
    assert new_sha in repo
    assert str(repo.head.target) == new_sha
    assert "refs/heads/feature" not in repo.references


def test_sync_mirror_follows_a_changed_default_branch(tmp_path: Path, source: Path) -> None:
    cache = tmp_path / "cache"
    sync_mirror(cache, "org/demo", str(source))
    git(source, "symbolic-ref", "HEAD", "refs/heads/feature")
    assert sync_mirror(cache, "org/demo", str(source)).head.name == "refs/heads/feature"


def test_concurrent_syncs_of_one_mirror_both_succeed(tmp_path: Path, source: Path) -> None:
    cache = tmp_path / "cache"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sync_mirror(cache, "org/demo", str(source))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in cache.iterdir() if p.suffix == ".git"] == [
        mirror_path(cache, "org/demo").name
    ]


def test_sync_mirror_writes_no_credentials(tmp_path: Path, source: Path) -> None:
    url = source.as_uri()
    repo = sync_mirror(tmp_path / "cache", "org/demo", url, token="s3cr3t-token")
    config = (Path(repo.path) / "config").read_text()
    assert "s3cr3t-token" not in config
    assert repo.remotes["origin"].url == url


def test_a_missing_source_raises_repository_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(RepositoryError, match="org/gone") as info:
        sync_mirror(cache, "org/gone", str(tmp_path / "does-not-exist"))
    assert "does-not-exist" in str(info.value)
    assert not mirror_path(cache, "org/gone").exists()
    assert not list(cache.glob(".*.tmp"))


def test_an_unreachable_https_url_fails_fast_without_leaking_the_token(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(RepositoryError) as info:
        sync_mirror(
            tmp_path / "cache",
            "org/x",
            "https://user:pa55word@127.0.0.1:9/x.git",
            token="tok3n-value",
        )
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert "https://127.0.0.1:9/x.git" in message
    assert "pa55word" not in message and "tok3n-value" not in message


def test_a_folder_that_is_not_a_repository_is_reported(tmp_path: Path, source: Path) -> None:
    cache = tmp_path / "cache"
    mirror_path(cache, "org/demo").mkdir(parents=True)
    with pytest.raises(RepositoryError, match="not a git repository"):
        sync_mirror(cache, "org/demo", str(source))


def test_safe_url_strips_user_and_password() -> None:
    assert safe_url("https://x:tok@github.com/o/r.git") == "https://github.com/o/r.git"
    assert safe_url("/srv/git/r.git") == "/srv/git/r.git"


def test_ensure_commits_does_not_fetch_when_everything_is_present(
    mirror: pygit2.Repository, shas: dict[str, str], tmp_path: Path
) -> None:
    # the URL does not exist: a fetch would raise
    missing = ensure_commits(mirror, tmp_path, "org/demo", "/nowhere", list(shas.values()))
    assert missing == []


def test_ensure_commits_fetches_and_reports_what_is_still_missing(
    tmp_path: Path, source: Path
) -> None:
    cache = tmp_path / "cache"
    repo = sync_mirror(cache, "org/demo", str(source))
    write(source, "later.py", "y = 2\n")
    git(source, "add", ".")
    new_sha = commit(source, "later", 11)
    unknown = "f" * 40

    missing = ensure_commits(repo, cache, "org/demo", str(source), [new_sha, unknown, "zz"])
    assert missing == [unknown, "zz"]
    assert commit_info(repo, new_sha).message == "later\n"


def test_list_commits_matches_git_rev_list_reverse_topo_order(
    mirror: pygit2.Repository, built: tuple[Path, dict[str, str]]
) -> None:
    expected = git(built[0], "rev-list", "--reverse", "--topo-order", "main").split()
    assert [info.sha for info in list_commits(mirror)] == expected


def test_list_commits_puts_parents_before_children(mirror: pygit2.Repository) -> None:
    seen: set[str] = set()
    for info in list_commits(mirror):
        assert set(info.parents) <= seen
        seen.add(info.sha)


def test_list_commits_filters_by_since(mirror: pygit2.Repository, shas: dict[str, str]) -> None:
    commits = list_commits(mirror, since=T0 + timedelta(hours=4))
    assert [info.sha for info in commits][-1] == shas["merge"]
    assert {info.sha for info in commits} == {shas["feature"], shas["mode"], shas["merge"]}
    naive = list_commits(mirror, since=datetime(2024, 1, 1, 4))
    assert naive == commits


def test_list_commits_keeps_the_most_recent_max_commits_oldest_first(
    mirror: pygit2.Repository,
) -> None:
    everything = list_commits(mirror)
    assert list_commits(mirror, max_commits=2) == everything[-2:]
    assert list_commits(mirror, max_commits=0) == []


def test_list_commits_selects_a_branch(mirror: pygit2.Repository, shas: dict[str, str]) -> None:
    order = ["root", "modify", "rename", "delete", "feature"]
    assert [info.sha for info in list_commits(mirror, "feature")] == [shas[k] for k in order]
    assert list_commits(mirror, "refs/tags/v1")[0].sha == shas["root"]
    with pytest.raises(RepositoryError, match=r"nope.*feature, main"):
        list_commits(mirror, "nope")


def test_commit_info_reads_metadata(mirror: pygit2.Repository, shas: dict[str, str]) -> None:
    info = commit_info(mirror, shas["merge"])
    assert info.parents == (shas["mode"], shas["feature"])
    assert info.message == "merge feature\n"
    assert (info.author_name, info.author_email) == ("Ada Lovelace", "ada@example.com")
    assert info.committed_at == T0 + timedelta(hours=6)
    assert info.committed_at.tzinfo == UTC
    with pytest.raises(RepositoryError, match="sync the mirror"):
        commit_info(mirror, "e" * 40)


def test_changed_files_of_the_root_commit_lists_regular_files(
    mirror: pygit2.Repository, shas: dict[str, str]
) -> None:
    files = by_path(changed_files(mirror, shas["root"]))
    assert set(files) == {"README.md", "src/app.py", "src/util.py", "logo.bin"}
    assert {changed.status for changed in files.values()} == {"added"}
    logo = files["logo.bin"]
    assert logo.size == len(BINARY)
    assert read_blob(mirror, logo.blob_sha) == BINARY


def test_changed_files_reports_modified_and_added(
    mirror: pygit2.Repository, shas: dict[str, str]
) -> None:
    files = by_path(changed_files(mirror, shas["modify"]))
    assert {path: changed.status for path, changed in files.items()} == {
        "src/app.py": "modified",
        "docs/guide.md": "added",
    }
    assert read_blob(mirror, files["src/app.py"].blob_sha) == b"print('v2')\n"
    assert files["src/app.py"].old_path is None


def test_changed_files_detects_a_rename_with_an_edit(
    mirror: pygit2.Repository, shas: dict[str, str]
) -> None:
    [renamed] = changed_files(mirror, shas["rename"])
    assert (renamed.path, renamed.status, renamed.old_path) == (
        "src/helpers.py",
        "renamed",
        "src/util.py",
    )
    assert read_blob(mirror, renamed.blob_sha).endswith(b"return 0\n")


def test_changed_files_leaves_out_deletions_and_mode_only_changes(
    mirror: pygit2.Repository, shas: dict[str, str]
) -> None:
    assert [f.path for f in changed_files(mirror, shas["delete"])] == ["README.md"]
    assert [f.path for f in changed_files(mirror, shas["mode"])] == ["src/app.py"]


def test_changed_files_of_a_merge_is_against_the_first_parent(
    mirror: pygit2.Repository, shas: dict[str, str]
) -> None:
    [added] = changed_files(mirror, shas["merge"])
    assert (added.path, added.status) == ("feature.py", "added")


def test_changed_files_names_a_path_that_is_not_utf8_with_replacement_characters(
    tmp_path: Path,
) -> None:
    """Git paths are bytes; a Latin-1 name must not leave lone surrogates that no row (JSON)
    can be encoded with, which failed the whole commit."""
    root = tmp_path / "latin1"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    with open(os.fsencode(root) + b"/caf\xe9.py", "wb") as handle:
        handle.write("".join(HELPER_LINES).encode())
    git(root, "add", ".")
    added = commit(root, "a Latin-1 file name", 0)
    os.rename(os.fsencode(root) + b"/caf\xe9.py", os.fsencode(root) + b"/na\xefve.py")
    with open(os.fsencode(root) + b"/na\xefve.py", "ab") as handle:
        handle.write(b"def helper_20():\n    return 20\n")
    git(root, "add", "-A")
    renamed = commit(root, "rename it, with an edit", 1)
    repo = pygit2.Repository(str(root))
    [first] = changed_files(repo, added)
    assert first.path == "caf\ufffd.py"
    [moved] = changed_files(repo, renamed)
    assert (moved.path, moved.old_path) == ("na\ufffdve.py", "caf\ufffd.py")
    assert moved.status == "renamed"


def test_read_blob_refuses_what_is_not_a_blob(
    mirror: pygit2.Repository, shas: dict[str, str]
) -> None:
    with pytest.raises(RepositoryError, match="not a file blob"):
        read_blob(mirror, shas["root"])
