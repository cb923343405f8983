"""Encoding examples (loss on the target only, truncation) and length-grouped batches."""

from datetime import UTC, datetime

from training.batches import IGNORE, Encoded, batches, encode
from training.prompts import TrainingText

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def chars(text: str) -> list[int]:
    return [ord(c) for c in text]


def text(prompt: str, target: str) -> TrainingText:
    return TrainingText(prompt, target, "completion", "id", NOW)


def test_loss_is_on_the_target_and_its_end() -> None:
    encoded = encode(text("ab", "cd"), chars, eos=0, max_len=16)
    assert encoded is not None
    assert encoded.ids == [97, 98, 99, 100, 0]
    assert encoded.labels == [IGNORE, IGNORE, 99, 100, 0]
    assert encode(text("ab", ""), chars, eos=0, max_len=16) is None


def test_a_long_prompt_keeps_its_end_and_a_long_target_is_cut() -> None:
    encoded = encode(text("x" * 50 + "yz", "abc"), chars, eos=0, max_len=10)
    assert encoded is not None and len(encoded.ids) == 10
    assert encoded.ids[:6] == chars("xxxxyz")  # the target and its end take 4
    long_target = encode(text("p" * 20, "t" * 50), chars, eos=0, max_len=10)
    assert long_target is not None and len(long_target.ids) == 10
    assert long_target.ids[:5] == chars("ppppp") and long_target.labels[5:] == chars("ttttt")


def test_batches_cover_every_example_once_grouped_by_length() -> None:
    examples = [Encoded([1] * n, [1] * n, 1.0) for n in range(1, 101)]
    made = list(batches(examples, batch_size=10, pad=0, seed=3, chunk=10))
    assert sum(len(b.ids) for b in made) == 100
    assert sum(b.tokens for b in made) == sum(range(1, 101))
    for batch in made:
        lengths = [sum(m) for m in batch.mask]
        assert max(lengths) - min(lengths) < 10  # sorted within the chunk
        assert all(len(row) == len(batch.ids[0]) for row in batch.ids)
    again = list(batches(examples, batch_size=10, pad=0, seed=3, chunk=10))
    assert [b.ids for b in again] == [b.ids for b in made]
