"""Judge a model version against another on the same held-out examples.

The held-out set is rebuilt from the candidate's pinned data versions with the run's rule (the most
recent commits), so ``codemill eval`` after the fact sees exactly what the run was judged on. The
baseline is the live model where there is one, else the base model the candidate was trained
from: "did training help" is the first question, "is it better than what serves now" the second.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel

from common.rows import ModelRecord
from common.settings import Settings
from training.bases import load_base
from training.compare import ComparisonResult, compare
from training.dataset import build_mix
from training.evaluation import QualityReport, evaluate
from training.prompts import TrainingText
from training.snapshot import read_snapshot


@dataclass(frozen=True)
class Verdict:
    candidate: QualityReport
    baseline: QualityReport
    baseline_name: str
    comparison: ComparisonResult
    seconds: float


def held_out(settings: Settings, data_versions: dict[str, int]) -> list[TrainingText]:
    """The held-out examples of a run that read the tables at ``data_versions``."""
    training = settings.training
    snapshot = read_snapshot(settings, list(data_versions), data_versions)
    mix = build_mix(
        snapshot.rows,
        holdout_fraction=training.holdout_fraction,
        max_examples=0,
        eval_examples=training.eval_examples,
        seed=training.seed,
    )
    return mix.held_out


def load_model(base_path: str, adapter: str | Path | None = None) -> tuple[Any, Any]:
    """A base with (when given) an adapter on it, ready to evaluate."""
    base, tokenizer = load_base(base_path)
    model: Any = PeftModel.from_pretrained(base, str(adapter)) if adapter else base
    model.eval()
    return model, tokenizer


def judge(
    settings: Settings,
    candidate: ModelRecord,
    baseline: ModelRecord | None,
    texts: list[TrainingText] | None = None,
) -> Verdict:
    """Evaluate ``candidate`` and ``baseline`` (None: the candidate's base) on the same examples."""
    started = time.perf_counter()
    training = settings.training
    texts = texts if texts is not None else held_out(settings, candidate.data_versions)
    with torch.inference_mode():
        model, tokenizer = load_model(candidate.base_path, candidate.adapter_path)
        generations = training.eval_generations
        ours = evaluate(model, tokenizer, texts, generate_examples=generations, seed=training.seed)
        del model
        if baseline is None:
            other, name = load_model(candidate.base_path), f"base {candidate.base_model}"
        else:
            other, name = load_model(baseline.base_path, baseline.adapter_path), baseline.version
        theirs = evaluate(
            other[0], other[1], texts, generate_examples=generations, seed=training.seed
        )
    comparison = compare(
        ours,
        theirs,
        seed=training.seed,
        min_delta=training.bless_min_delta,
        max_perplexity_ratio=training.bless_max_perplexity_ratio,
    )
    return Verdict(ours, theirs, name, comparison, time.perf_counter() - started)
