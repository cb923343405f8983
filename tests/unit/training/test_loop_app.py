"""The loop worker's drift check waits while its own training run is in progress (the run's
evaluation shares the process; the controller acts on nothing until the run ends)."""

import asyncio
from pathlib import Path

from common.lake import read_rows
from common.names import Table
from common.rows import DriftReport
from common.settings import Settings
from training.loop_app import Loop


def reports(settings: Settings) -> int:
    uri = settings.table_uri(Table.DRIFT_REPORTS)
    return read_rows(uri, DriftReport).num_rows if Path(uri).exists() else 0


def test_no_check_while_a_run_trains_and_one_after(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    loop = Loop(settings)
    loop.training = True
    asyncio.run(loop.check_drift())
    assert reports(settings) == 0 and loop.last_check == {}

    loop.training = False
    asyncio.run(loop.check_drift())
    assert reports(settings) == 1 and loop.last_check["model_version"] == "base"
