"""The training function each Ray Train worker runs: a LoRA fine-tune with checkpoints.

It loads the base, adds the adapter (new, or the parent's for an incremental run), takes its shard
of the encoded examples, and runs :func:`training.steps.run_steps`. Every ``save_steps`` steps
(and when asked to stop, and at the end) it reports a checkpoint: the adapter as peft saves it
plus the optimizer, schedule and step, so a run restarted by Ray (a lost worker, or the driver
relaunched under the same run name) goes on from there. Progress goes to the driver's
:class:`Progress` actor, which is also how a stop request arrives.
"""

import math
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import ray
import ray.train
import ray.train.torch
import torch
from peft import PeftModel, set_peft_model_state_dict
from safetensors.torch import load_file

from common.settings import TrainingSettings
from training.bases import fim_token_ids, load_base
from training.batches import encode_all
from training.lora import with_adapter
from training.prompts import TrainingText
from training.steps import Optimisation, run_steps

ADAPTER = "adapter"  # the checkpoint's folder holding the peft adapter
_STATE = "state.pt"


@ray.remote(num_cpus=0)
class Progress:
    """Where workers post their progress and read whether to stop; the driver polls it."""

    def __init__(self) -> None:
        self.latest: dict[str, Any] = {}
        self.stop_requested = False

    def post(self, figures: dict[str, Any]) -> bool:
        """Record the figures; answers whether the run should stop."""
        self.latest = figures
        return self.stop_requested

    def stop(self) -> None:
        self.stop_requested = True

    def read(self) -> dict[str, Any]:
        return self.latest


@dataclass
class LoopConfig:
    """What the driver hands every worker (through Ray's object store)."""

    base_path: str
    texts: list[TrainingText]
    training: dict[str, Any]  # TrainingSettings, as a dict
    parent_adapter: str = ""
    threads: int = 0
    progress: Any = None  # an actor handle of Progress
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def train_loop(config: dict[str, Any]) -> None:
    """Ray Train's ``train_loop_per_worker``."""
    job = LoopConfig(**config)
    settings = TrainingSettings(**job.training)
    if job.threads:
        torch.set_num_threads(job.threads)
    torch.manual_seed(settings.seed)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    device = ray.train.torch.get_device()

    base, tokenizer = load_base(job.base_path)
    parent = Path(job.parent_adapter) if job.parent_adapter else None
    model: Any = with_adapter(base, settings, fim_token_ids(tokenizer), parent)
    examples = encode_all(job.texts, tokenizer, settings.max_seq_len)[rank::world]
    steps_per_epoch = max(1, math.ceil(len(examples) / settings.batch_size))
    total = settings.max_steps or max(1, math.ceil(settings.epochs * steps_per_epoch))

    model = ray.train.torch.prepare_model(model)
    optimisation = Optimisation.of(model, settings, total)
    done = _restore(_peft(model), optimisation)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def on_step(figures: dict[str, Any], checkpoint: bool) -> bool:
        figures["worker_pid"] = os.getpid()
        stopped = False
        if job.progress is not None and rank == 0:
            stopped = bool(ray.get(job.progress.post.remote(figures)))
        stopped = _agreed(stopped, device)
        if checkpoint or stopped:
            figures = {**figures, "stopped": stopped}
            _report(_peft(model), optimisation, figures["step"], figures, rank)
        return stopped

    run_steps(model, examples, settings, optimisation, device, pad, done, total, on_step, world)


def _peft(model: Any) -> PeftModel:
    unwrapped: PeftModel = model.module if hasattr(model, "module") else model  # DDP wraps it
    return unwrapped


def _agreed(stop: bool, device: torch.device) -> bool:
    """Every worker stops at the same step: rank 0 hears the request, the others follow."""
    if not torch.distributed.is_initialized() or torch.distributed.get_world_size() == 1:
        return stop
    flag = torch.tensor([1.0 if stop else 0.0], device=device)
    torch.distributed.broadcast(flag, src=0)
    return bool(flag.item())


def _report(
    model: PeftModel, optimisation: Optimisation, step: int, figures: dict[str, Any], rank: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = None
        if rank == 0:
            model.save_pretrained(os.path.join(folder, ADAPTER))
            state = {
                "optimizer": optimisation.optimizer.state_dict(),
                "schedule": optimisation.schedule.state_dict(),
            }
            torch.save({**state, "step": step}, os.path.join(folder, _STATE))
            checkpoint = ray.train.Checkpoint.from_directory(folder)
        ray.train.report(figures, checkpoint=checkpoint)


def _restore(model: PeftModel, optimisation: Optimisation) -> int:
    """The step to go on from: that of Ray's latest checkpoint of this run, else 0."""
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as folder:
        weights = load_file(os.path.join(folder, ADAPTER, "adapter_model.safetensors"))
        set_peft_model_state_dict(model, weights)
        state = torch.load(os.path.join(folder, _STATE), weights_only=False)
    optimisation.optimizer.load_state_dict(state["optimizer"])
    optimisation.schedule.load_state_dict(state["schedule"])
    return int(state["step"])
