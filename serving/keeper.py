"""The rollout keeper: the one replica that holds what the API's routers share.

The routers (one or more replicas, :class:`~serving.app.Router`) route and count; the keeper
holds the :class:`~serving.controller.Plan`, the tallies every router reports
(:mod:`serving.sharing`) and the rollout controller: every ``CODEMILL_ROLLOUT_INTERVAL_S`` it
looks at the summed figures and moves the plan on (a canary steps up, is promoted or rolled back:
:mod:`serving.rollout`), writes each end of a rollout to the registry (announced on
``codemill.models``) and deletes the applications of the versions no longer served. Routers
learn the plan at their next report. It also remembers the completions the routers showed (when
there are several) for feedback that reaches another router, and sums their metrics.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict
from typing import Any

from cachetools import LRUCache
from prometheus_client import Metric
from ray import serve

from common.settings import Settings
from serving.app import model_app
from serving.controller import Plan, Step, Tally, advance
from serving.feedback import Shown
from serving.metrics import ApiMetrics
from serving.sharing import Report, add_tallies, merged_exposition

log = logging.getLogger("ray.serve")  # the replica logs Serve keeps


def _record(settings: Settings, step: Step, before: Plan) -> None:
    """Write a rollout's end to the registry (announced on ``codemill.models``)."""
    from training.registry import Registry, kafka_publisher

    publisher = kafka_publisher(settings) if settings.kafka.bootstrap else None
    registry = Registry(settings, publisher=publisher)
    known = {r.version for r in registry.list()}
    candidate = before.candidate
    if candidate is None or candidate not in known:
        return
    reason = step.decision.reason
    if step.outcome == "promoted":
        registry.set_status(candidate, "live", f"{before.strategy} promoted: {reason}")
    elif step.outcome == "rolled_back":
        registry.set_status(candidate, "rolled_back", f"{before.strategy} rolled back: {reason}")


@serve.deployment(num_replicas=1, ray_actor_options={"num_cpus": 0})
class RolloutKeeper:
    def __init__(self, settings: Settings, plan: Plan) -> None:
        self.settings = settings
        self.plan = plan
        self.epoch = 0  # a new plan (a new rollout) starts a new epoch: counting starts afresh
        self.tallies: dict[str, Tally] = {v: Tally() for v in plan.versions}
        self.transitions: list[dict[str, Any]] = []
        self.shown: LRUCache[str, Shown] = LRUCache(maxsize=settings.serving.remembered_completions)
        self.metrics = ApiMetrics()  # the keeper's own: rollout transitions
        self.router_metrics: dict[str, list[Metric]] = {}  # each router's last samples
        self.controller: asyncio.Task[None] | None = None

    async def sync(self, report: Report) -> tuple[Plan, int]:
        """Take a router's report; the plan and its epoch."""
        self._ensure_controller()
        if report.epoch == self.epoch:
            add_tallies(self.tallies, report.tallies, self.plan.versions)
        for completion_id, shown in report.shown:
            self.shown[completion_id] = shown
        if report.metrics:
            self.router_metrics[report.router] = report.metrics
        return self.plan, self.epoch

    async def get_plan(self) -> Plan:
        self._ensure_controller()
        return self.plan

    async def set_plan(self, plan: Plan) -> tuple[Plan, int]:
        """Serve ``plan`` (a new rollout starts counting afresh); the plan replaced and the new
        epoch."""
        self._ensure_controller()
        before, self.plan = self.plan, plan
        self.epoch += 1
        self.tallies = {v: Tally() for v in plan.versions}
        await self._forget(before.versions)
        return before, self.epoch

    async def rollout(self) -> dict[str, Any]:
        """The plan, each version's live figures, the controller's transitions so far and the
        routers that reported."""
        self._ensure_controller()
        figures = {v: asdict(self.tallies.get(v, Tally()).live()) for v in self.plan.versions}
        return {
            "plan": self.plan,
            "figures": figures,
            "transitions": list(self.transitions),
            "routers": len(self.router_metrics),
        }

    async def find_shown(self, completion_id: str) -> Shown | None:
        return self.shown.get(completion_id)

    async def exposition_text(self) -> bytes:
        """Prometheus text: every router's metrics summed, with the rollout transitions."""
        own = list(self.metrics.registry.collect())
        return merged_exposition([*self.router_metrics.values(), own])

    def _ensure_controller(self) -> None:
        if self.controller is None or self.controller.done():
            self.controller = asyncio.get_running_loop().create_task(self._control())

    async def _control(self) -> None:
        while True:
            await asyncio.sleep(self.settings.rollout.interval_s)
            before = self.plan
            step = advance(before, self.tallies, self.settings.rollout)
            if step.outcome == "waiting":
                continue
            self.plan = step.plan
            if step.outcome != "stepped":
                self.tallies = {v: self.tallies.get(v, Tally()) for v in step.plan.versions}
            self.transitions.append(
                {
                    "at": time.time(),
                    "outcome": step.outcome,
                    "version": before.candidate,
                    "weight": step.plan.weight if step.plan.candidate else 0.0,
                    "reason": step.decision.reason,
                }
            )
            self.metrics.rollouts.labels(str(before.candidate), step.outcome).inc()
            log.warning("rollout of %s: %s (%s)", before.candidate, step.outcome, step.decision)
            if step.outcome != "stepped":
                try:
                    await asyncio.to_thread(_record, self.settings, step, before)
                except Exception:
                    log.exception("could not record the rollout of %s", before.candidate)
                await self._forget(before.versions)

    async def _forget(self, versions: list[str]) -> None:
        """Delete the applications of ``versions`` the plan no longer serves."""
        for version in versions:
            if version not in self.plan.versions:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(serve.delete, model_app(version), False)
