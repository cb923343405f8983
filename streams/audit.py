"""``codemill scan``: the sanitizer run over files on disk, so a team can audit a repository
before (or after) it streams anything. Reports where secrets and personal data are, never what
they are.

Vendored folders (``node_modules``, ``vendor``, … :data:`streams.filters.VENDORED_DIRS`) are left
out below each path named, as ingestion leaves them out, unless ``include_vendored``; a path named
is always scanned, wherever it lies (a repository checked out under ``~/vendor`` included).
Version-control and cache folders are never scanned."""

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from streams.filters import VENDORED_DIRS
from streams.sanitize import find_secrets, is_secret_file

SKIPPED_DIRS = {".git", ".hg", ".svn", ".codemill", "__pycache__"}
MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class AuditFinding:
    file: str
    line: int
    kind: str


def files_under(paths: Iterable[Path], include_vendored: bool = False) -> Iterator[Path]:
    """The files named and those in the folders named, in order, less the folders left out."""
    for root in paths:
        if root.is_file():
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


def audit_file(path: Path, display: str) -> list[AuditFinding]:
    if is_secret_file(display):
        return [AuditFinding(display, 0, "secret_file")]
    try:
        if path.stat().st_size > MAX_BYTES:
            return []
        data = path.read_bytes()
    except OSError:
        return []
    if b"\x00" in data[:8192]:
        return []
    text = data.decode("utf-8", "replace")
    return [AuditFinding(display, f.line, f.kind) for f in find_secrets(text)]


def audit(paths: Iterable[Path], include_vendored: bool = False) -> Iterator[AuditFinding]:
    for path in files_under(paths, include_vendored):
        yield from audit_file(path, path.as_posix())
