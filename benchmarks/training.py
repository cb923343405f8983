"""Fine-tuning benchmark: a LoRA run on real code examples through Ray Train, and the same run
as a plain ``transformers`` ``Trainer`` in this process (no Ray), for each base.

The examples are ``completion``, ``naming`` and ``error_fix`` rows that the dataset chain makes
from real source on this machine (the Python standard library and this repository), as the push
processor makes them. Every engine sees the same examples, sequence length, batch size and number
of steps; the figures are tokens/s (tokens the model reads, padding excluded), wall time, the
projected time for 10,000 examples, peak memory and the adapter's size; the ratio says what Ray
Train's workers, checkpoints and progress reporting cost. On a GPU it adds model FLOPs
utilisation. ``--quick`` for a CI smoke run; the last line is JSON.

Engines: ``ray`` (``codemill train``'s path), ``plain`` (a ``Trainer``), ``steps`` (the Ray
workers' own step loop, ``training.steps``, called in this process: where Ray is not installed).
``--save-texts``/``--texts`` carry the examples to a machine without the dataset chain, and
``--random-init`` times a base's architecture from its config alone (speed does not depend on the
weights; quality figures then mean nothing).
"""

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder heads sys.path, and its datasets.py would shadow the `datasets`
# package transformers' Trainer looks for.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from transformers import AutoConfig, AutoModelForCausalLM, Trainer, TrainingArguments  # noqa: E402

from common.settings import Settings, TrainingSettings  # noqa: E402
from training.bases import fim_token_ids, is_saved, load_base, prepare_base  # noqa: E402
from training.batches import Encoded, encode_all, pad_batch  # noqa: E402
from training.lora import with_adapter  # noqa: E402
from training.prompts import TrainingText  # noqa: E402
from training.steps import Optimisation, run_steps  # noqa: E402
from training.tiny import native_bf16, train_tiny  # noqa: E402

# Dense bfloat16 peak of the GPUs this is run on (no sparsity), for model FLOPs utilisation.
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def examples(count: int) -> list[TrainingText]:
    """Training examples the dataset chain makes from real source files."""
    from streams.examples import Origin, SourceFile, StageParams, commit_outcomes
    from training.dataset import to_texts

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


def save_texts(texts: list[TrainingText], path: Path) -> None:
    with path.open("w") as out:
        for text in texts:
            out.write(json.dumps({**asdict(text), "committed_at": text.committed_at.isoformat()}))
            out.write("\n")


def read_texts(path: Path, count: int) -> list[TrainingText]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    texts = [
        TrainingText(**{**row, "committed_at": datetime.fromisoformat(row["committed_at"])})
        for row in rows
    ]
    return (texts * math.ceil(count / max(1, len(texts))))[:count]


def model_and_tokenizer(base_path: str, random_init: bool) -> tuple[Any, Any]:
    """The base as ``codemill train`` loads it, or (``random_init``) its architecture, fresh."""
    if not random_init:
        return load_base(base_path)
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base_path))  # type: ignore[no-untyped-call]
    return model, AutoTokenizer.from_pretrained(base_path)


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def trained_tokens(encoded: list[Encoded], training: TrainingSettings) -> int:
    """Tokens the first ``max_steps`` batches read (the plain Trainer takes them in order)."""
    seen = min(len(encoded), training.max_steps * training.batch_size)
    return sum(len(e.ids) for e in encoded[:seen])


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


def plain_trainer(
    training: TrainingSettings, base_path: str, texts: list[TrainingText], random_init: bool
) -> dict[str, Any]:
    """The same LoRA run as a plain transformers Trainer, in this process."""
    torch.set_num_threads(os.cpu_count() or 1)
    base, tokenizer = model_and_tokenizer(base_path, random_init)
    model = with_adapter(base, training, fim_token_ids(tokenizer))
    encoded = encode_all(texts, tokenizer, training.max_seq_len)
    on_gpu = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=training.batch_size,
            learning_rate=training.learning_rate,
            warmup_steps=training.warmup_steps,
            max_steps=training.max_steps,
            max_grad_norm=training.max_grad_norm,
            lr_scheduler_type="cosine",
            logging_steps=10_000,
            save_strategy="no",
            report_to=[],
            use_cpu=not on_gpu,
            bf16=training.fp16 and (on_gpu or native_bf16()),
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
    tokens = trained_tokens(encoded, training)
    return {
        "seconds": seconds,
        "tokens": tokens,
        "tokens_per_s": tokens / seconds,
        "loss": result.training_loss,
    }


def own_steps(
    training: TrainingSettings, base_path: str, texts: list[TrainingText], random_init: bool
) -> dict[str, Any]:
    """The Ray workers' step loop (``training.steps``), in this process, without Ray."""
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(training.seed)
    base, tokenizer = model_and_tokenizer(base_path, random_init)
    on = device()
    model = with_adapter(base, training, fim_token_ids(tokenizer)).to(on)
    encoded = encode_all(texts, tokenizer, training.max_seq_len)
    total = training.max_steps
    optimisation = Optimisation.of(model, training, total)
    last: dict[str, Any] = {}

    def on_step(figures: dict[str, Any], checkpoint: bool) -> bool:
        last.update(figures)
        return False

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    started = time.perf_counter()
    run_steps(model, encoded, training, optimisation, on, pad, 0, total, on_step)
    if on.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    figures = {
        "seconds": seconds,
        "tokens": last["tokens"],
        "tokens_per_s": last["tokens"] / seconds,
        "loss": last["loss"],
    }
    if on.type == "cuda":
        figures.update(gpu_figures(base, training, figures["tokens_per_s"]))
    return figures


def gpu_figures(model: Any, training: TrainingSettings, tokens_per_s: float) -> dict[str, Any]:
    """Model FLOPs utilisation, PaLM's convention: 6 FLOPs per parameter per token plus the
    attention's 12 · layers · width · sequence (a LoRA run does less work than that: frozen
    weights get no gradient, so this overstates the arithmetic actually needed by about a third).
    """
    config = model.config
    params = sum(p.numel() for p in model.parameters())
    attention = 12 * config.num_hidden_layers * config.hidden_size * training.max_seq_len
    achieved = tokens_per_s * (6 * params + attention) / 1e12
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), 0.0)
    return {
        "gpu": name,
        "model_tflops": round(achieved, 1),
        "mfu": round(achieved / peak, 4) if peak else None,
        "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2),
    }


def ray_train(
    settings: Settings, base: str, base_path: str, texts: list[TrainingText]
) -> dict[str, Any]:
    from training.finetune import fine_tune

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        tuned = fine_tune(
            settings, texts, base_path, f"bench-{base}-{time.time_ns()}", Path(out) / "adapter"
        )
        seconds = time.perf_counter() - started
        adapter_mb = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file()) / 1e6
    return {
        "seconds": seconds,  # Ray's start, the workers' model loading and checkpoints included
        "tokens": int(tuned.metrics.get("tokens", 0)),
        "tokens_per_s": float(tuned.metrics.get("tokens_per_s", 0.0)),
        "loss": float(tuned.metrics.get("loss", 0.0)),
        "adapter_mb": adapter_mb,
    }


def projected_10k(run: dict[str, Any], examples_seen: int) -> float:
    """Minutes for 10,000 examples: the run's fixed cost (start, loading) once, plus its
    steady training time (tokens over tokens/s) scaled from the examples it saw."""
    seconds = float(run["seconds"])
    steady = run["tokens"] / run["tokens_per_s"] if run["tokens_per_s"] else seconds
    fixed = max(0.0, seconds - steady)
    return (fixed + steady * 10_000 / examples_seen) / 60


def one_base(
    settings: Settings,
    base: str,
    texts: list[TrainingText],
    engines: list[str],
    tiny_minutes: float,
    base_path: str,
    random_init: bool,
) -> dict[str, Any]:
    if not base_path:
        tiny = settings.models_dir / "base" / "tiny"
        if base == "tiny" and not is_saved(tiny):
            train_tiny(tiny, minutes=tiny_minutes)
        base_path = str(prepare_base(settings, base))
    training = settings.training
    runs: dict[str, dict[str, Any]] = {}
    for engine in engines:
        if engine == "ray":
            runs[engine] = ray_train(settings, base, base_path, texts)
        elif engine == "plain":
            runs[engine] = plain_trainer(training, base_path, texts, random_init)
        else:
            runs[engine] = own_steps(training, base_path, texts, random_init)
    examples_seen = training.max_steps * training.batch_size
    figures: dict[str, Any] = {
        "steps": training.max_steps,
        "examples_seen": examples_seen,
        "random_init": random_init,
    }
    names = {"ray": "ray_train", "plain": "plain_trainer", "steps": "own_steps"}
    for engine, run in runs.items():
        name = names[engine]
        figures[f"{name}_wall_s"] = round(run["seconds"], 1)
        figures[f"{name}_tokens_per_s"] = round(run["tokens_per_s"], 1)
        figures[f"{name}_final_loss"] = round(run["loss"], 4)
        figures[f"{name}_projected_10k_examples_min"] = round(projected_10k(run, examples_seen), 2)
        figures.update(
            {k: v for k, v in run.items() if k not in ("seconds", "tokens", "tokens_per_s", "loss")}
        )
    if "plain" in runs:
        for engine in ("ray", "steps"):
            if engine in runs:
                ratio = runs[engine]["tokens_per_s"] / runs["plain"]["tokens_per_s"]
                figures[f"{names[engine]}_vs_plain_tokens_per_s"] = round(ratio, 3)
    if "adapter_mb" in figures:
        figures["adapter_mb"] = round(figures["adapter_mb"], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few steps of the tiny base, for CI")
    parser.add_argument("--bases", default="tiny,smollm2", help="comma-separated bases")
    parser.add_argument("--engines", default="ray,plain", help="ray, plain and/or steps")
    parser.add_argument("--steps", type=int, default=0, help="optimizer steps per run")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument(
        "--fp32", action="store_true", help="no mixed precision (training.fp16 off)"
    )
    parser.add_argument("--home", type=Path, default=ROOT / ".codemill")
    parser.add_argument("--tiny-minutes", type=float, default=2.0, help="tiny base's budget")
    parser.add_argument("--texts", type=Path, help="read the examples from this JSON-lines file")
    parser.add_argument("--save-texts", type=Path, help="write the examples here and stop")
    parser.add_argument("--base-path", default="", help="a saved base folder (one base only)")
    parser.add_argument("--random-init", action="store_true", help="--base-path's config only")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    bases = ["tiny"] if args.quick else [b.strip() for b in args.bases.split(",") if b.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    steps = args.steps or (4 if args.quick else 40)
    training = {
        "max_steps": steps,
        "batch_size": args.batch_size,
        "max_seq_len": args.seq_len,
        "save_steps": 10_000,
        "fp16": not args.fp32,
    }
    settings = Settings(home=args.home, training=training)
    count = steps * args.batch_size
    texts = read_texts(args.texts, count) if args.texts else examples(count)
    if args.save_texts:
        save_texts(texts, args.save_texts)
        return
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "cuda": torch.cuda.is_available()}
    for base in bases:
        figures[base] = one_base(
            settings, base, texts, engines, args.tiny_minutes, args.base_path, args.random_init
        )
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.format == "text":
        for key, value in figures.items():
            print(f"{key:>12}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
