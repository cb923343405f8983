"""What a running codemill process leaves under ``$CODEMILL_HOME`` for the commands that join it:
a JSON record with its pid, read back only while that process lives."""

import json
import os
from pathlib import Path
from typing import Any


def write_record(path: Path, info: dict[str, Any]) -> None:
    """Record ``info`` for this process at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), **info}))


def live_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path`` if the process that wrote it still runs, else None."""
    try:
        info: dict[str, Any] = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return info


def loop_file(home: Path) -> Path:
    """Where the loop worker records its last drift check and retraining decisions."""
    return home / "loop.json"


def serving_file(home: Path) -> Path:
    """Where ``codemill up`` records its inference API (URL, Ray cluster)."""
    return home / "serving.json"
