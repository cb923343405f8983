"""Engine benchmark: a batch of greedy completions through ``TransformersEngine`` decoding with
``transformers``' ``generate`` against the static-cache decoder (:mod:`serving.decode`: CUDA
graph replays on a GPU, eager steps on CPUs), the same model and prompts, in the same run.

For each batch size, every call completes that many distinct code prompts (``--max-tokens``
each); the figures are the call's p50/p95 milliseconds, completions/s, the ratio
decoder/generate of each, how many completions came out the same text from both, and peak
memory. No HTTP, no Serve: :mod:`benchmarks.serving` measures the API around the engine.
``--quick`` for a CI smoke run; the last line is JSON.
"""

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402

from benchmarks.serving import base_folder, prompt  # noqa: E402
from serving.decode import StaticDecoder  # noqa: E402
from serving.engine import TransformersEngine  # noqa: E402
from serving.requests import Request, Sampling  # noqa: E402


def engines(base_path: str) -> dict[str, TransformersEngine]:
    """The base loaded once, as serving loads it, behind both ways of decoding."""
    loaded = TransformersEngine.load(base_path, "base")
    model, tokenizer = loaded.model, loaded.tokenizer
    decoder = loaded.decoder or StaticDecoder(model, tokenizer.eos_token_id, graphs=False)
    return {
        "generate": TransformersEngine(model, tokenizer, "base"),
        "decoder": TransformersEngine(model, tokenizer, "base", decoder=decoder),
    }


def measure(
    engine: TransformersEngine, batch: int, calls: int, max_tokens: int, numbers: Any
) -> tuple[dict[str, Any], list[str]]:
    sampling = Sampling(max_tokens=max_tokens)
    engine.complete([Request(prompt(next(numbers)), sampling=sampling) for _ in range(batch)])
    seconds, texts = [], []
    for _ in range(calls):
        requests = [Request(prompt(next(numbers)), sampling=sampling) for _ in range(batch)]
        started = time.perf_counter()
        done = engine.complete(requests)
        seconds.append(time.perf_counter() - started)
        texts += [c.choices[0].text for c in done]
    ms = np.array(seconds) * 1000
    figures = {
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "completions_per_s": round(batch * calls / sum(seconds), 1),
    }
    return figures, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="tiny", help="tiny, smollm2 or a saved folder")
    parser.add_argument("--batches", default="1,8,32,128", help="requests per engine call")
    parser.add_argument("--calls", type=int, default=10, help="timed calls per batch size")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="batches 1 and 8, 3 calls")
    parser.add_argument("--home", type=Path, default=ROOT / ".codemill")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.calls = "1,8", 3
    base_path = base_folder(args.home, args.base, args.quick)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    both = engines(base_path)
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "gpu": gpu, "base_path": base_path}
    figures["graphs"] = both["decoder"].decoder is not None and both["decoder"].decoder.graphs
    print(f"machine: {figures['cpus']} CPUs, GPU {gpu or 'none'}; base {base_path}")
    print(f"{'batch':>5} {'engine':>9} {'p50 ms':>8} {'p95 ms':>8} {'compl/s':>9} {'x':>6} same")
    for batch in (int(b) for b in args.batches.split(",")):
        row: dict[str, Any] = {}
        texts: dict[str, list[str]] = {}
        for name, engine in both.items():
            numbers = itertools.count(batch * 1_000_000)  # both engines get the same prompts
            row[name], texts[name] = measure(engine, batch, args.calls, args.max_tokens, numbers)
        ratio = row["decoder"]["completions_per_s"] / row["generate"]["completions_per_s"]
        same = sum(a == b for a, b in zip(texts["generate"], texts["decoder"], strict=True))
        row |= {"throughput_ratio": round(ratio, 2), "same_text": f"{same}/{len(texts['decoder'])}"}
        figures[str(batch)] = row
        for name in both:
            one = row[name]
            cells = f"{one['p50_ms']:>8} {one['p95_ms']:>8} {one['completions_per_s']:>9}"
            extra = f" {row['throughput_ratio']:>6} {row['same_text']}" if name == "decoder" else ""
            print(f"{batch:>5} {name:>9} {cells}{extra}", flush=True)
    rss = psutil.Process().memory_info().rss / 2**20
    figures["rss_mb"] = round(rss, 1)
    if gpu:
        figures["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    print(f"memory: RSS {figures['rss_mb']} MB, GPU peak {figures.get('gpu_peak_mb')} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
