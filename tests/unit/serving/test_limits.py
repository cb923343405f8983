"""Admission: per-key token buckets and the cap on requests in flight."""

import pytest

from serving.limits import InFlight, RateLimiter


def test_a_key_gets_its_burst_then_its_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", 0.0) == pytest.approx(0.5)  # one token comes every 0.5 s
    assert limiter.take("b", 0.0) == 0.0  # another key has its own bucket
    assert limiter.take("a", 0.5) == 0.0
    assert limiter.take("a", 0.5) > 0
    assert limiter.take("a", 100.0) == 0.0  # refilled, up to the burst only
    assert [limiter.take("a", 100.0) for _ in range(3)][-1] > 0


def test_rate_zero_means_no_limit() -> None:
    limiter = RateLimiter(rate=0.0, burst=1)
    assert all(limiter.take("a", 0.0) == 0.0 for _ in range(1000))


def test_in_flight_refuses_past_the_limit_and_frees_on_leave() -> None:
    gate = InFlight(2)
    assert gate.enter() and gate.enter() and not gate.enter()
    gate.leave()
    assert gate.enter()
    for _ in range(5):
        gate.leave()
    assert gate.now == 0
