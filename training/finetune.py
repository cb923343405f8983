"""Run the fine-tune on Ray Train: start or join Ray, launch the workers, follow and steer them.

The driver side of :mod:`training.loop`. ``ScalingConfig`` comes from the settings (workers,
GPUs or CPUs: Ray Train picks nccl or gloo to match); the run's name keys its checkpoints under
``$CODEMILL_HOME/models/runs``, so relaunching an interrupted run under the same name resumes from
its last checkpoint. While it runs, the workers' progress is polled from a small actor and handed
to ``on_progress``; a stop file (``codemill train --stop``) makes the workers checkpoint and end.
"""

import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchTrainer

from common.ray_cluster import join
from common.settings import Settings
from training.loop import ADAPTER, LoopConfig, Progress, train_loop
from training.prompts import TrainingText
from training.runs import runs_dir, stop_file

OnProgress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class FineTuned:
    adapter: Path  # where the trained adapter now lies
    metrics: dict[str, Any]  # the last figures the workers reported
    stopped: bool  # ended early on request
    seconds: float


def fine_tune(
    settings: Settings,
    texts: list[TrainingText],
    base_path: str,
    run_name: str,
    destination: Path,
    parent_adapter: Path | None = None,
    on_progress: OnProgress | None = None,
) -> FineTuned:
    """Train an adapter on ``texts`` and move it to ``destination``."""
    join(settings)
    training = settings.training
    # The CPUs free now: on a cluster that also serves (codemill up), replicas hold some.
    available = int(ray.available_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
    cpus = training.cpus_per_worker or max(1, available // training.num_workers)
    progress = Progress.remote()  # type: ignore[attr-defined]
    config = LoopConfig(
        base_path=str(base_path),
        texts=texts,
        training=training.model_dump(),
        parent_adapter=str(parent_adapter or ""),
        threads=0 if training.use_gpu else cpus,
        progress=progress,
    )
    trainer = TorchTrainer(
        train_loop,
        train_loop_config=config.as_dict(),
        scaling_config=ScalingConfig(
            num_workers=training.num_workers,
            use_gpu=training.use_gpu,
            resources_per_worker={"CPU": cpus},
        ),
        run_config=RunConfig(
            name=run_name,
            storage_path=str(runs_dir(settings).resolve()),
            checkpoint_config=CheckpointConfig(num_to_keep=2),
            failure_config=FailureConfig(max_failures=1),
        ),
    )
    stop = stop_file(settings)
    stop.unlink(missing_ok=True)
    outcome: dict[str, Any] = {}
    started = time.perf_counter()

    def fit() -> None:
        try:
            outcome["result"] = trainer.fit()
        except BaseException as error:  # re-raised in the caller's thread below
            outcome["error"] = error

    runner = threading.Thread(target=fit, name="ray-train-fit", daemon=True)
    runner.start()
    while runner.is_alive():
        runner.join(timeout=1.0)
        figures = ray.get(progress.read.remote())
        if figures and on_progress is not None:
            on_progress(figures)
        if stop.exists():
            progress.stop.remote()
    stop.unlink(missing_ok=True)
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if result.checkpoint is None:
        raise RuntimeError(f"the fine-tune {run_name!r} ended without a checkpoint")
    with result.checkpoint.as_directory() as folder:
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(Path(folder) / ADAPTER, destination)
    metrics = dict(result.metrics or {})
    (destination / "training_metrics.json").write_text(json.dumps(metrics, indent=2))
    return FineTuned(
        destination, metrics, bool(metrics.get("stopped")), time.perf_counter() - started
    )
