"""Versions to roll out in integration tests: LoRA adapters fine-tuned here on a few texts (real
optimisation steps on the base), registered and blessed; a broken one has diverged weights."""

import math
from datetime import UTC, datetime
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model

from common.rows import ModelRecord
from training.bases import load_base
from training.registry import Registry

TEXTS = [
    "def add(a, b):\n    return a + b\n",
    "def scale(values, factor):\n    return [v * factor for v in values]\n",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
]


def fine_tune(base: Path, out_dir: Path, steps: int = 8, diverged: bool = False) -> Path:
    """A LoRA adapter for ``base`` after ``steps`` AdamW steps on :data:`TEXTS`; ``diverged``
    sets its weights to NaN, as an fp16 run that overflowed leaves them."""
    model, tokenizer = load_base(base)
    adapted = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear"))
    optimizer = torch.optim.AdamW([p for p in adapted.parameters() if p.requires_grad], lr=5e-3)
    batch = tokenizer(TEXTS, return_tensors="pt", padding=True, add_special_tokens=False)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    for _ in range(steps):
        loss = adapted(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    if diverged:
        with torch.no_grad():
            for name, weight in adapted.named_parameters():
                if "lora_" in name:
                    weight.fill_(math.nan)
    adapted.save_pretrained(str(out_dir))
    return out_dir


def blessed(registry: Registry, version: str, base: Path, adapter: Path) -> ModelRecord:
    """``version`` registered (as training does) and blessed (as evaluation does)."""
    now = datetime.now(UTC)
    registry.register(
        ModelRecord(
            version=version,
            status="candidate",
            base_model="tiny",
            base_path=str(base),
            adapter_path=str(adapter),
            created_at=now,
            recorded_at=now,
        )
    )
    return registry.set_status(version, "blessed", "beat the live version")
