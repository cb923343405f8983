"""The optimisation steps of a LoRA fine-tune, without Ray: what each Ray Train worker runs
between loading its model and reporting checkpoints, and what the training benchmark times on its
own where Ray is not installed.

AdamW on the trainable parameters under a warm-up then cosine schedule, the gradient norm
clipped, each example's loss weighted; mixed precision (bfloat16) on GPUs and on CPUs that
multiply bfloat16 natively, when ``fp16`` is set.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from transformers import get_cosine_schedule_with_warmup

from common.settings import TrainingSettings
from training.batches import IGNORE, Batch, Encoded, batches
from training.tiny import native_bf16

# Called after every step with its figures and whether a checkpoint is due (every
# ``save_steps`` and at the last step); answers whether to stop after this step.
OnStep = Callable[[dict[str, Any], bool], bool]


@dataclass
class Optimisation:
    """The optimizer and its schedule over a model's trainable parameters."""

    trainable: list[torch.nn.Parameter]
    optimizer: torch.optim.Optimizer
    schedule: Any

    @classmethod
    def of(cls, model: Any, settings: TrainingSettings, total: int) -> "Optimisation":
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=0.0)
        warmup = min(settings.warmup_steps, total)
        return cls(trainable, optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, total))


def run_steps(
    model: Any,
    examples: list[Encoded],
    settings: TrainingSettings,
    optimisation: Optimisation,
    device: torch.device,
    pad: int,
    done: int,
    total: int,
    on_step: OnStep,
    world: int = 1,
) -> int:
    """Train from step ``done + 1`` to ``total`` (or until ``on_step`` says stop); the last step.

    ``on_step`` gets step, total_steps, loss (the mean per example since the last report, as read
    at most a second ago), tokens, tokens_per_s, eta_s, examples and resumed_from_step (``done``).
    """
    autocast = mixed_precision(device, settings.fp16)
    started, tokens, step = time.perf_counter(), 0, done
    # The loss stays on the device and is read at most once a second (and at each report):
    # reading it waits for the device, which would idle a GPU while the next step is prepared.
    loss_sum, losses, loss, read_at = torch.zeros((), device=device), 0, float("nan"), 0.0
    model.train()
    for batch in schedule(examples, settings, pad, done, total):
        with autocast:
            batch_loss = weighted_loss(model, batch, device)
        batch_loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(optimisation.trainable, settings.max_grad_norm)
        optimisation.optimizer.step()
        optimisation.schedule.step()
        optimisation.optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens += batch.tokens * world
        loss_sum, losses = loss_sum + batch_loss.detach(), losses + 1
        checkpoint = step >= total or step % settings.save_steps == 0
        now = time.perf_counter()
        if checkpoint or now - read_at >= 1.0:
            loss, read_at = (loss_sum / losses).item(), now
        elapsed = now - started
        figures = {
            "step": step,
            "total_steps": total,
            "loss": loss,
            "tokens": tokens,
            "tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
            "eta_s": (total - step) * elapsed / max(1, step - done),
            "examples": len(examples) * world,
            "resumed_from_step": done,
        }
        if on_step(figures, checkpoint) or step >= total:
            break
        if checkpoint:
            loss_sum, losses = torch.zeros((), device=device), 0
    return step


def schedule(
    examples: list[Encoded], settings: TrainingSettings, pad: int, done: int, total: int
) -> Iterator[Batch]:
    """The batches of steps ``done + 1`` … ``total``, epoch after epoch (resuming mid-epoch)."""
    step, epoch = 0, 0
    while step < total:
        for batch in batches(examples, settings.batch_size, pad, settings.seed + epoch):
            step += 1
            if step > done:
                yield batch
            if step >= total:
                return
        epoch += 1


def weighted_loss(model: Any, batch: Batch, device: torch.device) -> torch.Tensor:
    """Mean of each example's per-token cross-entropy on its target, weighted by the example.

    Logits are made only from the batch's first target position on (``logits_to_keep``): the
    prompt's positions carry no loss, and the vocabulary projection of every position would be
    a good part of the step's work and most of its memory.
    """
    first = min((_first_label(row) for row in batch.labels), default=0)
    width = len(batch.ids[0])
    keep = width - max(first, 1) + 1
    ids = torch.tensor(batch.ids, device=device)
    mask = torch.tensor(batch.mask, device=device)
    labels = torch.tensor(batch.labels, device=device)[:, width - keep + 1 :]
    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
    per_token = torch.nn.functional.cross_entropy(
        logits[:, :-1].float().transpose(1, 2), labels, ignore_index=IGNORE, reduction="none"
    )
    counted = (labels != IGNORE).float()
    per_example = (per_token * counted).sum(1) / counted.sum(1).clamp(min=1)
    weights = torch.tensor(batch.weights, device=device)
    return (per_example * weights).sum() / weights.sum()


def _first_label(labels: list[int]) -> int:
    """The position of the first token with a loss (the row's length if none has)."""
    for position, label in enumerate(labels):
        if label != IGNORE:
            return position
    return len(labels)


def mixed_precision(device: torch.device, enabled: bool) -> Any:
    """bfloat16 autocast where the hardware has it (fp16 on older GPUs), else full precision."""
    if enabled and device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if enabled and device.type == "cpu" and native_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)
