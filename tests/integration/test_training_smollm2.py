"""One short LoRA run on the real default base, SmolLM2-135M from its wheel, through Ray Train:
the adapter loads with plain peft and lowers the perplexity of held-out code of this repository."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch
from peft import PeftModel

from common.settings import Settings
from streams.examples import Origin, SourceFile, StageParams, commit_outcomes
from tests.integration.test_cli import ROOT
from training.bases import load_base, prepare_base
from training.dataset import to_texts
from training.evaluation import evaluate
from training.finetune import fine_tune
from training.prompts import TrainingText

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1200)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def code_examples() -> tuple[list[TrainingText], list[TrainingText]]:
    """Completion examples of this repository's `streams` package: most to train, some held out."""
    files = [
        SourceFile(str(p.relative_to(ROOT)), p.read_bytes())
        for p in sorted((ROOT / "streams").rglob("*.py"))
    ]
    origin = Origin("codemill/self", "0" * 40, "a" * 16, T0, T0, "snapshot")
    rows = [
        c.model_dump() for o in commit_outcomes(files, origin, StageParams()) for c in o.completions
    ]
    texts = [t for t in to_texts("completion", rows) if 40 < len(t.target) < 600]
    texts.sort(key=lambda t: t.id)
    return texts[:-24], texts[-24:]


def test_a_short_lora_run_on_smollm2_lowers_held_out_perplexity(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        training={
            "max_steps": 12,
            "batch_size": 4,
            "max_seq_len": 192,
            "learning_rate": 1e-3,
            "warmup_steps": 2,
            "save_steps": 100,
        },
    )
    base_path = str(prepare_base(settings, "smollm2"))
    train, held_out = code_examples()
    tuned = fine_tune(settings, train[:48], base_path, "smollm2-short", tmp_path / "adapter")
    assert (tuned.adapter / "adapter_model.safetensors").stat().st_size < 50e6

    with torch.inference_mode():
        model, tokenizer = load_base(base_path)
        before = evaluate(model, tokenizer, held_out, generate_examples=1, max_length=256)
        adapted = PeftModel.from_pretrained(model, str(tuned.adapter))
        after = evaluate(adapted, tokenizer, held_out, generate_examples=1, max_length=256)
    assert after.perplexity < before.perplexity
