"""Admission under load: a token bucket per API key and a cap on requests in flight. Pure
(the clock is passed in), so that overload is answered with 429 and a ``Retry-After`` rather
than with a queue that grows until every request times out."""

from dataclasses import dataclass, field

from cachetools import LRUCache


@dataclass(slots=True)
class Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """``rate`` requests a second per key, bursts of up to ``burst`` (rate 0: no limit)."""

    rate: float
    burst: int
    buckets: LRUCache[str, Bucket] = field(default_factory=lambda: LRUCache(maxsize=100_000))

    def take(self, key: str, now: float, cost: float = 1.0) -> float:
        """0 when ``key`` may go now (the cost is taken), else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.rate


@dataclass
class InFlight:
    """At most ``limit`` requests at once."""

    limit: int
    now: int = 0

    def enter(self) -> bool:
        if self.now >= self.limit:
            return False
        self.now += 1
        return True

    def leave(self) -> None:
        self.now = max(0, self.now - 1)
