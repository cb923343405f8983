"""Fine-tuning benchmark: a LoRA run on real code examples through Ray Train, and the same run
as a plain ``transformers`` ``Trainer`` in this process (no Ray), for each base.

The examples are ``completion``, ``naming`` and ``error_fix`` rows that the dataset chain makes
from real source on this machine (the Python standard library and this repository), as the push
processor makes them. Both runs see the same examples, sequence length, batch size and number of
steps; the figures are tokens/s (tokens the model reads, padding excluded), wall time, the
projected time for 10,000 examples, peak memory and the adapter's size; the ratio says what Ray
Train's workers, checkpoints and progress reporting cost. ``--quick`` for a CI smoke run; the last
line is JSON.
"""

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder heads sys.path, and its datasets.py would shadow the `datasets`
# package transformers' Trainer looks for.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from transformers import Trainer, TrainingArguments  # noqa: E402

from common.settings import Settings  # noqa: E402
from streams.examples import Origin, SourceFile, StageParams, commit_outcomes  # noqa: E402
from training.bases import fim_token_ids, is_saved, load_base, prepare_base  # noqa: E402
from training.batches import Encoded, encode_all, pad_batch  # noqa: E402
from training.dataset import to_texts  # noqa: E402
from training.finetune import fine_tune  # noqa: E402
from training.lora import with_adapter  # noqa: E402
from training.prompts import TrainingText  # noqa: E402
from training.tiny import train_tiny  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def examples(count: int) -> list[TrainingText]:
    """Training examples the dataset chain makes from real source files."""
    stdlib = Path(os.__file__).parent
    paths = sorted(stdlib.glob("*.py"))[:400] + sorted((ROOT / "streams").rglob("*.py"))
    files = [SourceFile(str(p.relative_to(p.anchor)), p.read_bytes()) for p in paths]
    origin = Origin("bench/train", "0" * 40, "a" * 16, NOW, NOW, "benchmark")
    rows: dict[str, list[dict[str, Any]]] = {"completion": [], "naming": [], "error_fix": []}
    for outcome in commit_outcomes(files, origin, StageParams()):
        for bundle in outcome.completions:
            rows["completion"].append(bundle.model_dump())
        for record in outcome.records:
            for derived in getattr(record, "derived", []):
                if derived.dataset in rows and derived.dataset != "completion":
                    rows[derived.dataset].append(derived.model_dump())
    texts = [t for table, found in rows.items() for t in to_texts(table, found)]
    texts.sort(key=lambda t: t.id)
    return (texts * math.ceil(count / max(1, len(texts))))[:count]


class _Collate:
    def __init__(self, pad: int) -> None:
        self.pad = pad

    def __call__(self, group: list[Encoded]) -> dict[str, torch.Tensor]:
        batch = pad_batch(group, self.pad)
        return {
            "input_ids": torch.tensor(batch.ids),
            "attention_mask": torch.tensor(batch.mask),
            "labels": torch.tensor(batch.labels),
        }


def plain_trainer(settings: Settings, base_path: str, texts: list[TrainingText]) -> dict[str, Any]:
    """The same LoRA run as a plain transformers Trainer, in this process."""
    training = settings.training
    torch.set_num_threads(os.cpu_count() or 1)
    base, tokenizer = load_base(base_path)
    model = with_adapter(base, training, fim_token_ids(tokenizer))
    encoded = encode_all(texts, tokenizer, training.max_seq_len)
    tokens = 0
    steps = training.max_steps
    for i in range(0, min(len(encoded), steps * training.batch_size)):
        tokens += len(encoded[i].ids)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=training.batch_size,
            learning_rate=training.learning_rate,
            warmup_steps=training.warmup_steps,
            max_steps=steps,
            max_grad_norm=training.max_grad_norm,
            lr_scheduler_type="cosine",
            logging_steps=10_000,
            save_strategy="no",
            report_to=[],
            use_cpu=not torch.cuda.is_available(),
            dataloader_num_workers=0,
            remove_unused_columns=False,
            seed=training.seed,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=encoded,
            data_collator=_Collate(tokenizer.pad_token_id or 0),
        )
        started = time.perf_counter()
        result = trainer.train()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "tokens": tokens, "loss": result.training_loss}


def one_base(
    settings: Settings, base: str, texts: list[TrainingText], tiny_minutes: float
) -> dict[str, Any]:
    tiny = settings.models_dir / "base" / "tiny"
    if base == "tiny" and not is_saved(tiny):
        train_tiny(tiny, minutes=tiny_minutes)
    base_path = str(prepare_base(settings, base))
    steps = settings.training.max_steps
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        tuned = fine_tune(
            settings, texts, base_path, f"bench-{base}-{time.time_ns()}", Path(out) / "adapter"
        )
        ray_s = time.perf_counter() - started
        adapter_mb = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file()) / 1e6
    plain = plain_trainer(settings, base_path, texts)
    ray_tokens_per_s = float(tuned.metrics.get("tokens_per_s", 0.0))
    plain_tokens_per_s = plain["tokens"] / plain["seconds"]
    per_example_s = plain["seconds"] / (steps * settings.training.batch_size)
    return {
        "steps": steps,
        "examples_seen": steps * settings.training.batch_size,
        "ray_train_wall_s_incl_start": round(ray_s, 1),
        "ray_train_tokens_per_s": round(ray_tokens_per_s, 1),
        "plain_trainer_wall_s": round(plain["seconds"], 1),
        "plain_trainer_tokens_per_s": round(plain_tokens_per_s, 1),
        "ray_vs_plain_tokens_per_s": round(ray_tokens_per_s / plain_tokens_per_s, 3),
        "projected_10k_examples_min": round(10_000 * per_example_s / 60, 1),
        "final_loss_ray": round(float(tuned.metrics.get("loss", 0.0)), 4),
        "final_loss_plain": round(plain["loss"], 4),
        "adapter_mb": round(adapter_mb, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few steps of the tiny base, for CI")
    parser.add_argument("--bases", default="tiny,smollm2", help="comma-separated bases")
    parser.add_argument("--steps", type=int, default=0, help="optimizer steps per run")
    parser.add_argument("--home", type=Path, default=ROOT / ".codemill")
    parser.add_argument("--tiny-minutes", type=float, default=2.0, help="tiny base's budget")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    bases = ["tiny"] if args.quick else [b.strip() for b in args.bases.split(",") if b.strip()]
    steps = args.steps or (4 if args.quick else 40)
    settings = Settings(
        home=args.home,
        training={"max_steps": steps, "batch_size": 8, "max_seq_len": 256, "save_steps": 10_000},
    )
    texts = examples(steps * 8)
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "cuda": torch.cuda.is_available()}
    for base in bases:
        figures[base] = one_base(settings, base, texts, args.tiny_minutes)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.format == "text":
        for key, value in figures.items():
            print(f"{key:>12}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
