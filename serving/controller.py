"""What the router serves and how a rollout moves on: the plan, the live tallies, one step. Pure.

A :class:`Plan` names the stable version and, during a rollout, the new one with its weight:

* ``canary``: the new version takes ``weight`` of the users and grows step by step
  (:attr:`Thresholds.steps`) while :func:`~serving.rollout.judge_canary` says so;
* ``blue-green``: the new (green) version takes all traffic at once, while the old (blue) one
  stays warm at weight 0 to answer should green fail, until green has proved itself over
  ``min_requests_per_step`` requests (or is rolled back to blue);
* ``immediate``: the new version is stable at once; nothing is judged.

:func:`advance` applies the judgement to the plan and says what the registry must record.
"""

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

from common.settings import RolloutSettings
from serving.rollout import Decision, Live, Thresholds, judge_canary

Strategy = Literal["canary", "blue-green", "immediate"]
Outcome = Literal["promoted", "rolled_back", "stepped", "waiting"]


def thresholds(settings: RolloutSettings, first_weight: float | None = None) -> Thresholds:
    """The judge's limits from the settings, the steps starting after ``first_weight``."""
    steps = sorted({w for w in settings.steps if 0 < w <= 1} | {1.0})
    if first_weight is not None:
        steps = sorted({w for w in steps if w > first_weight} | {1.0})
    return Thresholds(
        max_error_rate=settings.max_error_rate,
        max_p95_latency_ms=settings.max_p95_latency_ms,
        acceptance_margin=settings.acceptance_margin,
        min_requests_per_step=settings.min_requests_per_step,
        min_feedback=settings.min_feedback,
        steps=tuple(steps),
    )


@dataclass
class Tally:
    """One version's live figures since the rollout began (mutable: the router counts)."""

    requests: int = 0
    errors: int = 0
    accepted: int = 0
    judged: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2000))

    def served(self, latency_ms: float) -> None:
        self.requests += 1
        self.latencies_ms.append(latency_ms)

    def failed(self) -> None:
        self.requests += 1
        self.errors += 1

    def verdict(self, accepted: bool) -> None:
        self.judged += 1
        self.accepted += accepted

    def add(self, other: "Tally") -> None:
        """Count ``other``'s figures too (another router's, for the same rollout)."""
        self.requests += other.requests
        self.errors += other.errors
        self.accepted += other.accepted
        self.judged += other.judged
        self.latencies_ms.extend(other.latencies_ms)

    def live(self) -> Live:
        return Live(self.requests, self.errors, self.accepted, self.judged, p95(self.latencies_ms))


def p95(values: deque[float] | list[float]) -> float:
    """The 95th percentile (nearest rank) of ``values``, 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class Plan:
    """What is served: ``stable``, and during a rollout ``candidate`` at ``weight``."""

    stable: str
    candidate: str | None = None
    weight: float = 0.0
    strategy: Strategy = "canary"
    step_started_at: int = 0  # the candidate's requests when its current weight was set
    first_weight: float = 0.0

    def shares(self) -> list[tuple[str, float]]:
        """(version, weight) pairs for the router, the candidate first."""
        if self.candidate is None:
            return [(self.stable, 1.0)]
        return [(self.candidate, self.weight), (self.stable, 1.0 - self.weight)]

    @property
    def versions(self) -> list[str]:
        return [v for v, _ in self.shares()]


def rollout_plan(stable: str, candidate: str, strategy: Strategy, weight: float) -> Plan:
    """The plan at the start of rolling ``candidate`` out over ``stable``."""
    if strategy == "immediate":
        return Plan(stable=candidate)
    first = 1.0 if strategy == "blue-green" else weight
    return Plan(stable, candidate, first, strategy, 0, first)


@dataclass(frozen=True, slots=True)
class Step:
    plan: Plan
    outcome: Outcome
    decision: Decision


def advance(plan: Plan, tallies: dict[str, Tally], settings: RolloutSettings) -> Step:
    """The plan after one look at the live figures (a plan with no candidate stays)."""
    if plan.candidate is None:
        return Step(plan, "waiting", Decision("wait", "nothing is rolling out", 0.0))
    canary = tallies.get(plan.candidate, Tally())
    stable = tallies.get(plan.stable, Tally())
    decision = judge_canary(
        canary.live(),
        stable.live(),
        plan.weight,
        canary.requests - plan.step_started_at,
        thresholds(settings, plan.first_weight),
    )
    if decision.action == "rollback":
        return Step(Plan(plan.stable), "rolled_back", decision)
    if decision.action == "wait":
        return Step(plan, "waiting", decision)
    if decision.weight >= 1.0:
        return Step(Plan(plan.candidate), "promoted", decision)
    stepped = replace(plan, weight=decision.weight, step_started_at=canary.requests)
    return Step(stepped, "stepped", decision)
