"""Local bare mirrors of remote repositories, and the commits and changed files read from them.

Each repository is mirrored once under a cache folder (``mirror_path``) and kept current with
``sync_mirror``, which clones on first use and afterwards fetches every branch and tag with
pruning, all through pygit2 so no ``git`` binary is needed at runtime. A token is handed to libgit2
through a credentials callback only: it is never written to the mirror's config nor put in an error
message. Two processes may sync the same mirror: an ``fcntl`` lock file serialises them and a first
clone is built in a temporary folder that is renamed into place only once complete. Reading is
cheap and lazy: ``list_commits`` walks a branch like ``git rev-list --reverse --topo-order``,
``changed_files`` diffs a commit's trees against its first parent (merges included, so a merge
reports what it brought into the branch) without computing patches, and ``read_blob`` loads a
file's bytes only once the caller has decided, from ``ChangedFile.size``, that it wants them.
"""

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, FetchPrune, FileMode, SortMode

from common.errors import RepositoryError

MIRROR_REFSPECS = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
FALLBACK_BRANCHES = ("refs/heads/main", "refs/heads/master")

ChangeStatus = Literal["added", "modified", "renamed"]

_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_STATUSES: dict[DeltaStatus, ChangeStatus] = {
    DeltaStatus.ADDED: "added",
    DeltaStatus.MODIFIED: "modified",
    DeltaStatus.RENAMED: "renamed",
}
_FILE_MODES = (FileMode.BLOB, FileMode.BLOB_EXECUTABLE)


@dataclass(frozen=True)
class CommitInfo:
    """One commit's metadata; ``committed_at`` is the committer time, in UTC."""

    sha: str
    parents: tuple[str, ...]
    message: str
    author_name: str
    author_email: str
    committed_at: datetime


@dataclass(frozen=True)
class ChangedFile:
    """A regular file a commit added, modified or renamed; read its bytes with ``read_blob``."""

    path: str
    status: ChangeStatus
    old_path: str | None
    blob_sha: str
    size: int
    old_blob_sha: str | None = None  # the parent's version of a modified or renamed file


def mirror_path(cache_dir: Path, repo: str) -> Path:
    """The mirror folder for ``repo``: readable, filesystem-safe, and unique thanks to a hash."""
    digest = hashlib.sha256(repo.encode()).hexdigest()[:10]
    readable = _UNSAFE_CHARS.sub("_", repo.replace("/", "__")).strip("._")[:80] or "repo"
    return cache_dir / f"{readable}-{digest}.git"


def sync_mirror(
    cache_dir: Path,
    repo: str,
    url: str,
    token: str | None = None,
    username: str = "x-access-token",
) -> pygit2.Repository:
    """Clone ``url`` as a bare mirror of ``repo`` on first use, fetch it (with prune) afterwards."""
    path = mirror_path(cache_dir, repo)
    callbacks = _callbacks(username, token)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _locked(path.with_name(path.name + ".lock")):
            if path.exists():
                return _fetch_existing(path, url, callbacks)
            return _clone(path, url, callbacks)
    except (pygit2.GitError, OSError) as exc:
        detail = _scrub(str(exc), url, token)
        raise RepositoryError(
            f"could not sync the mirror of {repo} from {safe_url(url)}: {detail}. Check that the "
            f"URL is right and reachable from this machine, that the token (if any) can read the "
            f"repository, and that {cache_dir} is writable."
        ) from None


def ensure_commits(
    repo_obj: pygit2.Repository,
    cache_dir: Path,
    repo: str,
    url: str,
    shas: Iterable[str],
    token: str | None = None,
    username: str = "x-access-token",
) -> list[str]:
    """The ``shas`` still missing from the mirror after fetching; no fetch if none are missing."""
    missing = _missing_commits(repo_obj, shas)
    if not missing:
        return []
    sync_mirror(cache_dir, repo, url, token, username)
    return _missing_commits(repo_obj, missing)


def list_commits(
    repo_obj: pygit2.Repository,
    branch: str | None = None,
    since: datetime | None = None,
    max_commits: int | None = None,
) -> list[CommitInfo]:
    """Commits reachable from ``branch`` (default: HEAD), oldest first, in topological order.

    Only commits with a committer time at or after ``since`` (naive means UTC) are kept, and of
    those only the ``max_commits`` most recent.
    """
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    newest_first: list[CommitInfo] = []
    # libgit2's TOPOLOGICAL alone is git's --topo-order; adding TIME would give --date-order
    for commit in repo_obj.walk(_branch_tip(repo_obj, branch), SortMode.TOPOLOGICAL):
        if max_commits is not None and len(newest_first) >= max_commits:
            break
        info = _commit_info(commit)
        if since is None or info.committed_at >= since:
            newest_first.append(info)
    newest_first.reverse()
    return newest_first


def commit_info(repo_obj: pygit2.Repository, sha: str) -> CommitInfo:
    """The metadata of commit ``sha``."""
    return _commit_info(_lookup_commit(repo_obj, sha))


def changed_files(repo_obj: pygit2.Repository, sha: str) -> list[ChangedFile]:
    """Regular files added, modified or renamed by ``sha`` relative to its first parent.

    A root commit is compared with the empty tree; a merge with its first parent, so it lists what
    the merge brought into the branch. Deletions, symlinks, submodules and mode-only changes are
    left out. Copies are reported as additions.
    """
    commit = _lookup_commit(repo_obj, sha)
    if commit.parents:
        diff = commit.parents[0].tree.diff_to_tree(commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    diff.find_similar(DiffFind.FIND_RENAMES)
    changes = (_changed_file(repo_obj, delta) for delta in diff.deltas)
    return [change for change in changes if change is not None]


def file_at(repo_obj: pygit2.Repository, sha: str, path: str) -> bytes | None:
    """The bytes of ``path`` in commit ``sha``'s tree; None when the tree has no such file."""
    tree = _lookup_commit(repo_obj, sha).tree
    try:
        entry = tree[path]
    except KeyError:
        return None
    return entry.data if isinstance(entry, pygit2.Blob) else None


def blob_size(repo_obj: pygit2.Repository, blob_sha: str) -> int:
    """The size of blob ``blob_sha`` in bytes, read from its header (the blob stays packed)."""
    _, size = repo_obj.odb.read_header(blob_sha)
    return int(size)


def read_blob(repo_obj: pygit2.Repository, blob_sha: str) -> bytes:
    """The bytes of blob ``blob_sha``."""
    blob = _lookup(repo_obj, blob_sha)
    if not isinstance(blob, pygit2.Blob):
        raise RepositoryError(f"{blob_sha} is not a file blob in {repo_obj.path}")
    return blob.data


def safe_url(url: str) -> str:
    """``url`` without the user and password it may carry, fit for logs and messages."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _callbacks(username: str, token: str | None) -> pygit2.RemoteCallbacks | None:
    """Hand the token to libgit2 only when the server asks for credentials."""
    if not token:
        return None
    return pygit2.RemoteCallbacks(credentials=pygit2.UserPass(username, token))


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``lock_path`` (blocks while another process holds it)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _clone(path: Path, url: str, callbacks: pygit2.RemoteCallbacks | None) -> pygit2.Repository:
    """Build the mirror in a temporary folder, then rename it into place in one step."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a crash; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        mirror = pygit2.init_repository(tmp, bare=True)
        mirror.remotes.create("origin", safe_url(url), MIRROR_REFSPECS[0])
        mirror.remotes.add_fetch("origin", MIRROR_REFSPECS[1])
        _fetch(mirror, url, callbacks)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return pygit2.Repository(path)


def _fetch_existing(
    path: Path, url: str, callbacks: pygit2.RemoteCallbacks | None
) -> pygit2.Repository:
    try:
        mirror = pygit2.Repository(path)
    except pygit2.GitError:
        raise RepositoryError(
            f"{path} exists but is not a git repository; delete it and sync again"
        ) from None
    if mirror.remotes["origin"].url != safe_url(url):
        mirror.remotes.set_url("origin", safe_url(url))
    _fetch(mirror, url, callbacks)
    return mirror


def _fetch(mirror: pygit2.Repository, url: str, callbacks: pygit2.RemoteCallbacks | None) -> None:
    """Fetch all branches and tags through an in-memory remote, so ``url`` is never stored."""
    remote = mirror.remotes.create_anonymous(url)
    remote.fetch(MIRROR_REFSPECS, callbacks=callbacks, prune=FetchPrune.PRUNE, proxy=True)
    heads = remote.list_heads(connect=False)  # what the fetch saw; no second connection
    default = next((head.symref_target for head in heads if head.name == "HEAD"), None)
    _point_head(mirror, default)


def _point_head(mirror: pygit2.Repository, default: str | None) -> None:
    """Follow the remote's default branch, or keep HEAD on a branch that still exists."""
    if default and default in mirror.references:
        mirror.set_head(default)
    elif mirror.head_is_unborn:
        branches = [f"refs/heads/{name}" for name in sorted(mirror.branches.local)]
        candidates = [ref for ref in FALLBACK_BRANCHES if ref in branches] + branches
        if candidates:
            mirror.set_head(candidates[0])


def _missing_commits(repo_obj: pygit2.Repository, shas: Iterable[str]) -> list[str]:
    return [sha for sha in shas if not isinstance(_lookup(repo_obj, sha), pygit2.Commit)]


def _lookup(repo_obj: pygit2.Repository, sha: str) -> pygit2.Object | None:
    try:
        return repo_obj.get(sha)
    except ValueError:  # not a hex object name
        return None


def _lookup_commit(repo_obj: pygit2.Repository, sha: str) -> pygit2.Commit:
    commit = _lookup(repo_obj, sha)
    if not isinstance(commit, pygit2.Commit):
        raise RepositoryError(
            f"commit {sha} is not in {repo_obj.path}; sync the mirror, or check the sha"
        )
    return commit


def _branch_tip(repo_obj: pygit2.Repository, branch: str | None) -> pygit2.Oid:
    if branch is None:
        if repo_obj.head_is_unborn:
            raise RepositoryError(f"{repo_obj.path} has no commits on its default branch")
        return repo_obj.head.peel(pygit2.Commit).id
    ref = repo_obj.references.get(branch if branch.startswith("refs/") else f"refs/heads/{branch}")
    if ref is None:
        known = ", ".join(sorted(repo_obj.branches.local)) or "none"
        raise RepositoryError(
            f"branch {branch!r} not found in {repo_obj.path}; its branches are: {known}"
        )
    return ref.peel(pygit2.Commit).id


def _commit_info(commit: pygit2.Commit) -> CommitInfo:
    encoding = commit.message_encoding
    return CommitInfo(
        sha=str(commit.id),
        parents=tuple(str(parent) for parent in commit.parent_ids),
        message=_decode(commit.raw_message, encoding),
        author_name=_decode(commit.author.raw_name, encoding),
        author_email=_decode(commit.author.raw_email, encoding),
        committed_at=datetime.fromtimestamp(commit.commit_time, UTC),
    )


def _changed_file(repo_obj: pygit2.Repository, delta: pygit2.DiffDelta) -> ChangedFile | None:
    status = _STATUSES.get(delta.status)
    new = delta.new_file
    if status is None or new.mode not in _FILE_MODES:
        return None
    if status == "modified" and new.id == delta.old_file.id:  # only the mode changed
        return None
    size = blob_size(repo_obj, str(new.id))
    old_path = _path(delta.old_file) if status == "renamed" else None
    old_blob = str(delta.old_file.id) if status in ("modified", "renamed") else None
    return ChangedFile(_path(new), status, old_path, str(new.id), size, old_blob)


def _path(file: pygit2.DiffFile) -> str:
    """A git path is bytes: one that is not UTF-8 gets U+FFFD for its bad bytes, never the
    lone surrogates pygit2 leaves there, which no row or message could be encoded with."""
    return file.raw_path.decode("utf-8", "replace")


def _decode(raw: bytes, encoding: str | None) -> str:
    try:
        return raw.decode(encoding or "utf-8", "replace")
    except LookupError:  # an encoding header Python does not know
        return raw.decode("utf-8", "replace")


def _scrub(text: str, url: str, token: str | None) -> str:
    """Remove every secret a libgit2 message could echo: the token and the URL's password."""
    text = text.replace(url, safe_url(url))
    secrets = [token, urlsplit(url).password if "://" in url else None]
    for secret in filter(None, secrets):
        text = text.replace(secret, "***")
    return text
