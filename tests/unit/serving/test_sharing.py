"""What routers share through the keeper: tallies added up, metrics summed into one exposition."""

from prometheus_client.parser import text_string_to_metric_families

from common.settings import RolloutSettings
from serving.controller import Plan, Tally, advance
from serving.metrics import ApiMetrics
from serving.sharing import add_tallies, merged_exposition


def _tally(served: int, failed: int = 0) -> Tally:
    tally = Tally()
    for _ in range(served):
        tally.served(100.0)
    for _ in range(failed):
        tally.failed()
    return tally


def test_tallies_of_several_routers_add_up_for_the_versions_served() -> None:
    summed = {"base": _tally(3)}
    add_tallies(summed, {"base": _tally(2, failed=1), "0.1.0": _tally(4)}, ["base", "0.1.0"])
    add_tallies(summed, {"gone": _tally(9)}, ["base", "0.1.0"])
    assert summed["base"].requests == 6 and summed["base"].errors == 1
    assert len(summed["base"].latencies_ms) == 5
    assert summed["0.1.0"].requests == 4
    assert "gone" not in summed


def test_a_canary_failing_on_two_routers_is_rolled_back_on_their_sum() -> None:
    """One failure in five requests is not yet evidence enough; two in ten are."""
    plan = Plan("base", "0.1.0", 0.1, "canary", 0, 0.1)
    settings = RolloutSettings()
    one = {"0.1.0": _tally(4, failed=1), "base": _tally(100)}
    other = {"0.1.0": _tally(4, failed=1), "base": _tally(100)}
    assert advance(plan, one, settings).outcome == "waiting"
    summed: dict[str, Tally] = {}
    add_tallies(summed, one, plan.versions)
    add_tallies(summed, other, plan.versions)
    assert advance(plan, summed, settings).outcome == "rolled_back"


def _families(text: bytes) -> dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    found: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            found.setdefault(family.name, {})[key] = sample.value
    return found


def test_the_routers_metrics_are_summed_into_one_exposition() -> None:
    routers = [ApiMetrics(), ApiMetrics()]
    for metrics, count in zip(routers, (3, 4), strict=True):
        for _ in range(count):
            metrics.requests.labels("base").inc()
            metrics.latency.labels("base").observe(0.02)
        metrics.tokens.labels("base").inc(16 * count)
    routers[1].errors.labels("0.1.0").inc()
    keeper = ApiMetrics()
    keeper.rollouts.labels("0.1.0", "rolled_back").inc()

    sources = [list(m.registry.collect()) for m in (*routers, keeper)]
    found = _families(merged_exposition(sources))

    assert (
        found["codemill_completions"][("codemill_completions_total", (("version", "base"),))] == 7
    )
    tokens = found["codemill_completion_tokens"]
    assert tokens[("codemill_completion_tokens_total", (("version", "base"),))] == 112
    errors = found["codemill_completion_errors"]
    assert errors[("codemill_completion_errors_total", (("version", "0.1.0"),))] == 1
    latency = found["codemill_completion_latency_seconds"]
    assert latency[("codemill_completion_latency_seconds_count", (("version", "base"),))] == 7
    bucket = ("codemill_completion_latency_seconds_bucket", (("le", "0.025"), ("version", "base")))
    assert latency[bucket] == 7
    rollouts = found["codemill_rollout_transitions"]
    key = ("codemill_rollout_transitions_total", (("outcome", "rolled_back"), ("version", "0.1.0")))
    assert rollouts[key] == 1
    assert not any(name.endswith("_created") for f in found.values() for name, _ in f)
