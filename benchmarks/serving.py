"""Inference API benchmark: codemill's real API (Ray Serve's HTTP proxy, the router, a model
replica batching requests) against a naive server (the same model behind Python's
``http.server``, one ``transformers`` ``generate`` per request, no batching), in the same run.

For each base (``tiny``, ``smollm2`` or a saved folder) and each number of concurrent clients,
a load generator keeps exactly that many requests in flight, each a greedy completion of a
realistic code prompt (``--max-tokens``, 16 by default). Every prompt is different, so
codemill's cache of greedy completions never answers: the model does. The figures are client-side
latency p50/p95/p99, completions/s, HTTP errors, the server's own p50 (``latency_ms`` in the
answer) and the ratios codemill/naive of throughput and p50; then peak memory of the serving
processes and the issue's targets, met or not. The served engine is ``--engine``'s; the naive
server is always ``transformers``, its base loaded as ``TransformersEngine`` loads it, with the
same quantization choice (``CODEMILL_SERVING_QUANTIZE``: off by default, else int8 dynamic on CPUs;
bfloat16 on a GPU), and it generates one request at a time, as a single-worker server does. On a
GPU machine the served replica takes the GPU (``CODEMILL_SERVING_GPUS_PER_REPLICA=1`` unless set).
The servers run one after the other, never together. Other serving settings come from the
environment as ``codemill up`` reads them (``CODEMILL_SERVING_MAX_BATCH_SIZE=32``,
``CODEMILL_SERVING_ROUTERS=4``, ...); the rate limit is off.
``--quick`` for a CI smoke run; the last line is JSON.
"""

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder heads sys.path, and its datasets.py would shadow the `datasets`
# package transformers looks for.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402

from common.ports import free_port  # noqa: E402
from common.settings import Settings  # noqa: E402
from serving.engines import replica_threads  # noqa: E402
from training.bases import is_saved, prepare_base  # noqa: E402
from training.tiny import train_tiny  # noqa: E402

KEY = "bench-key-0123456789abcdef"
VERSION = "base"
WORDS = ("invoice", "session", "metric", "route", "order", "token", "image", "account", "report")
TEMPLATES = (
    "import json\nfrom pathlib import Path\n\n\ndef load_{w}s(path: Path) -> dict[str, int]:\n"
    '    """Read the {w} counts written by save_{w}s."""\n    with path.open() as handle:\n'
    "        data = json.load(handle)\n    return {{key: int(value) for key, value in "
    "data.items()}}\n\n\ndef save_{w}s(counts: dict[str, int], path: Path, limit: int = {n}) "
    '-> None:\n    """Write the {n} largest {w} counts to path as JSON."""\n',
    'class {W}Cache:\n    """The {n} most recently used {w} entries, by key."""\n\n'
    "    def __init__(self, capacity: int = {n}) -> None:\n        self.capacity = capacity\n"
    "        self.items: dict[str, bytes] = {{}}\n\n    def get(self, key: str) -> bytes | None:\n",
    "def {w}_stats(values: list[float]) -> tuple[float, float]:\n"
    '    """Mean and standard deviation of the first {n} {w} values."""\n'
    "    head = values[:{n}]\n    if not head:\n        return 0.0, 0.0\n"
    "    mean = sum(head) / len(head)\n",
)
# The latency targets on CPUs, at 1 client: (base, figure, at most).
TARGETS = (("smollm2", "p50_ms", 150.0), ("smollm2", "p99_ms", 300.0), ("tiny", "p50_ms", 30.0))


def prompt(number: int) -> str:
    """A code prompt no other request of the run repeats (the numbers differ)."""
    word = WORDS[number % len(WORDS)]
    template = TEMPLATES[number % len(TEMPLATES)]
    return template.format(w=word, W=word.title(), n=10 + number)


# --- the load generator -----------------------------------------------------------------------


@dataclass
class Level:
    """What one number of concurrent clients got."""

    clients: int
    latencies_s: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: int = 0
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        done = len(self.latencies_s)
        ms = np.array(self.latencies_s or [0.0]) * 1000
        p50, p95, p99 = (round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99))
        return {
            "requests": done,
            "errors": self.errors,
            "p50_ms": p50,
            "p95_ms": p95,
            "p99_ms": p99,
            "completions_per_s": round(done / self.seconds, 2) if self.seconds else 0.0,
            "server_p50_ms": round(float(np.median(self.server_ms)), 1) if self.server_ms else None,
            "mean_tokens": round(self.tokens / done, 1) if done else 0.0,
        }


async def run_level(
    url: str, clients: int, requests: int, seconds: float, max_tokens: int, numbers: Iterator[int]
) -> Level:
    """Keep ``clients`` requests in flight until ``requests`` were sent or ``seconds`` passed."""
    level = Level(clients)
    headers = {"Authorization": f"Bearer {KEY}"}
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=600)
    sent = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < requests and time.perf_counter() < deadline:
            sent += 1
            body = {"prompt": prompt(next(numbers)), "max_tokens": max_tokens, "temperature": 0}
            asked = time.perf_counter()
            try:
                async with session.post(url, json=body, headers=headers) as response:
                    answer = await response.json()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError, ValueError):
                ok = False
            if not ok:
                level.errors += 1
                continue
            level.latencies_s.append(time.perf_counter() - asked)
            level.tokens += int(answer["usage"]["completion_tokens"])
            if "latency_ms" in answer:
                level.server_ms.append(float(answer["latency_ms"]))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    level.seconds = time.perf_counter() - started
    return level


def measure(
    base_url: str, levels: list[int], requests: int, seconds: float, max_tokens: int
) -> dict[str, Any]:
    """Warm the server up, then measure each number of clients in turn."""
    url = f"{base_url}/v1/completions"
    numbers = itertools.count(int(time.time() * 1000) % 1_000_000 * 1000)  # never cached
    warmup = max(levels)
    asyncio.run(run_level(url, 1, 3, 600, max_tokens, numbers))
    asyncio.run(run_level(url, min(16, warmup), 2 * min(16, warmup), 600, max_tokens, numbers))
    figures = {}
    for clients in levels:
        level = asyncio.run(run_level(url, clients, requests, seconds, max_tokens, numbers))
        figures[str(clients)] = level.figures()
        print(f"  {clients:>4} clients: {figures[str(clients)]}", file=sys.stderr, flush=True)
    return figures


# --- the naive server -------------------------------------------------------------------------


def serve_naive(base_path: str, port: int, quantize: bool) -> None:
    """Answer completions with one ``generate`` per request, one at a time (runs in its own
    process: ``--naive-server``)."""
    from serving.engine import TransformersEngine  # the same loading: quantization, device

    engine = TransformersEngine.load(base_path, "naive", quantize=quantize)
    model, tokenizer, lock = engine.model, engine.tokenizer, threading.Lock()

    def complete(body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        encoded = tokenizer(body["prompt"], return_tensors="pt", add_special_tokens=False)
        width = encoded["input_ids"].shape[1]
        with lock, torch.inference_mode():
            out = model.generate(
                **encoded.to(engine.device),
                max_new_tokens=int(body.get("max_tokens", 16)),
                do_sample=False,
                eos_token_id=engine.eos,
                pad_token_id=engine.pad,
            )
        new = out[0, width:].tolist()
        new = new[: new.index(engine.eos)] if engine.eos in new else new
        text = tokenizer.decode(new, skip_special_tokens=True)
        usage = {"prompt_tokens": width, "completion_tokens": len(new)}
        latency_ms = (time.perf_counter() - started) * 1000
        return {"choices": [{"text": text, "index": 0}], "usage": usage, "latency_ms": latency_ms}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the proxy offers
        disable_nagle_algorithm = True  # else the body waits ~40 ms on the headers' ACK

        def do_GET(self) -> None:
            self._send({"status": "ok"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._send(complete(body))

        def _send(self, answer: dict[str, Any]) -> None:
            raw = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a line per request would cost more than the figures measure

    ThreadingHTTPServer.request_queue_size = 1024  # every client connects at once
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def start_naive(base_path: str, quantize: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, __file__, "--naive-server", base_path, "--port", str(port)]
    server = subprocess.Popen(command + (["--quantize"] if quantize else []))
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"the naive server exited ({server.returncode}): see stderr")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("the naive server did not answer within 5 minutes")


# --- codemill's API ---------------------------------------------------------------------------


def start_codemill(base_path: str, engine: str, home: Path) -> tuple[Settings, str]:
    from serving.app import ServedVersion
    from serving.controller import Plan
    from serving.deploy import start

    port = free_port()
    serving: dict[str, Any] = {"port": port, "rate_limit": 0, "engine": engine, "feedback": False}
    if torch.cuda.is_available() and "CODEMILL_SERVING_GPUS_PER_REPLICA" not in os.environ:
        serving["gpus_per_replica"] = 1  # else Ray hides the GPU from the replica
    # Feedback off: no broker here, and it is not on a completion's path.
    settings = Settings(home=home, api_keys=f"{KEY}:complete", serving=serving)
    start(settings, Plan(VERSION), [ServedVersion(VERSION, base_path)])
    return settings, f"http://127.0.0.1:{port}"


def stop_codemill() -> None:
    import ray
    from ray import serve

    serve.shutdown()  # type: ignore[no-untyped-call]
    ray.shutdown()


def peak_rss_mb(process: psutil.Process) -> float | None:
    """The process's peak resident memory (Linux's VmHWM), else its current one."""
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return round(float(process.memory_info().rss) / 2**20, 1)
    except (OSError, psutil.Error):
        return None


def serving_rss_mb() -> dict[str, float | None]:
    """Peak memory of this run's Serve processes (children of this driver's Ray)."""
    roles = {"model_replica": "ServeReplica:codemill-model", "router": "codemill:Router"}
    roles |= {"rollout_keeper": "codemill:RolloutKeeper", "http_proxy": "ProxyActor"}
    found: dict[str, float | None] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            title = " ".join(child.cmdline())
        except psutil.Error:
            continue
        for role, marker in roles.items():
            if marker in title and role not in found:
                found[role] = peak_rss_mb(child)
    return found


# --- one base, both servers -------------------------------------------------------------------


def base_folder(home: Path, base: str, quick: bool) -> str:
    settings = Settings(home=home)
    tiny = settings.models_dir / "base" / "tiny"
    if base == "tiny" and not is_saved(tiny):
        train_tiny(tiny, minutes=0.1 if quick else 2.0, max_steps=20 if quick else 2000)
    return str(prepare_base(settings, base))


def one_base(base_path: str, args: argparse.Namespace, levels: list[int]) -> dict[str, Any]:
    run = (args.requests, args.seconds, args.max_tokens)
    with tempfile.TemporaryDirectory() as home:
        print(f"codemill, {base_path}", file=sys.stderr, flush=True)
        settings, url = start_codemill(base_path, args.engine, Path(home))
        try:
            codemill = measure(url, levels, *run)
            memory = serving_rss_mb()
        finally:
            stop_codemill()
    naive: dict[str, Any] = {}
    if args.baseline:
        print(f"naive, {base_path}", file=sys.stderr, flush=True)
        server, url = start_naive(base_path, settings.serving.quantize)
        try:
            naive = measure(url, levels, *run)
            memory["naive_server"] = peak_rss_mb(psutil.Process(server.pid))
        finally:
            server.terminate()
            server.wait(30)
    ratios = {
        clients: {
            "throughput": _ratio(codemill[clients], naive[clients], "completions_per_s"),
            "p50": _ratio(codemill[clients], naive[clients], "p50_ms"),
        }
        for clients in codemill
        if clients in naive
    }
    serving = settings.serving
    kept = (
        "routers",
        "engine",
        "quantize",
        "max_batch_size",
        "batch_wait_ms",
        "replicas",
        "cpus_per_replica",
        "gpus_per_replica",
        "cuda_graphs",
    )
    return {
        "base_path": base_path,
        "serving": {name: getattr(serving, name) for name in kept}
        | {"threads_per_replica": replica_threads(settings)},
        "naive_weights": weights(serving.quantize),
        "codemill": codemill,
        "naive": naive,
        "codemill_vs_naive": ratios,
        "peak_rss_mb": memory,
    }


def _ratio(ours: dict[str, Any], theirs: dict[str, Any], name: str) -> float | None:
    return round(ours[name] / theirs[name], 2) if theirs[name] else None


def weights(quantize: bool) -> str:
    if torch.cuda.is_available():
        return "bfloat16 on the GPU"
    return "int8 dynamic quantization (torch)" if quantize else "float32"


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets, for the bases and client counts this run measured."""
    met: dict[str, Any] = {}
    for base, name, most in TARGETS:
        one = figures.get(base, {}).get("codemill", {}).get("1")
        if one is not None and not figures["gpu"]:
            met[f"{base}_{name}_1_client"] = _target(one[name], most, one[name] <= most)
    for base in figures["bases"]:
        ratio = figures[base]["codemill_vs_naive"].get("32", {}).get("throughput")
        if ratio is not None:
            met[f"{base}_throughput_vs_naive_32"] = _target(ratio, 4.0, ratio >= 4)
        if figures["gpu"]:
            levels = figures[base]["codemill"].values()
            fast = [lvl["completions_per_s"] for lvl in levels if lvl["p99_ms"] <= 100]
            best = max(fast, default=0.0)
            met[f"{base}_gpu_completions_per_s_p99_100ms"] = _target(best, 2000.0, best >= 2000)
    return met


def _target(value: float, target: float, met: bool) -> dict[str, Any]:
    return {"value": value, "target": target, "met": met}


# --- output -----------------------------------------------------------------------------------


def print_table(figures: dict[str, Any]) -> None:
    print(f"machine: {figures['cpus']} CPUs, GPU {figures['gpu'] or 'none'}")
    for base in figures["bases"]:
        one = figures[base]
        print(f"\n{base} ({one['base_path']}), serving {one['serving']}")
        print(f"naive: {one['naive_weights']}, one generate at a time")
        head = f"{'clients':>7} {'server':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        print(f"{head} {'compl/s':>8} {'errors':>6} {'x tput':>7} {'x p50':>6}")
        for clients, ours in one["codemill"].items():
            ratio = one["codemill_vs_naive"].get(clients, {"throughput": "-", "p50": "-"})
            rows = [("codemill", ours)]
            rows += [("naive", one["naive"][clients])] if clients in one["naive"] else []
            for name, row in rows:
                cells = [f"{row[k]:>8}" for k in ("p50_ms", "p95_ms", "p99_ms")]
                line = f"{clients:>7} {name:>8} {' '.join(cells)} {row['completions_per_s']:>8}"
                extra = f" {ratio['throughput']:>7} {ratio['p50']:>6}" if name == "codemill" else ""
                print(f"{line} {row['errors']:>6}{extra}")
        print(f"peak RSS MB: {one['peak_rss_mb']}")
    for name, target in figures["targets"].items():
        print(f"target {name}: {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="tiny,smollm2", help="tiny, smollm2 or a saved folder")
    parser.add_argument("--clients", default="1,8,32,128", help="concurrent clients per level")
    parser.add_argument("--requests", type=int, default=400, help="most requests per level")
    parser.add_argument("--seconds", type=float, default=30.0, help="most seconds per level")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument(
        "--engine",
        choices=("auto", "transformers", "llamacpp"),
        default="auto",
        help="CODEMILL_SERVING_ENGINE of the served model",
    )
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the naive server too (--no-baseline: codemill alone, no ratios)",
    )
    parser.add_argument("--quick", action="store_true", help="the tiny base, 1 and 8 clients")
    parser.add_argument("--home", type=Path, default=ROOT / ".codemill")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--naive-server", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quantize", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_server:
        serve_naive(args.naive_server, args.port, args.quantize)
        return
    if args.quick:
        args.base, args.clients, args.requests, args.seconds = "tiny", "1,8", 24, 10.0
    levels = [int(c) for c in args.clients.split(",") if c.strip()]
    bases = [b.strip() for b in args.base.split(",") if b.strip()]
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "gpu": gpu, "bases": []}
    figures["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    for base in bases:
        name = base if base in ("tiny", "smollm2") else Path(base).name
        figures[name] = one_base(base_folder(args.home, base, args.quick), args, levels)
        figures["bases"].append(name)
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["targets"] = targets(figures)
    if args.format == "text":
        print_table(figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
