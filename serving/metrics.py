"""The inference API's Prometheus metrics, labelled by model version: what the rollout
controller and the dashboards read."""

from prometheus_client import CollectorRegistry, Counter, Histogram


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "codemill_completions", "Completion requests", ["version"], registry=self.registry
        )
        self.errors = Counter(
            "codemill_completion_errors", "Failed completions", ["version"], registry=self.registry
        )
        self.refused = Counter(
            "codemill_refused_requests", "Requests refused", ["reason"], registry=self.registry
        )
        self.cache_hits = Counter(
            "codemill_cache_hits",
            "Completions answered from the cache",
            ["version"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "codemill_feedback",
            "Feedback on completions",
            ["version", "kind"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "codemill_completion_tokens", "Tokens generated", ["version"], registry=self.registry
        )
        self.rollouts = Counter(
            "codemill_rollout_transitions",
            "Rollout steps, promotions and rollbacks",
            ["version", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "codemill_completion_latency_seconds",
            "Completion latency",
            ["version"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
