"""Ingest benchmark: backfill a ≥2,000-commit repository end to end, then time single pushes.

Prints examples/s end to end (embedded broker → Faust → Delta), p50/p95 push-to-queryable latency
through the webhook receiver, peak memory, and the bare tree-sitter extraction rate over the same
files in the same run, so the pipeline's overhead is a ratio. ``--quick`` for a CI smoke run.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import resource
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

from common.lake import open_table
from common.ports import free_port
from common.settings import Settings
from infra.stack import Stack, local_stack
from streams.backfill import plan_backfill, progress, publish
from streams.extract import extract_symbols
from streams.kafka import AsyncProducer
from streams.mirror import changed_files, read_blob, sync_mirror
from streams.receiver import create_receiver

SECRET = "benchmark-secret"


def module(i: int, version: int = 0, functions: int = 8) -> str:
    lines = [f'"""Service module {i}."""', "import json", "import os", ""]
    for f in range(functions):
        body = f"value * {f + version} + {i}" if f == 0 else f"len(json.dumps(data)) + {f}"
        lines += [
            f"def handler_{i}_{f}(data: dict, value: int = {f}) -> int:",
            f'    """Handle case {f} of module {i}."""',
            f"    if value > {f}:",
            f"        return {body}",
            "    return -1",
            "",
        ]
    lines += [f"class Store{i}:", f'    """Storage {i}."""', ""]
    for m in range(3):
        lines += [f"    def op_{m}(self, key: str) -> str:", f"        return key + '{m}{i}'", ""]
    return "\n".join(lines) + "\n"


def generate_repo(path: Path, commits: int) -> None:
    """A repository with ``commits`` commits via git fast-import (one process, seconds)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    out: list[bytes] = []
    for c in range(commits):
        files = {f"svc/m{c}.py": module(c)}
        if c > 0:
            files[f"svc/m{c // 2}.py"] = module(c // 2, version=c)
        msg = f"commit {c}".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{c + 1}\n".encode())
        stamp = 1_700_000_000 + c * 60
        out.append(f"author Dev <dev{c % 7}@example.com> {stamp} +0000\n".encode())
        out.append(f"committer Dev <dev{c % 7}@example.com> {stamp} +0000\n".encode())
        out.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if c > 0:
            out.append(f"from :{c}\n".encode())
        for name, text in files.items():
            data = text.encode()
            out.append(f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(out), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)


def bare_extraction(settings: Settings, repo_path: Path, name: str) -> dict[str, float]:
    """tree-sitter over every file version the backfill will read: the floor of the cost."""
    mirror = sync_mirror(settings.mirrors_dir, name, str(repo_path))
    walker = [str(c.id) for c in mirror.walk(mirror.head.target)]
    blobs = [
        (f.path, read_blob(mirror, f.blob_sha))
        for sha in walker
        for f in changed_files(mirror, sha)
    ]
    started = time.perf_counter()
    symbols = sum(len(extract_symbols(data, path, "python").symbols) for path, data in blobs)
    seconds = time.perf_counter() - started
    return {
        "files": len(blobs),
        "symbols": symbols,
        "seconds": seconds,
        "symbols_per_s": symbols / seconds,
    }


def last_commit_time(settings: Settings) -> float:
    """When the last rows became queryable: the newest Delta commit of the written tables."""
    stamps = []
    for table in ("completion", "commits"):
        delta = open_table(settings.table_uri(table))
        if delta is not None:
            stamps += [
                h["timestamp"] / 1000 for h in delta.history(5) if h.get("operation") == "WRITE"
            ]
    return float(max(stamps))


def rows(settings: Settings, table: str) -> int:
    delta = open_table(settings.table_uri(table))
    return 0 if delta is None else delta.count()


def serve_receiver(stack: Stack, port: int) -> tuple[asyncio.AbstractEventLoop, AsyncProducer]:
    producer = AsyncProducer(stack.settings.kafka.client_config())
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def start() -> None:
        runner = web.AppRunner(create_receiver(stack.settings, producer))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    started.wait(10)
    return loop, producer


def git(repo_path: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo_path, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def push_latency(stack: Stack, repo_path: Path, name: str, pushes: int) -> list[float]:
    port = free_port()
    loop, producer = serve_receiver(stack, port)
    latencies = []
    try:
        for p in range(pushes):
            before = git(repo_path, "rev-parse", "HEAD")
            (repo_path / f"live/p{p}.py").parent.mkdir(exist_ok=True)
            (repo_path / f"live/p{p}.py").write_text(module(100_000 + p))
            git(repo_path, "add", "-A")
            git(
                repo_path,
                "-c",
                "user.name=b",
                "-c",
                "user.email=b@example.com",
                "commit",
                "-q",
                "-m",
                f"live {p}",
            )
            after = git(repo_path, "rev-parse", "HEAD")
            body = json.dumps(
                {
                    "repository": name,
                    "clone_url": str(repo_path),
                    "ref": "refs/heads/main",
                    "before": before,
                    "after": after,
                    "commits": [{"id": after}],
                }
            ).encode()
            digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/webhooks/generic",
                data=body,
                method="POST",
                headers={
                    "X-Hub-Signature-256": f"sha256={digest}",
                    "Content-Type": "application/json",
                },
            )
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 202
            while progress(stack.settings, name, [after]).done < 1:
                time.sleep(0.01)
            latencies.append(time.perf_counter() - t0)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        producer.close()
    return latencies


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of a process (and, optionally, its live children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if children:
            for task in Path(f"/proc/{pid}/task").iterdir():
                for child in (task / "children").read_text().split():
                    total += cpu_seconds(int(child), children=True)
    except OSError:
        return 0.0
    return total


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (the value at or below which ``pct`` % of samples fall)."""
    if not values:
        return None
    ranked = sorted(values)
    return round(ranked[max(0, math.ceil(pct / 100 * len(ranked)) - 1)], 3)


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process plus its children (the extraction pool), in MiB."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += peak_rss_mb(int(child))
    except OSError:
        pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 commits, 3 pushes")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--repo", help="benchmark an existing repository instead")
    parser.add_argument("--home", help="keep state and logs here (default: a temporary folder)")
    args = parser.parse_args()
    commits, pushes = (200, 3) if args.quick else (args.commits, args.pushes)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = Path(args.repo) if args.repo else work / "bench-repo"
        if not args.repo:
            generate_repo(source, commits)
        name = "bench/" + source.name
        settings = Settings(
            home=Path(args.home) if args.home else work / "home",
            webhook={"secret": SECRET},
            worker={"port": free_port()},
            lake={"batch_seconds": 0.2},
        )
        bare = bare_extraction(settings, source, name)
        with local_stack(settings) as stack:
            plan = plan_backfill(stack.settings, str(source), name=name)
            shas = [c.sha for c in plan.pending]
            wall0 = time.time()
            producer = AsyncProducer(stack.settings.kafka.client_config())
            asyncio.run(publish(stack.settings, producer, plan))
            producer.close()
            state = progress(stack.settings, name, shas)
            while state.done + state.failed < len(shas):
                time.sleep(0.5)  # coarse polling: the end time comes from the Delta log below
                state = progress(stack.settings, name, shas)
            seconds = last_commit_time(settings) - wall0
            cpu = {
                "broker": cpu_seconds(stack.broker.pid) if stack.broker and stack.broker.pid else 0,
                "worker": cpu_seconds(stack.worker.pid, children=True) if stack.worker else 0,
            }
            landed = rows(settings, "completion")
            latencies = push_latency(stack, source, name, pushes) if not args.repo else []
            worker_mb = peak_rss_mb(stack.worker.pid) if stack.worker else 0.0
        driver_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures: dict[str, Any] = {
            "benchmark": "ingest",
            "commits": len(shas),
            "examples_extracted": state.examples,
            "rows_in_delta": landed,
            "seconds": round(seconds, 2),
            "examples_per_s": round(state.examples / seconds, 1),
            "rows_per_s": round(landed / seconds, 1),
            "push_to_queryable_p50_s": percentile(latencies, 50),
            "push_to_queryable_p95_s": percentile(latencies, 95),
            "cpu_seconds_broker": round(cpu["broker"], 2),
            "cpu_seconds_worker_and_pool": round(cpu["worker"], 2),
            "peak_rss_worker_mb": round(worker_mb, 1),
            "peak_rss_driver_mb": round(driver_mb, 1),
            "bare_extraction_symbols_per_s": round(bare["symbols_per_s"], 1),
            "pipeline_vs_bare_extraction": round(
                (state.examples / seconds) / bare["symbols_per_s"], 3
            ),
        }
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
