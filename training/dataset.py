"""The training mix, built from dataset rows. Pure: rows in, examples out.

Rows become :class:`~training.prompts.TrainingText` examples (completion with fill-in-the-middle
for a share of rows, the other tables as instruction pairs). The split is by time: the most
recent commits are held out, so the evaluation asks the model about code written after all it
trained on, as it will be used. An augmented variant or a derived row shares its source's commit,
so it lands on the same side of the split. An incremental run trains on the rows that are new
since the live model's data plus a replay sample of older ones, against forgetting.
"""

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from training.prompts import (
    TrainingText,
    completion_texts,
    correction_texts,
    error_fix_texts,
    naming_texts,
    refactoring_texts,
)

Rows = Sequence[dict[str, Any]]

# Columns each table's examples are made from (the rest of a row is not read).
_PROVENANCE = ("id", "commit", "committed_at", "language")
COLUMNS: dict[str, tuple[str, ...]] = {
    "completion": (*_PROVENANCE, "context", "body", "fim_spans"),
    "refactoring": (*_PROVENANCE, "kind", "message", "before", "after"),
    "naming": (*_PROVENANCE, "convention", "concept", "name"),
    "error_fix": (*_PROVENANCE, "buggy", "fixed"),
    "feedback": ("id", "kind", "prompt", "suffix", "corrected", "received_at", "language"),
}
FEEDBACK = "feedback"  # not split by commit: every correction trains, weighted up
FIM_SHARE = 0.5  # of completion rows with spans, trained in fill-in-the-middle order


@dataclass
class Mix:
    """The examples of one run: what it trains on, what it is judged on, and the counts."""

    train: list[TrainingText] = field(default_factory=list)
    held_out: list[TrainingText] = field(default_factory=list)
    per_table: dict[str, int] = field(default_factory=dict)  # training examples by table
    replayed: int = 0

    def describe(self) -> str:
        tables = ", ".join(f"{t} {n}" for t, n in sorted(self.per_table.items())) or "no table"
        return f"{len(self.train)} training examples ({tables}), {len(self.held_out)} held out"


def to_texts(
    table: str, rows: Iterable[dict[str, Any]], seed: int = 0, feedback_weight: float = 1.0
) -> list[TrainingText]:
    """The examples of one table's rows (FIM chosen per row by a hash of its id and ``seed``);
    a feedback row makes one only when it is a correction."""
    if table == FEEDBACK:
        return [correction_texts(r, feedback_weight) for r in rows if r["kind"] == "correction"]
    if table == "completion":
        return [completion_texts(r, _draw(r["id"], seed) < FIM_SHARE) for r in rows]
    make: Callable[[dict[str, Any]], TrainingText] = {
        "refactoring": refactoring_texts,
        "naming": naming_texts,
        "error_fix": error_fix_texts,
    }[table]
    return [make(r) for r in rows]


def held_out_commits(commit_times: Mapping[str, Any], fraction: float) -> set[str]:
    """The most recent ``fraction`` of commits (at least one, never all when there are two)."""
    ordered = sorted(commit_times, key=lambda sha: (commit_times[sha], sha))
    count = min(max(1, round(len(ordered) * fraction)), max(len(ordered) - 1, 1))
    return set(ordered[-count:]) if len(ordered) > 1 else set()


def build_mix(
    tables: Mapping[str, Rows],
    *,
    holdout_fraction: float,
    max_examples: int,
    eval_examples: int,
    seed: int = 0,
    new_ids: set[str] | None = None,
    replay_ratio: float = 0.0,
    feedback_weight: float = 1.0,
) -> Mix:
    """Split every table's rows by commit time and cap the result.

    ``new_ids`` (incremental runs) restricts training to those rows plus ``replay_ratio`` older
    rows per new one, drawn at random; the held-out commits are the same rule either way.
    Developers' corrections (table ``feedback``) are never held out: each trains once, with
    ``feedback_weight`` on its loss (only the new ones in an incremental run).
    """
    times: dict[str, Any] = {}
    for table, rows in tables.items():
        if table == FEEDBACK:
            continue
        for row in rows:
            when = row["committed_at"]
            times[row["commit"]] = max(times.get(row["commit"], when), when)
    recent = held_out_commits(times, holdout_fraction)
    rng = random.Random(seed)
    mix = Mix()
    train: list[TrainingText] = []
    for table, rows in tables.items():
        if table == FEEDBACK:
            fresh = [r for r in rows if new_ids is None or r["id"] in new_ids]
            train += to_texts(table, fresh, seed, feedback_weight)
            continue
        kept = [r for r in rows if r["commit"] not in recent]
        mix.held_out += to_texts(table, [r for r in rows if r["commit"] in recent], seed)
        if new_ids is not None:
            new = [r for r in kept if r["id"] in new_ids]
            old = [r for r in kept if r["id"] not in new_ids]
            replay = rng.sample(old, min(len(old), int(len(new) * replay_ratio)))
            mix.replayed += len(replay)
            kept = new + replay
        train += to_texts(table, kept, seed)
    rng.shuffle(train)
    mix.train = train[:max_examples]
    for text in mix.train:
        mix.per_table[text.table] = mix.per_table.get(text.table, 0) + 1
    # The same rows in the same order for every model judged on this data: paired comparisons.
    mix.held_out.sort(key=lambda t: t.id)
    random.Random(seed).shuffle(mix.held_out)
    mix.held_out = mix.held_out[:eval_examples]
    return mix


def _draw(key: str, seed: int) -> float:
    return random.Random(f"{seed}:{key}").random()
