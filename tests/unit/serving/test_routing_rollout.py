"""Weighted sticky routing and the canary judgement (promote, roll back, wait), including a
simulated rollout at 10 requests a second."""

import random

import pytest

from serving.rollout import Live, Thresholds, judge_canary, wilson
from serving.routing import fallback, pick_version, user_point

USERS = [f"key-{i}" for i in range(5000)]


def test_a_user_always_gets_the_same_version_and_shares_follow_the_weights() -> None:
    shares = [("0.2.0", 0.2), ("0.1.0", 0.8)]
    picked = [pick_version(shares, user) for user in USERS]
    assert picked == [pick_version(shares, user) for user in USERS]
    assert 0.18 < picked.count("0.2.0") / len(USERS) < 0.22
    assert min(map(user_point, USERS)) >= 0 and max(map(user_point, USERS)) < 1


def test_a_growing_canary_keeps_the_users_it_had() -> None:
    small = {u for u in USERS if pick_version([("c", 20), ("s", 80)], u) == "c"}
    large = {u for u in USERS if pick_version([("c", 50), ("s", 50)], u) == "c"}
    assert small < large and 0.45 < len(large) / len(USERS) < 0.55


def test_a_version_of_weight_zero_is_never_picked() -> None:
    assert {pick_version([("c", 0), ("s", 1)], u) for u in USERS[:500]} == {"s"}
    with pytest.raises(ValueError, match="positive"):
        pick_version([("c", 0)], "u")


def test_a_failed_canary_falls_back_to_the_stable_version() -> None:
    shares = [("0.3.0", 0.2), ("0.2.0", 0.8)]
    assert fallback(shares, "0.3.0") == "0.2.0"
    assert fallback(shares, "0.2.0") == "0.3.0"  # the stable failed: the canary is all there is
    assert fallback([("0.2.0", 1.0)], "0.2.0") is None
    assert fallback([("0.3.0", 0.0), ("0.2.0", 1.0)], "0.2.0") == "0.3.0"  # blue, kept warm


def test_wilson_intervals_match_known_values() -> None:
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


LIMITS = Thresholds()
STABLE = Live(requests=2000, errors=2, accepted=600, judged=1000)  # 60 % accepted


def test_a_failing_canary_is_rolled_back_after_a_few_errors() -> None:
    decision = judge_canary(Live(requests=3, errors=3), STABLE, 0.1, 3, LIMITS)
    assert decision.action == "rollback" and decision.weight == 0.0
    assert "error rate 3/3" in decision.reason


def test_a_slow_canary_is_rolled_back_once_it_has_served_enough() -> None:
    slow = Live(requests=40, p95_latency_ms=2500)
    assert judge_canary(slow, STABLE, 0.1, 40, LIMITS).action == "rollback"
    assert judge_canary(Live(requests=5, p95_latency_ms=2500), STABLE, 0.1, 5, LIMITS).action == (
        "wait"
    )


def test_a_canary_developers_reject_more_is_rolled_back() -> None:
    worse = Live(requests=200, accepted=8, judged=40)  # 20 % against the stable's 60 %
    decision = judge_canary(worse, STABLE, 0.25, 100, LIMITS)
    assert decision.action == "rollback" and "acceptance 8/40" in decision.reason


def test_a_healthy_canary_waits_for_evidence_then_steps_up() -> None:
    assert judge_canary(Live(requests=10), STABLE, 0.1, 10, LIMITS).action == "wait"
    step = judge_canary(Live(requests=80), STABLE, 0.1, 80, LIMITS)
    assert (step.action, step.weight) == ("promote", 0.25)
    last = judge_canary(Live(requests=400, accepted=30, judged=50), STABLE, 0.5, 60, LIMITS)
    assert (last.action, last.weight) == ("promote", 1.0)
    doubtful = Live(requests=400, accepted=24, judged=50)  # 48 %: worse, not significantly
    assert judge_canary(doubtful, STABLE, 0.5, 60, LIMITS).action == "wait"


def test_at_ten_requests_a_second_a_healthy_canary_reaches_all_traffic_within_five_minutes() -> (
    None
):
    draw = random.Random(7)
    weight, served, errors, accepted, judged, since_step = 0.1, 0, 0, 0, 0, 0
    for second in range(1, 601):
        for _ in range(10):
            if draw.random() >= weight:
                continue
            served, since_step = served + 1, since_step + 1
            errors += draw.random() < 0.005  # as rare as on the stable version
            if draw.random() < 0.3:  # three in ten completions get a verdict
                judged += 1
                accepted += draw.random() < 0.6
        if second % 5 == 0:  # the controller looks every five seconds
            canary = Live(served, errors, accepted, judged, p95_latency_ms=120)
            decision = judge_canary(canary, STABLE, weight, since_step, LIMITS)
            assert decision.action != "rollback", decision.reason
            if decision.action == "promote":
                weight, since_step = decision.weight, 0
            if weight >= 1.0:
                break
    assert weight == 1.0 and second <= 300
