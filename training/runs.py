"""Where fine-tune runs keep their state: Ray's checkpoints, the progress file, the stop file.

Light on purpose (no Ray, no torch): ``codemill status`` and ``codemill train --stop`` read it.
"""

import json
import os
from pathlib import Path
from typing import Any

from common.settings import Settings


def runs_dir(settings: Settings) -> Path:
    """Ray Train's storage path: one folder of checkpoints per run name."""
    return settings.models_dir / "runs"


def stop_file(settings: Settings) -> Path:
    """Its presence asks the running fine-tune to checkpoint and stop (`codemill train --stop`)."""
    return runs_dir(settings) / "STOP"


def progress_file(settings: Settings) -> Path:
    """The running fine-tune's last figures, with the pid of the process driving it."""
    return runs_dir(settings) / "current.json"


def current_run(settings: Settings) -> dict[str, Any] | None:
    """The running fine-tune's last progress, None when none runs."""
    try:
        data: dict[str, Any] = json.loads(progress_file(settings).read_text())
        os.kill(int(data["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return data
