"""How a row of a dataset becomes text a causal language model trains on, and a request becomes a
prompt. Pure; serving formats its prompts with the same functions, so what a model saw in training
is what it is asked at inference.

Every example is a ``prompt`` and a ``target``: the loss is taken on the target's tokens only.
Completion rows train plain left-to-right (the file's context before the definition, then the
definition) or, for a share of rows that have fill-in-the-middle spans, in the PSM order of
StarCoder-style FIM tokens. The other tables become instruction pairs in one plain template.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

FIM_PREFIX = "<fim_prefix>"
FIM_SUFFIX = "<fim_suffix>"
FIM_MIDDLE = "<fim_middle>"
FIM_TOKENS = (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)


@dataclass(frozen=True, slots=True)
class TrainingText:
    """One training (or held-out) example: the loss is on ``target`` given ``prompt``."""

    prompt: str
    target: str
    table: str
    id: str
    committed_at: datetime
    language: str = ""
    weight: float = 1.0


def fim_prompt(prefix: str, suffix: str) -> str:
    """The prompt asking for the middle between ``prefix`` and ``suffix`` (PSM order)."""
    return f"{FIM_PREFIX}{prefix}{FIM_SUFFIX}{suffix}{FIM_MIDDLE}"


def instruction(task: str, given: str) -> str:
    """The prompt of an instruction pair; the answer follows it directly."""
    return f"### Task: {task}\n### Input:\n{given}\n### Answer:\n"


def completion_texts(row: dict[str, Any], use_fim: bool) -> TrainingText:
    """A ``completion`` row: its context then its body, or with ``use_fim`` (and a span) the
    body's first span as the middle to fill."""
    context = row.get("context") or ""
    prefix = f"{context}\n" if context and not context.endswith("\n") else context
    body: str = row["body"]
    spans = row.get("fim_spans") or []
    if use_fim and spans:
        start, end = spans[0]
        prompt = fim_prompt(prefix + body[:start], body[end:])
        return _text(row, "completion", prompt, body[start:end])
    return _text(row, "completion", prefix, body)


def correction_texts(row: dict[str, Any], weight: float) -> TrainingText:
    """A developer's correction of a completion: the request as the prompt (fill-in-the-middle
    when it had a suffix), what the developer kept as the target."""
    prompt = fim_prompt(row["prompt"], row["suffix"]) if row.get("suffix") else row["prompt"]
    return TrainingText(
        prompt=prompt,
        target=row["corrected"],
        table="feedback",
        id=row["id"],
        committed_at=row["received_at"],
        language=row.get("language") or "",
        weight=weight,
    )


def refactoring_texts(row: dict[str, Any]) -> TrainingText:
    why = row.get("message") or ""
    task = f"refactor ({row['kind']})" + (f": {why.strip().splitlines()[0]}" if why.strip() else "")
    return _text(row, "refactoring", instruction(task, row["before"]), row["after"])


def naming_texts(row: dict[str, Any]) -> TrainingText:
    task = f"name this ({row['convention']})"
    return _text(row, "naming", instruction(task, row["concept"]), row["name"])


def error_fix_texts(row: dict[str, Any]) -> TrainingText:
    return _text(row, "error_fix", instruction("fix the bug", row["buggy"]), row["fixed"])


def _text(row: dict[str, Any], table: str, prompt: str, target: str) -> TrainingText:
    return TrainingText(
        prompt=prompt,
        target=target,
        table=table,
        id=row["id"],
        committed_at=row["committed_at"],
        language=row.get("language") or "",
    )
