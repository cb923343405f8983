"""``codemill scan``: the sanitizer run over files on disk, so a team can audit a repository
before (or after) it streams anything. Reports where secrets and personal data are, never what
they are.

Vendored folders (``node_modules``, ``vendor``, … :data:`streams.filters.VENDORED_DIRS`) are left
out below each path named, as ingestion leaves them out, unless ``include_vendored``; a path named
is always scanned, wherever it lies (a repository checked out under ``~/vendor`` included).
Version-control and cache folders are never scanned. Binary files are passed over; a file that
cannot be read, one over :data:`MAX_BYTES` and a path that does not exist are reported as
:class:`Skipped`, so an audit never passes quietly over what it did not see."""

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from streams.filters import VENDORED_DIRS
from streams.sanitize import find_secrets, is_secret_file
from streams.text import canonical_source

SKIPPED_DIRS = {".git", ".hg", ".svn", ".codemill", "__pycache__"}
MAX_BYTES = 64 * 2**20  # bytes; far above any source file ingestion takes (512 KiB by default)


@dataclass(frozen=True)
class AuditFinding:
    file: str
    line: int
    kind: str


@dataclass(frozen=True)
class Skipped:
    """A file (or a path named) the audit could not look into, and why."""

    file: str
    reason: str


def files_under(paths: Iterable[Path], include_vendored: bool = False) -> Iterator[Path]:
    """The files named and those in the folders named, in order, less the folders left out
    (a path that is neither a file nor a folder is yielded as it is)."""
    for root in paths:
        if not root.is_dir():
            yield root
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in SKIPPED_DIRS and (include_vendored or d.lower() not in VENDORED_DIRS)
            )
            for name in sorted(names):
                yield Path(folder) / name


def audit_file(path: Path, display: str) -> list[AuditFinding | Skipped]:
    if is_secret_file(display):
        return [AuditFinding(display, 0, "secret_file")]
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return [Skipped(display, "not a regular file")]
        if info.st_size > MAX_BYTES:
            return [Skipped(display, f"larger than {MAX_BYTES} bytes ({info.st_size})")]
        data = path.read_bytes()
    except FileNotFoundError:
        if path.is_symlink():
            return []  # a dangling link: nothing to read
        return [Skipped(display, "no such file or folder")]
    except OSError as error:
        return [Skipped(display, f"unreadable: {error.strerror or error}")]
    if b"\x00" in data[:8192]:
        return []
    text = canonical_source(data).decode("utf-8", "replace")  # lines as an editor counts them
    return [AuditFinding(display, f.line, f.kind) for f in find_secrets(text)]


def audit(
    paths: Iterable[Path], include_vendored: bool = False
) -> Iterator[AuditFinding | Skipped]:
    """Every finding under ``paths``, and every file that could not be looked into."""
    for path in files_under(paths, include_vendored):
        yield from audit_file(path, path.as_posix())
