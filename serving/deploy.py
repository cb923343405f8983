"""Starting the inference API and rolling versions out on it (``codemill up`` and ``deploy``).

What is served comes from the registry: the live version (or, before any, the base model as
version ``base``) and a canary if one was rolling out. :func:`deploy` starts the new version's
application, checks it answers, hands the router its new :class:`~serving.controller.Plan` and
records the status in the registry; from there the rollout keeper's controller promotes it or
rolls it back on the live figures. :func:`watch_blessed` makes serving roll a newly blessed
version out as a canary by itself, with no restart.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

import ray
from ray import serve

from common.errors import CodemillError
from common.ray_cluster import join
from common.rows import ModelRecord
from common.runfiles import serving_file, write_record
from common.settings import Settings
from serving.app import APP_NAME, ServedVersion, model_app
from serving.controller import Plan, Strategy, rollout_plan
from serving.entry import ROUTE_PREFIX, ROUTER_APP, model_application, router_application
from serving.requests import Request, Sampling
from training.registry import Registry

log = logging.getLogger(__name__)
BASE = "base"
PROBE = Request("def add(a, b):\n", sampling=Sampling(max_tokens=2))


class DeployError(CodemillError):
    """A rollout was refused or its version did not come up."""


def served_version(record: ModelRecord) -> ServedVersion:
    return ServedVersion(record.version, record.base_path, record.adapter_path)


def initial_plan(settings: Settings, registry: Registry) -> tuple[Plan, list[ServedVersion]]:
    """What to serve on start: the live version (else ``base``) and any canary."""
    records = registry.list()
    live = next((r for r in records if r.status == "live"), None)
    if live is not None:
        stable = served_version(live)
    else:
        from training.bases import prepare_base  # trains the tiny base when it is missing

        stable = ServedVersion(BASE, str(prepare_base(settings)))
    canary = next((r for r in records if r.status == "canary"), None)
    if canary is None:
        return Plan(stable.version), [stable]
    weight = settings.rollout.canary_weight
    return rollout_plan(stable.version, canary.version, "canary", weight), [
        stable,
        served_version(canary),
    ]


def run_model(settings: Settings, served: ServedVersion) -> None:
    """Start (or replace) ``served``'s application; returns once its replicas answer."""
    serve.run(
        model_application(settings, served), name=model_app(served.version), route_prefix=None
    )


def start(settings: Settings, plan: Plan, versions: list[ServedVersion]) -> None:
    """Start Serve's HTTP proxy on ``settings.serving`` host and port, each version, then the
    router serving ``plan``; records where Ray runs for ``codemill deploy``."""
    join(settings)
    serve.start(http_options={"host": settings.serving.host, "port": settings.serving.port})
    for served in versions:
        run_model(settings, served)
    serve.run(router_application(settings, plan), name=ROUTER_APP, route_prefix=ROUTE_PREFIX)
    info = {
        "ray_address": ray.get_runtime_context().gcs_address,
        "url": f"http://{settings.serving.host}:{settings.serving.port}",
    }
    write_record(serving_file(settings.home), info)


def stop(settings: Settings) -> None:
    serving_file(settings.home).unlink(missing_ok=True)
    serve.shutdown()  # type: ignore[no-untyped-call]


def current_plan() -> Plan:
    plan: Plan = serve.get_app_handle(APP_NAME).get_plan.remote().result()
    return plan


def rollout_state() -> dict[str, Any]:
    state: dict[str, Any] = serve.get_app_handle(APP_NAME).rollout.remote().result()
    return state


def deploy(
    settings: Settings,
    registry: Registry,
    version: str,
    strategy: Strategy = "canary",
    weight: float | None = None,
) -> Plan:
    """Roll ``version`` out on the running API; returns the router's new plan."""
    record = registry.get(version)
    if record.status != "blessed":
        raise DeployError(
            f"version {version} is {record.status}: only a blessed version is rolled out "
            "(`codemill eval` blesses a version that beats the live one)"
        )
    router = serve.get_app_handle(APP_NAME)
    plan: Plan = router.get_plan.remote().result()
    if plan.candidate is not None:
        raise DeployError(
            f"version {plan.candidate} is still rolling out ({plan.strategy} at "
            f"{plan.weight:.0%}): wait until the controller promotes or rolls it back"
        )
    served = served_version(record)
    run_model(settings, served)
    if strategy == "blue-green":
        # All traffic moves at once: the new version must answer first. (A canary is judged
        # on its first users' requests instead, which fall back to the stable version.)
        try:
            serve.get_app_handle(model_app(version)).complete.remote(PROBE).result(timeout_s=120)
        except Exception as error:
            serve.delete(model_app(version))
            registry.set_status(version, "retired", f"did not answer a probe: {error}")
            raise DeployError(f"version {version} did not answer a probe: {error}") from error
    new_plan = rollout_plan(
        plan.stable, version, strategy, weight or settings.rollout.canary_weight
    )
    router.set_plan.remote(new_plan).result()
    reason = f"deployed {strategy} over {plan.stable}"
    registry.set_status(version, "live" if strategy == "immediate" else "canary", reason)
    return new_plan


def watch_blessed(
    settings: Settings,
    registry: Registry,
    stop: threading.Event,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Roll each newly blessed version out as a canary, while nothing else rolls out, until
    ``stop`` is set (``codemill up``, with ``CODEMILL_ROLLOUT_AUTO_CANARY``); ``beat`` is called
    on every look (a liveness signal)."""
    while not stop.wait(settings.rollout.watch_s):
        beat()
        try:
            blessed = registry.latest("blessed")
            if blessed is None or current_plan().candidate is not None:
                continue
            deploy(settings, registry, blessed.version, "canary")
            log.warning("rolling %s out as a canary", blessed.version)
        except Exception:
            log.exception("could not roll the newest blessed version out")
