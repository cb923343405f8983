"""What the routers of the inference API share through its one rollout keeper. Pure.

Each router replica counts on its own and, every :data:`SYNC_S`, sends the keeper a
:class:`Report`: its tallies since the last report (counted under the rollout ``epoch`` the router
knew), the completions it showed (when there are several routers, so that feedback sent to
another one finds them) and its Prometheus samples. The keeper answers with the plan. The keeper
sums the tallies for its controller (:func:`add_tallies`) and the routers' samples for
``/metrics`` (:func:`merged_exposition`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Metric, generate_latest
from prometheus_client.registry import Collector

from serving.controller import Tally
from serving.feedback import Shown

SYNC_S = 0.25  # how often a router reports to the keeper and learns the plan
METRICS_EVERY = 4  # reports: a router's samples go with every fourth (each second)


@dataclass
class Report:
    """One router's news since its last report."""

    router: str
    epoch: int  # the rollout the tallies were counted in (a new plan starts a new one)
    tallies: dict[str, Tally] = field(default_factory=dict)
    shown: list[tuple[str, Shown]] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)


def add_tallies(into: dict[str, Tally], deltas: dict[str, Tally], versions: list[str]) -> None:
    """Add ``deltas`` to ``into``, for the ``versions`` served only."""
    for version, delta in deltas.items():
        if version in versions:
            into.setdefault(version, Tally()).add(delta)


def merged_families(sources: Iterable[Iterable[Metric]]) -> list[Metric]:
    """The metric families of ``sources`` (each router's, the keeper's own), each sample summed
    over the sources (counters and histogram buckets add up; a sample's creation time does not,
    so it is left out)."""
    families: dict[str, Metric] = {}
    totals: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for source in sources:
        for family in source:
            if family.name not in families:
                families[family.name] = Metric(family.name, family.documentation, family.type)
                totals[family.name] = {}
            sums = totals[family.name]
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                key = (sample.name, tuple(sorted(sample.labels.items())))
                sums[key] = sums.get(key, 0.0) + sample.value
    for name, family in families.items():
        for (sample_name, labels), value in totals[name].items():
            family.add_sample(sample_name, dict(labels), value)
    return list(families.values())


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def merged_exposition(sources: Iterable[Iterable[Metric]]) -> bytes:
    """Prometheus text of :func:`merged_families`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(merged_families(sources)))
    return generate_latest(registry)
