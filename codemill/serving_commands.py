"""The serving commands: ``deploy`` (roll a version out) and what ``up`` serves."""

import contextlib
import json
import signal
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from codemill.output import Format, console, emit, fail
from codemill.training_commands import registry_for
from common.errors import CodemillError
from common.ray_cluster import cluster_address, join, use_local_ray_token
from common.runfiles import live_record, serving_file
from common.settings import Settings

STRATEGIES = ("canary", "blue-green", "immediate")


def register(app: typer.Typer) -> None:
    app.command()(deploy)
    app.command(hidden=True)(watch)


def deploy(
    version: Annotated[str, typer.Argument(help="a blessed version (see `codemill models`)")],
    strategy: Annotated[str, typer.Option(help="canary, blue-green or immediate")] = "canary",
    weight: Annotated[
        float | None,
        typer.Option(help="a canary's first share of users, 0-1 (default: rollout.canary_weight)"),
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="follow the rollout until it is promoted or rolled back")
    ] = False,
    timeout: Annotated[float, typer.Option(help="seconds --wait waits")] = 1800,
    fmt: Format = "text",
) -> None:
    """Roll a version out on the running inference API (``codemill up``)."""
    if strategy not in STRATEGIES:
        fail(CodemillError(f"--strategy must be one of {', '.join(STRATEGIES)}"))
    if weight is not None and not 0 < weight <= 1:
        fail(CodemillError("--weight is a share of users: above 0, at most 1"))
    settings = Settings()
    use_local_ray_token(settings)  # before Ray is imported
    from serving.deploy import deploy as roll_out
    from serving.deploy import rollout_state

    try:
        if not cluster_address(settings):
            raise CodemillError(
                f"no inference API runs on {settings.home}: start `codemill up` first "
                "(or set CODEMILL_RAY_ADDRESS to the Ray cluster that serves it)"
            )
        join(settings)
        plan = roll_out(settings, registry_for(settings), version, strategy, weight)  # type: ignore[arg-type]
        state = rollout_state()
        if wait:
            state = follow(version, timeout)
    except CodemillError as exc:
        fail(exc)
    emit(summary(state), fmt, f"codemill deploy {version} ({strategy}) → {plan.shares()}")


def follow(version: str, timeout: float) -> dict[str, Any]:
    """The rollout's state once ``version`` is no longer rolling out (or at ``timeout``)."""
    from serving.deploy import rollout_state

    deadline = time.monotonic() + timeout
    shown = 0
    while True:
        state = rollout_state()
        for transition in state["transitions"][shown:]:
            console.print(
                f"{transition['version']}: {transition['outcome']} → "
                f"{transition['weight']:.0%} ({transition['reason']})"
            )
        shown = len(state["transitions"])
        if state["plan"].candidate != version or time.monotonic() > deadline:
            return state
        time.sleep(1.0)


def summary(state: dict[str, Any]) -> dict[str, Any]:
    plan = state["plan"]
    return {
        "serving": dict(plan.shares()),
        "rolling_out": plan.candidate or "nothing",
        "strategy": plan.strategy if plan.candidate else "-",
        "figures": state["figures"],
        "transitions": [f"{t['version']} {t['outcome']}" for t in state["transitions"]],
    }


@contextlib.contextmanager
def serving(settings: Settings, watch: bool = True) -> Iterator[dict[str, Any]]:
    """The inference API on Ray Serve for as long as the block runs: the live version (or the
    base as ``base``) and any canary, plus, with ``watch``, newly blessed versions rolled out as
    canaries. Yields where it answers and the keys file."""
    use_local_ray_token(settings)  # before Ray is imported
    import ray

    from serving.deploy import initial_plan, start, stop, watch_blessed
    from serving.keys import KEYS_FILE

    registry = registry_for(settings)
    plan, versions = initial_plan(settings, registry)
    start(settings, plan, versions)
    halt = threading.Event()
    watcher = None
    if watch and settings.rollout.auto_canary:
        watcher = threading.Thread(
            target=watch_blessed, args=(settings, registry, halt), daemon=True
        )
        watcher.start()
    try:
        yield {
            "url": f"http://{settings.serving.host}:{settings.serving.port}/v1",
            "plan": asdict(plan),
            "keys": "CODEMILL_API_KEYS" if settings.api_keys else str(settings.home / KEYS_FILE),
            "ray_address": ray.get_runtime_context().gcs_address,
        }
    finally:
        halt.set()
        if watcher is not None:
            watcher.join(timeout=5)
        with contextlib.suppress(Exception):
            stop(settings)  # Serve's applications and the record of them
        with contextlib.suppress(Exception):
            ray.shutdown()


def serving_health(settings: Settings) -> dict[str, Any] | str:
    """What the inference API of a ``codemill up`` on this home serves (its ``/healthz``)."""
    info = live_record(serving_file(settings.home))
    if info is None:
        return "not serving"
    try:
        with urllib.request.urlopen(f"{info['url']}/healthz", timeout=5) as response:
            health: dict[str, Any] = json.loads(response.read())
    except (OSError, ValueError):
        return "not serving"
    return {"url": f"{info['url']}/v1", **health}


def watch() -> None:
    """Roll each newly blessed version out as a canary on the Ray cluster that serves (for
    cluster deployments, where no `codemill up` does it; needs CODEMILL_RAY_ADDRESS), until
    interrupted."""
    settings = Settings()
    if not settings.ray_address:
        fail(CodemillError("codemill watch needs CODEMILL_RAY_ADDRESS: the serving Ray cluster"))
    from serving.deploy import watch_blessed

    join(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"rolling newly blessed versions out as canaries on {settings.ray_address}")
    heartbeat = Path(tempfile.gettempdir()) / "codemill-watch.beat"  # its liveness probe's file
    try:
        watch_blessed(settings, registry_for(settings), stop, heartbeat.touch)
    except KeyboardInterrupt:
        stop.set()
