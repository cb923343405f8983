"""Token ids and loss masks of training examples, and batches of similar length. Pure.

The loss is on the target only: prompt positions carry the label ``IGNORE``. A prompt too long
for the sequence keeps its end (the code just before the target matters most); a target too
long is cut. Batches group examples of similar length (sorted within shuffled chunks, as
length-grouped samplers do) so padding costs little on a CPU.
"""

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from training.prompts import TrainingText

IGNORE = -100
Tokenize = Callable[[str], list[int]]


@dataclass(frozen=True, slots=True)
class Encoded:
    ids: list[int]
    labels: list[int]
    weight: float


@dataclass(frozen=True, slots=True)
class Batch:
    """Padded rows: ``ids``/``labels``/``mask`` are lists of equal-length lists."""

    ids: list[list[int]]
    labels: list[list[int]]
    mask: list[list[int]]
    weights: list[float]

    @property
    def tokens(self) -> int:
        """Tokens the model reads (not padding)."""
        return sum(map(sum, self.mask))


def encode(text: TrainingText, tokenize: Tokenize, eos: int, max_len: int) -> Encoded | None:
    """One example as ids and labels, None if its target is empty."""
    target = [*tokenize(text.target), eos]
    if len(target) <= 1:
        return None
    prompt = tokenize(text.prompt)
    target = target[: max_len - min(len(prompt), max_len // 2)]
    keep = max_len - len(target)
    prompt = prompt[len(prompt) - keep :] if len(prompt) > keep else prompt
    return Encoded(prompt + target, [IGNORE] * len(prompt) + target, text.weight)


def encode_all(texts: Sequence[TrainingText], tokenizer: Any, max_len: int) -> list[Encoded]:
    """:func:`encode` with a ``transformers`` tokenizer (no special tokens added: the templates
    have their own), dropping examples with nothing to learn."""

    def tokenize(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    found = (encode(t, tokenize, tokenizer.eos_token_id, max_len) for t in texts)
    return [e for e in found if e is not None]


def batches(
    examples: Sequence[Encoded], batch_size: int, pad: int, seed: int, chunk: int = 64
) -> Iterator[Batch]:
    """Every example once, in batches of similar length, in an order ``seed`` fixes."""
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    groups: list[list[int]] = []
    for start in range(0, len(order), batch_size * chunk):
        window = order[start : start + batch_size * chunk]
        window.sort(key=lambda i: len(examples[i].ids))
        groups += [window[i : i + batch_size] for i in range(0, len(window), batch_size)]
    random.Random(seed + 1).shuffle(groups)
    for group in groups:
        yield pad_batch([examples[i] for i in group], pad)


def pad_batch(group: Sequence[Encoded], pad: int) -> Batch:
    width = max(len(e.ids) for e in group)
    return Batch(
        ids=[e.ids + [pad] * (width - len(e.ids)) for e in group],
        labels=[e.labels + [IGNORE] * (width - len(e.labels)) for e in group],
        mask=[[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in group],
        weights=[e.weight for e in group],
    )
