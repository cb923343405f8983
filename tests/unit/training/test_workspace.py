"""The drift checks' Evidently workspace: opened once a process, yet seeing what other
processes write; each file written whole, so a reader never loads one half written."""

import json
from pathlib import Path

import pytest
from evidently.ui.workspace import Workspace

from training.workspace import open_workspace, write_whole


def test_the_workspace_is_opened_once_and_sees_what_others_write(tmp_path: Path) -> None:
    path = str(tmp_path / "evidently")
    held = open_workspace(path)
    assert open_workspace(path) is held  # opening reads every run: once a process
    other = Workspace(path)  # `codemill drift` in another process, say
    made = other.create_project("codemill model 0.3.0")
    assert [p.id for p in held.search_project("codemill model 0.3.0")] == [made.id]

    mine = held.create_project("codemill model 0.4.0")  # and the other way round
    assert [p.id for p in Workspace(path).search_project("codemill model 0.4.0")] == [mine.id]
    assert not list(Path(path).rglob("*.partial"))


def test_a_write_that_fails_halfway_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "p" / "snapshots" / "run.json"
    write_whole(target, {"run": 1})
    with pytest.raises(TypeError):  # the encoder meets something it cannot write
        write_whole(target, {"run": 2, "widgets": [1, 2, object()]})
    assert json.loads(target.read_text()) == {"run": 1}
    assert [p.name for p in target.parent.iterdir()] == ["run.json"]
