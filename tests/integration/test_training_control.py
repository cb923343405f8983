"""Steering a running fine-tune on real Ray Train: a stop request ends it with a checkpoint, and
a worker killed mid-run is restarted by Ray from the last checkpoint, not from the first step.

The base is the tiny model, trained here for a few seconds; the examples are this repository's
own source, cut into prompt and target.
"""

import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from peft import PeftModel

from common.settings import Settings
from tests.integration.test_cli import ROOT
from training.bases import load_base
from training.finetune import fine_tune
from training.prompts import TrainingText
from training.runs import stop_file
from training.tiny import train_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny(tmp_path_factory.mktemp("base") / "tiny", minutes=0.2, max_steps=40)


def source_texts() -> list[TrainingText]:
    texts = []
    for path in sorted((ROOT / "training").glob("*.py")):
        code = path.read_text()
        for cut in range(400, len(code) - 200, 600):
            texts.append(
                TrainingText(code[cut - 400 : cut], code[cut : cut + 200], "completion", "", T0)
            )
    return texts


def settings_for(home: Path, **training: Any) -> Settings:
    return Settings(
        home=home,
        training={"batch_size": 4, "max_seq_len": 128, "warmup_steps": 2, **training},
    )


def test_a_stop_request_checkpoints_and_ends_the_run(tmp_path: Path, tiny_base: Path) -> None:
    settings = settings_for(tmp_path, max_steps=5000, save_steps=5000)
    asked: list[int] = []

    def on_progress(figures: dict[str, Any]) -> None:
        if figures["step"] >= 3 and not asked:
            asked.append(figures["step"])
            stop_file(settings).touch()  # what `codemill train --stop` does

    tuned = fine_tune(
        settings, source_texts(), str(tiny_base), "stopped", tmp_path / "adapter", None, on_progress
    )
    assert asked and tuned.stopped
    assert asked[0] <= tuned.metrics["step"] < 5000
    assert not stop_file(settings).exists()  # the next run is not stopped at once
    model, _ = load_base(tiny_base)
    adapted = PeftModel.from_pretrained(model, str(tuned.adapter))
    assert any("lora_" in name for name, _ in adapted.named_parameters())


def test_a_killed_worker_resumes_from_the_last_checkpoint(tmp_path: Path, tiny_base: Path) -> None:
    settings = settings_for(tmp_path, max_steps=60, save_steps=5)
    killed: list[dict[str, Any]] = []

    def on_progress(figures: dict[str, Any]) -> None:
        # Well after the first checkpoints: Ray's controller registers a reported checkpoint
        # asynchronously, so one reported just before the kill may not be known yet.
        if figures["step"] >= 25 and not killed:
            killed.append(figures)
            os.kill(figures["worker_pid"], signal.SIGKILL)

    tuned = fine_tune(
        settings, source_texts(), str(tiny_base), "killed", tmp_path / "adapter", None, on_progress
    )
    assert killed, "the run ended before the worker could be killed"
    assert tuned.metrics["step"] == 60 and not tuned.stopped
    assert tuned.metrics["worker_pid"] != killed[0]["worker_pid"]  # a new worker finished it
    resumed = tuned.metrics["resumed_from_step"]
    assert resumed > 0 and resumed % 5 == 0  # from a checkpoint, not from the start
