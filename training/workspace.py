"""The Evidently workspace the drift checks write to (``evidently ui --workspace
$CODEMILL_HOME/evidently``): one project per model version, a run per check and kind.

Opened once a process: opening it reads every run it holds, which grows with each check.
Written whole: Evidently writes its files in place, so a reader in another process
(``codemill drift`` while the loop worker checks, ``evidently ui``) could load a run half
written and fail; here each file goes to a hidden name beside it and is then renamed.
"""

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from evidently.core.serialization import SnapshotModel
from evidently.legacy.utils import NumpyEncoder
from evidently.sdk.models import DashboardModel, ProjectModel
from evidently.ui.storage.local.base import LocalState
from evidently.ui.workspace import Workspace


class WholeFiles(LocalState):  # type: ignore[misc]  # evidently has no type hints
    """Evidently's local files, each written whole (rename is atomic on one file system)."""

    def write_project(self, project: ProjectModel) -> ProjectModel:
        write_whole(Path(self.path, self._project_path(project.id)), project.dict())
        return project

    def write_snapshot(self, project_id: Any, snapshot_id: Any, snapshot: SnapshotModel) -> None:
        write_whole(Path(self.path, self._snapshot_path(project_id, snapshot_id)), snapshot.dict())

    def write_dashboard(self, project_id: Any, dashboard: DashboardModel) -> None:
        write_whole(Path(self.path, self._dashboard_path(project_id)), dashboard.dict())


def write_whole(path: Path, content: dict[str, Any]) -> None:
    """``content`` as JSON at ``path``, all or nothing: written under a hidden name (not
    ``*.json``, which Evidently would load) and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(content, cls=NumpyEncoder))
    os.replace(partial, path)


@cache
def open_workspace(path: str) -> Workspace:
    """The workspace at ``path``, opened once a process. Its projects and runs are read from
    disk on each call, so an open one sees what other processes write."""
    workspace = Workspace.create(path)
    workspace.state = WholeFiles(path)
    return workspace


def add_panels(project: Any) -> None:
    """A project's dashboard: each kind's share of drifted features over the checks."""
    from evidently.sdk.models import PanelMetric
    from evidently.sdk.panels import line_plot_panel

    for kind in ("data", "prediction"):
        share = PanelMetric(
            legend=f"{kind}: share of drifted features",
            tags=[kind],
            metric="DriftedColumnsCount",
            metric_labels={"value_type": "share"},
        )
        project.dashboard.add_panel(
            line_plot_panel(title=f"{kind.capitalize()} drift", values=[share], size="half")
        )
