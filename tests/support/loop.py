"""`codemill up` as a user runs it, with what the closed loop needs around it: signed pushes to
its webhook receiver, developers completing code and accepting it, a chat webhook that records
the alerts it receives, and readers of the registry and the drift reports.

Shared by the closed-loop integration test and ``benchmarks/freshness.py``.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common.lake import read_rows
from common.ports import free_port
from common.rows import CompletionExample, DriftReport, ModelRecord
from common.runfiles import live_record
from common.schema import from_arrow
from common.settings import Settings
from streams.ledger import latest_status, read_ledger
from tests.support.github import github_push, signed
from tests.support.gitrepo import GitRepo
from tests.support.http import json_call
from training.registry import Registry

KEY = "loop-key-0123456789abcdef"
SECRET = "loop-webhook-secret"
# The loop at test speed: checks every few seconds, a short debounce, no cooldown, and rollouts
# judged on a handful of requests; the volume trigger out of the way.
FAST_LOOP = {
    "CODEMILL_SERVING_RATE_LIMIT": "0",
    "CODEMILL_ROLLOUT_CANARY_WEIGHT": "0.5",
    "CODEMILL_ROLLOUT_STEPS": "[0.5, 1.0]",
    "CODEMILL_ROLLOUT_MIN_REQUESTS_PER_STEP": "10",
    "CODEMILL_ROLLOUT_MIN_FEEDBACK": "3",
    "CODEMILL_ROLLOUT_INTERVAL_S": "0.5",
    "CODEMILL_ROLLOUT_WATCH_S": "2",
    "CODEMILL_DRIFT_DEBOUNCE_S": "6",
    "CODEMILL_DRIFT_RETRAIN_COOLDOWN_S": "0",
    "CODEMILL_DRIFT_VOLUME_ROWS": "100000",
}


@dataclass
class Hooks:
    """A chat webhook: every JSON body POSTed to it."""

    received: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


class Up:
    """A running ``codemill up`` on ``home``; :meth:`stop` ends it as Ctrl-C does."""

    def __init__(
        self,
        home: Path,
        env: dict[str, str],
        ready_timeout: float = 300,
        secret: str = SECRET,
        keys: str | None = f"{KEY}:complete+feedback",
    ) -> None:
        """``keys``: ``CODEMILL_API_KEYS``, or None for the key ``up`` generates itself."""
        self.home, self.hooks = home, Hooks()
        self.ports = {name: free_port() for name in ("webhook", "worker", "serving", "loop")}
        self.environment = environment = {
            **os.environ,
            "CODEMILL_HOME": str(home),
            "CODEMILL_WEBHOOK_SECRET": secret,
            "CODEMILL_WEBHOOK_PORT": str(self.ports["webhook"]),
            "CODEMILL_WEBHOOK_HOST": "127.0.0.1",
            "CODEMILL_WORKER_PORT": str(self.ports["worker"]),
            "CODEMILL_WORKER_SESSION_TIMEOUT": "6",
            "CODEMILL_LAKE_BATCH_SECONDS": "0.2",
            "CODEMILL_SERVING_PORT": str(self.ports["serving"]),
            "CODEMILL_DRIFT_PORT": str(self.ports["loop"]),
            "CODEMILL_DRIFT_WEBHOOK_URL": self.hooks.start(),
            **env,
        }
        environment.pop("CODEMILL_KAFKA_BOOTSTRAP", None)
        environment.pop("CODEMILL_API_KEYS", None)
        if keys is not None:
            environment["CODEMILL_API_KEYS"] = keys
        self.secret = secret
        home.mkdir(parents=True, exist_ok=True)
        self.log = (home / "up.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codemill", "up"],
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.api = f"http://127.0.0.1:{self.ports['serving']}"
        try:
            eventually(self._answering, ready_timeout, every=1)
        except BaseException:
            self.stop()
            raise
        running = live_record(home / "stack.json")
        assert running is not None
        self.settings = Settings(home=home).with_bootstrap(running["bootstrap"])

    def _answering(self) -> bool:
        assert self.proc.poll() is None, (self.home / "up.log").read_text()[-5000:]
        try:
            serving, _ = json_call(f"{self.api}/healthz")
            hooked, _ = json_call(f"http://127.0.0.1:{self.ports['webhook']}/healthz")
        except (OSError, ValueError):  # not listening yet, or Serve's proxy without JSON
            return False
        return serving == hooked == 200

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=90)
        self.log.close()
        self.hooks.stop()
        return code

    def logs(self) -> str:
        loop = self.home / "logs" / "loop.log"
        return (self.home / "up.log").read_text()[-4000:] + (
            loop.read_text()[-6000:] if loop.exists() else "no loop log"
        )

    def post(self, provider: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        """A webhook delivery to ``/webhooks/<provider>``: the status and the JSON answer."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['webhook']}/webhooks/{provider}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def push(self, repo: GitRepo, before: str, after: str, name: str = "acme/shop") -> None:
        body = github_push(repo, name, before, after)
        status, answer = self.post("github", body, signed(self.secret, body, delivery=after))
        assert status == 202, answer

    def commit_and_push(
        self, repo: GitRepo, head: str, commits: Sequence[Mapping[str, str | bytes]], what: str
    ) -> list[str]:
        """Each of ``commits`` (path → content) committed and pushed on its own; their shas."""
        shas = []
        for i, files in enumerate(commits):
            before, head = head, repo.commit(files, f"{what} {i}")
            self.push(repo, before, head)
            shas.append(head)
        return shas

    def ingested(self, shas: Sequence[str], repo: str = "acme/shop") -> bool:
        """Whether the ledger records every one of ``shas`` as ingested."""
        latest = latest_status(read_ledger(self.settings, repo))
        return all(
            (line := latest.get((repo, sha))) is not None and line.status == "ingested"
            for sha in shas
        )

    def models(self) -> dict[str, ModelRecord]:
        return {r.version: r for r in Registry(self.settings).list()}

    def reports(self) -> list[DriftReport]:
        rows = read_rows(self.settings.table_uri("drift_reports"), DriftReport)
        return sorted(from_arrow(DriftReport, rows), key=lambda r: r.checked_at)

    def rows(self, language: str | None = None) -> int:
        """Source rows (augmented variants left out) of ``language``, or of every language."""
        uri = self.settings.table_uri("completion")
        rows = read_rows(uri, CompletionExample, ["augmentation", "language"]).to_pylist()
        return sum(
            1
            for r in rows
            if not r["augmentation"] and (language is None or r["language"] == language)
        )

    def serving_weights(self) -> dict[str, float]:
        status, health = json_call(f"{self.api}/healthz")
        return dict(health.get("weights", {})) if status == 200 else {}


class Developers:
    """Developers typing Python: completions at about ``rate`` a second, each accepted."""

    def __init__(self, api: str, rate: float = 4.0) -> None:
        self.api, self.rate = api, rate
        self.stop, self.answers = threading.Event(), 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> "Developers":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def run(self) -> None:
        with ThreadPoolExecutor(4) as pool:
            n = 0
            while not self.stop.wait(1 / self.rate):
                pool.submit(self.one, n)
                n += 1

    def one(self, n: int) -> None:
        body = {
            "prompt": f"def compute_{n % 40}(value: int) -> int:\n",
            "max_tokens": 6,
            "user": f"dev-{uuid.uuid4().hex}",
        }
        try:
            status, done = json_call(f"{self.api}/v1/completions", body, key=KEY)
            if status == 200:
                self.answers += 1
                feedback = {"completion_id": done["id"], "kind": "accept"}
                json_call(f"{self.api}/v1/feedback", feedback, key=KEY)
        except (OSError, ValueError):  # a developer whose request failed types on
            pass


def eventually(check: Callable[[], bool], timeout: float = 60.0, every: float = 0.2) -> float:
    """Seconds until ``check()`` held; AssertionError after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s")
