"""The rollout controller's judgement of a canary against the stable version. Pure.

A sequential test, looked at again every few seconds as requests arrive: each look compares the
canary's live figures with bounds at 95 % confidence (Wilson score intervals for proportions),
so it acts as soon as the evidence is enough rather than after a fixed wait.

* **Roll back** when the canary's error rate is above ``max_error_rate`` with confidence, its
  p95 latency is above the limit over enough requests, or its acceptance rate is below the stable
  version's minus ``acceptance_margin`` with confidence.
* **Promote one step** (the next weight, and at the last step all traffic) when it has served
  ``min_requests_per_step`` requests since the last step, its error rate is below the limit with
  confidence and, where developers gave at least ``min_feedback`` verdicts, its observed
  acceptance is not below the stable version's minus the margin (proving it equal with
  confidence would take hundreds of verdicts per step: a significantly worse one is rolled back).

The figures are counted since the canary started, so evidence gathered at 10 % still counts at
50 %: at 10 requests a second a healthy canary reaches all traffic in 1.5 to 4 minutes with the
defaults (simulated in the tests; Flagger's defaults take 25), and a failing one is rolled back
after a handful of errors.
* Otherwise **wait**.
"""

import math
from dataclasses import dataclass
from typing import Literal

Action = Literal["promote", "rollback", "wait"]
Z95 = 1.96


@dataclass(frozen=True, slots=True)
class Live:
    """One version's figures since the canary started."""

    requests: int = 0
    errors: int = 0
    accepted: int = 0  # feedback: completions accepted ...
    judged: int = 0  # ... out of those accepted or rejected
    p95_latency_ms: float = 0.0

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.judged if self.judged else None


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_error_rate: float = 0.05
    max_p95_latency_ms: float = 1000.0
    acceptance_margin: float = 0.05
    min_requests_per_step: int = 30
    min_feedback: int = 20
    steps: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)  # canary weights, the last = promoted


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str
    weight: float  # the canary's weight after the decision (0 after a rollback)


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (0, 1 with no trials)."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def judge_canary(
    canary: Live, stable: Live, weight: float, since_step: int, limits: Thresholds
) -> Decision:
    """What to do with a canary at ``weight``, given both versions' live figures and the
    canary's requests since its last step."""
    errors_low, errors_high = wilson(canary.errors, canary.requests)
    if errors_low > limits.max_error_rate:
        return Decision(
            "rollback",
            f"error rate {canary.errors}/{canary.requests} is above "
            f"{limits.max_error_rate:.1%} with 95% confidence",
            0.0,
        )
    if canary.requests >= limits.min_requests_per_step and (
        canary.p95_latency_ms > limits.max_p95_latency_ms
    ):
        return Decision(
            "rollback",
            f"p95 latency {canary.p95_latency_ms:.0f} ms is above "
            f"{limits.max_p95_latency_ms:.0f} ms over {canary.requests} requests",
            0.0,
        )
    # The acceptance the canary must match, where both sides have enough verdicts (else None).
    floor = None
    if stable.acceptance is not None and canary.judged >= limits.min_feedback:
        floor = stable.acceptance - limits.acceptance_margin
    accepted_low, accepted_high = wilson(canary.accepted, canary.judged)
    if floor is not None and accepted_high < floor:
        return Decision(
            "rollback",
            f"acceptance {canary.accepted}/{canary.judged} is below the stable version's "
            f"minus {limits.acceptance_margin:.0%} ({floor:.1%}) with 95% confidence",
            0.0,
        )
    if since_step < limits.min_requests_per_step:
        return Decision(
            "wait", f"{since_step}/{limits.min_requests_per_step} requests this step", weight
        )
    if errors_high > limits.max_error_rate:
        return Decision("wait", f"error rate not yet below {limits.max_error_rate:.1%}", weight)
    if floor is not None and accepted_low < floor and (canary.acceptance or 0.0) < floor:
        return Decision("wait", "acceptance below the stable's, not yet significantly", weight)
    following = next((w for w in limits.steps if w > weight), 1.0)
    return Decision(
        "promote",
        f"{canary.requests} requests, error rate under {limits.max_error_rate:.1%}"
        + (f", acceptance {canary.accepted}/{canary.judged}" if canary.judged else ""),
        following,
    )
