"""The demo after ingestion: fine-tune on what landed, roll the result out as a canary, complete
code as developers' IDEs would and send their verdicts back.

The developers are simulated from the repository itself: each takes a function the lake holds,
asks for the line after its first half, accepts the completion when it is that line and
otherwise sends the line as a correction, which the feedback agent stores in Delta.
"""

import json
import secrets
import statistics
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from codemill.output import console
from common.errors import CodemillError
from common.lake import read_rows
from common.names import Table
from common.rows import CompletionExample, FeedbackRecord, ModelRecord
from common.settings import Settings
from training.registry import Registry

# A short fine-tune: the demo shows the loop, `codemill train` does the real run.
DEMO_TRAINING = {
    "max_steps": 16,
    "batch_size": 4,
    "max_seq_len": 256,
    "save_steps": 8,
    "eval_examples": 48,
    "eval_generations": 4,
}


@dataclass(frozen=True)
class Task:
    """A developer's cursor: the code above it and the line they will write."""

    prompt: str
    truth: str


def demo_settings(settings: Settings, train_steps: int) -> Settings:
    """The demo's settings: a short fine-tune, a half-and-half canary, its own API key."""
    training = settings.training.model_copy(update={**DEMO_TRAINING, "max_steps": train_steps})
    rollout = settings.rollout.model_copy(update={"canary_weight": 0.5, "auto_canary": False})
    key = f"cm-demo-{secrets.token_urlsafe(24)}:complete+feedback"
    keys = f"{settings.api_keys},{key}" if settings.api_keys else key
    return settings.model_copy(update={"training": training, "rollout": rollout, "api_keys": keys})


def demo_key(settings: Settings) -> str:
    return settings.api_keys.rsplit(",", 1)[-1].partition(":")[0]


def fine_tune(
    settings: Settings, registry: Registry, on_stage: Callable[[str], None]
) -> tuple[ModelRecord | None, dict[str, Any]]:
    """Train, evaluate and register a version; (the record, figures), or (None, why not)."""
    from training.train import train  # torch and Ray: only when the demo trains

    shown = [0.0]

    def on_progress(figures: dict[str, Any]) -> None:
        if time.monotonic() - shown[0] >= 10 or figures.get("step") == figures.get("total_steps"):
            shown[0] = time.monotonic()
            on_stage(
                f"step {figures.get('step', 0)}/{figures.get('total_steps', '?')}: loss "
                f"{figures.get('loss', 0.0):.3f}, {figures.get('tokens_per_s', 0.0):,.0f} tokens/s"
            )

    try:
        outcome = train(settings, registry, on_progress=on_progress, on_stage=on_stage)
    except CodemillError as exc:
        return None, {"trained": f"no: {exc}"}
    record, verdict = outcome.record, outcome.verdict
    return record, {
        "trained": record.version,
        "blessed": verdict.comparison.blessed,
        "next_token_accuracy": {
            record.version: round(verdict.candidate.metrics()["next_token_accuracy"], 4),
            verdict.baseline_name: round(verdict.baseline.metrics()["next_token_accuracy"], 4),
        },
        "train_seconds": round(outcome.fine_tuned.seconds, 1),
    }


def tasks_from_lake(settings: Settings, limit: int) -> list[Task]:
    """Developers' cursors in the functions the lake holds: half a body, then its next line."""
    rows = read_rows(
        settings.table_uri(Table.COMPLETION),
        CompletionExample,
        columns=["body", "augmentation"],
        storage_options=settings.lake.storage_options,
    ).to_pylist()
    tasks = []
    for row in rows:
        lines = row["body"].splitlines(keepends=True)
        if row["augmentation"] or len(lines) < 4:
            continue
        cut = len(lines) // 2
        if lines[cut].strip():
            tasks.append(Task("".join(lines[:cut]), lines[cut].strip()))
        if len(tasks) >= limit:
            break
    return tasks


def developers(api: str, key: str, tasks: list[Task], users: int = 20) -> dict[str, Any]:
    """Complete each task as one of ``users`` developers and send the verdict back."""
    served: Counter[str] = Counter()
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    latencies: list[float] = []
    failures = 0
    for n, task in enumerate(tasks):
        body = {
            "prompt": task.prompt,
            "max_tokens": 24,
            "stop": ["\n"],
            "user": f"developer-{n % users}",
        }
        started = time.perf_counter()
        status, done = _post(f"{api}/v1/completions", body, key)
        if status != 200:
            failures += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        version = done["model_version"]
        served[version] += 1
        kept = done["choices"][0]["text"].strip()
        verdict = {"completion_id": done["id"], "kind": "accept"}
        if kept != task.truth:
            verdict = verdict | {"kind": "correction", "corrected": task.truth}
        if _post(f"{api}/v1/feedback", verdict, key)[0] == 202:
            verdicts[version][verdict["kind"]] += 1
    return {
        "completions": dict(served),
        "failed": failures,
        "feedback": {v: dict(c) for v, c in verdicts.items()},
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
    }


def feedback_rows(settings: Settings) -> int:
    uri = settings.table_uri(Table.FEEDBACK)
    return int(read_rows(uri, FeedbackRecord, columns=["id"]).num_rows)


def wait_feedback(settings: Settings, expected: int, timeout: float = 60.0) -> int:
    """Feedback rows in Delta once ``expected`` landed (or at ``timeout``)."""
    deadline = time.monotonic() + timeout
    while (found := feedback_rows(settings)) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def _post(url: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        console.print(f"{url}: {error.code} {error.read()[:200]!r}")
        return error.code, {}


class Timeline:
    """When each step of the demo ended, in seconds since it started."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.marks: dict[str, float] = {}

    def mark(self, step: str) -> None:
        self.marks[step] = round(time.monotonic() - self.started, 1)
        console.print(f"[{self.marks[step]:7.1f} s] {step}")

    def figures(self) -> dict[str, str]:
        return {step: f"{at:.1f} s" for step, at in self.marks.items()}


def held_back(commits: int, share: float = 0.2) -> int:
    """How many of the newest commits the demo pushes after the first version is out, as the
    new work the drift check judges (none for a history too short to split)."""
    return int(commits * share) if commits >= 10 else 0


def drift_step(
    settings: Settings, registry: Registry, trained: ModelRecord | None
) -> dict[str, Any]:
    """The loop's check on the commits pushed since ``trained`` (else the live version) was
    trained, its alert when something drifted, and what the retraining controller decides."""
    from training.alerts import announce
    from training.monitor import check
    from training.retrain import RetrainController, Situation

    reference = trained or registry.live()
    result = check(settings, reference)
    report = result.report
    controller = RetrainController(settings.drift.model_copy(update={"debounce_s": 0}))
    if result.alert is not None:
        controller.note(result.alert)
    sent = announce(settings, result.alert)
    decision = controller.decide(
        Situation(
            now=time.time(),
            live_version=reference.version if reference else None,
            new_rows=report.current_rows,
            min_examples=settings.training.min_examples,
        )
    )
    return {
        "against": report.model_version,
        "verdict": report.verdict,
        "new_rows": report.current_rows,
        "report": report.report_path or "none",
        "alert": sent,
        "retrain": f"{'yes' if decision.retrain else 'no'} ({decision.trigger}): {decision.reason}",
    }
