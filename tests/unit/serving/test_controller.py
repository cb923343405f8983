"""The rollout plan moved on by the live figures: steps, promotion, rollback, blue-green."""

from common.settings import RolloutSettings
from serving.controller import Plan, Tally, advance, p95, rollout_plan, thresholds

SETTINGS = RolloutSettings(min_requests_per_step=10, steps=[0.1, 0.25, 0.5, 1.0])


def tallies(canary: Tally, stable: Tally | None = None) -> dict[str, Tally]:
    return {"0.2.0": canary, "0.1.0": stable or Tally()}


def served(n: int, latency_ms: float = 20.0) -> Tally:
    tally = Tally()
    for _ in range(n):
        tally.served(latency_ms)
    return tally


def test_plans_of_each_strategy_and_their_shares() -> None:
    canary = rollout_plan("0.1.0", "0.2.0", "canary", 0.2)
    assert canary.shares() == [("0.2.0", 0.2), ("0.1.0", 0.8)]
    green = rollout_plan("0.1.0", "0.2.0", "blue-green", 0.2)
    assert green.shares() == [("0.2.0", 1.0), ("0.1.0", 0.0)]  # blue kept warm, unrouted
    assert rollout_plan("0.1.0", "0.2.0", "immediate", 0.2) == Plan("0.2.0")
    assert Plan("base").shares() == [("base", 1.0)]


def test_the_steps_start_after_the_first_weight() -> None:
    assert thresholds(SETTINGS, 0.2).steps == (0.25, 0.5, 1.0)
    assert thresholds(SETTINGS, 0.5).steps == (1.0,)
    assert thresholds(RolloutSettings(steps=[0.3])).steps == (0.3, 1.0)


def test_a_healthy_canary_steps_up_then_is_promoted() -> None:
    plan = rollout_plan("0.1.0", "0.2.0", "canary", 0.2)
    assert advance(plan, tallies(served(5)), SETTINGS).outcome == "waiting"
    canary = served(12)  # enough for a step, not to bound the error rate under 5 %
    assert advance(plan, tallies(canary), SETTINGS).outcome == "waiting"
    canary = served(80)
    step = advance(plan, tallies(canary), SETTINGS)
    assert (step.outcome, step.plan.weight, step.plan.step_started_at) == ("stepped", 0.25, 80)
    assert advance(step.plan, tallies(canary), SETTINGS).outcome == "waiting"  # a new step
    for _ in range(10):
        canary.served(20.0)
    step = advance(step.plan, tallies(canary), SETTINGS)
    assert (step.outcome, step.plan.weight) == ("stepped", 0.5)
    for _ in range(10):
        canary.served(20.0)
    step = advance(step.plan, tallies(canary), SETTINGS)
    assert step.outcome == "promoted" and step.plan == Plan("0.2.0")


def test_a_failing_canary_is_rolled_back_to_the_stable_version() -> None:
    plan = rollout_plan("0.1.0", "0.2.0", "canary", 0.2)
    canary = Tally()
    for _ in range(4):
        canary.failed()
    step = advance(plan, tallies(canary), SETTINGS)
    assert step.outcome == "rolled_back" and step.plan == Plan("0.1.0")
    assert "error rate 4/4" in step.decision.reason


def test_a_rejected_canary_is_rolled_back_on_feedback() -> None:
    plan = rollout_plan("0.1.0", "0.2.0", "canary", 0.5)
    stable, canary = served(100), served(60)
    for accepted in [True] * 70 + [False] * 30:
        stable.verdict(accepted)
    for accepted in [True] * 5 + [False] * 25:
        canary.verdict(accepted)
    step = advance(plan, tallies(canary, stable), SETTINGS)
    assert step.outcome == "rolled_back" and "acceptance 5/30" in step.decision.reason


def test_blue_green_switches_at_once_and_is_confirmed_or_switched_back() -> None:
    plan = rollout_plan("0.1.0", "0.2.0", "blue-green", 0.1)
    assert advance(plan, tallies(served(12)), SETTINGS).outcome == "waiting"
    assert advance(plan, tallies(served(80)), SETTINGS).plan == Plan("0.2.0")
    broken = Tally()
    for _ in range(3):
        broken.failed()
    assert advance(plan, tallies(broken), SETTINGS).plan == Plan("0.1.0")


def test_nothing_rolls_out_without_a_candidate() -> None:
    assert advance(Plan("0.1.0"), {}, SETTINGS).outcome == "waiting"


def test_p95_is_the_nearest_rank() -> None:
    assert p95([]) == 0.0
    assert p95([float(v) for v in range(1, 101)]) == 95.0
    assert served(3, 40.0).live().p95_latency_ms == 40.0
