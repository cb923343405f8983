"""The optimisation steps without Ray: the loss on targets only, resuming mid-epoch, stopping,
learning. On a small real Llama (random weights: the arithmetic is what is checked)."""

import random
from typing import Any

import pytest
import torch

from common.settings import TrainingSettings
from tests.support.models import small_llama
from training.batches import IGNORE, Encoded, pad_batch
from training.steps import Optimisation, run_steps, schedule, weighted_loss

CPU = torch.device("cpu")


def small_model() -> Any:
    return small_llama(64, hidden_size=32, layers=2, positions=64)


def example(prompt: int, target: int, seed: int, weight: float = 1.0) -> Encoded:
    draw = random.Random(seed)
    ids = [draw.randrange(1, 64) for _ in range(prompt + target)]
    return Encoded(ids, [IGNORE] * prompt + ids[prompt:], weight)


def reference_loss(model: Any, group: list[Encoded]) -> torch.Tensor:
    """Every position's logits, each example's mean over its target tokens, weighted."""
    batch = pad_batch(group, 0)
    logits = model(
        input_ids=torch.tensor(batch.ids), attention_mask=torch.tensor(batch.mask)
    ).logits[:, :-1]
    labels = torch.tensor(batch.labels)[:, 1:]
    means = []
    for row in range(len(group)):
        keep = labels[row] != IGNORE
        means.append(torch.nn.functional.cross_entropy(logits[row][keep], labels[row][keep]))
    weights = torch.tensor(batch.weights)
    return (torch.stack(means) * weights).sum() / weights.sum()


def test_the_loss_from_target_logits_only_equals_the_loss_over_every_position() -> None:
    model = small_model()
    group = [example(12, 5, 1), example(3, 9, 2, weight=2.0), example(20, 1, 3, weight=0.5)]
    with torch.no_grad():
        ours = weighted_loss(model, pad_batch(group, 0), CPU)
        assert ours.item() == pytest.approx(reference_loss(model, group).item(), rel=1e-5)


def test_an_example_of_weight_zero_does_not_count() -> None:
    model = small_model()
    kept = [example(5, 5, 1), example(6, 4, 2)]
    with torch.no_grad():
        alone = weighted_loss(model, pad_batch(kept, 0), CPU).item()
        ignored = weighted_loss(model, pad_batch([*kept, example(2, 8, 3, 0.0)], 0), CPU).item()
    assert ignored == pytest.approx(alone, rel=1e-5)


def test_a_resumed_schedule_gives_the_batches_the_run_had_left() -> None:
    examples = [example(4, 2 + i % 7, i) for i in range(30)]
    settings = TrainingSettings(batch_size=4, seed=5)
    whole = [b.ids for b in schedule(examples, settings, 0, done=0, total=20)]
    assert len(whole) == 20  # more than one epoch (8 batches each)
    assert [b.ids for b in schedule(examples, settings, 0, done=13, total=20)] == whole[13:]


def test_steps_learn_report_every_step_and_stop_when_asked() -> None:
    model = small_model()
    examples = [example(3, 6, i % 4) for i in range(16)]  # four examples, repeated
    settings = TrainingSettings(batch_size=4, learning_rate=0.01, warmup_steps=0, save_steps=5)
    total = 40
    optimisation = Optimisation.of(model, settings, total)
    seen: list[dict[str, Any]] = []

    def on_step(figures: dict[str, Any], checkpoint: bool) -> bool:
        seen.append(figures)
        return bool(figures["step"] == 30)  # a stop request arrives at step 30

    last = run_steps(model, examples, settings, optimisation, CPU, 0, 0, total, on_step)
    assert last == 30 and [f["step"] for f in seen] == list(range(1, 31))
    assert all(f["total_steps"] == total and f["tokens"] > 0 for f in seen)
    first_report, last_report = seen[4]["loss"], seen[-1]["loss"]
    assert last_report < first_report / 2  # it memorised the four examples
