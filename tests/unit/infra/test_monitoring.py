"""Prometheus rules and the Grafana dashboard name only metrics codemill exports, and the chart
ships the same files as infra/."""

import ast
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.settings import DriftSettings, ServingSettings, WebhookSettings, WorkerSettings
from tests.unit.infra.rendering import CHART, ROOT, custom_validator

RULES = ROOT / "infra" / "prometheus" / "rules" / "codemill.rules.yml"
DASHBOARD = ROOT / "infra" / "grafana" / "codemill.json"
METRIC = re.compile(r"\bcodemill_[a-z0-9_]+\b")
KINDS = {"Counter", "Gauge", "Histogram", "Summary"}


@cache
def exported_metrics() -> frozenset[str]:
    """Every sample name the code's prometheus-client metrics export, found by reading the
    source (so a module being written elsewhere needs no import): counters gain `_total`,
    histograms `_bucket`, `_sum` and `_count`."""
    names: set[str] = set()
    for package in ("common", "streams", "training", "serving"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                func = node.func
                kind = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                first = node.args[0]
                if kind in KINDS and isinstance(first, ast.Constant):
                    names |= _samples(kind, str(first.value))
    return frozenset(names)


def _samples(kind: str, name: str) -> set[str]:
    if kind == "Counter":
        return {f"{name.removesuffix('_total')}_total"}
    if kind == "Histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    if kind == "Summary":
        return {name, f"{name}_sum", f"{name}_count"}
    return {name}


def test_metrics_are_found_in_the_code() -> None:
    found = exported_metrics()
    assert {
        "codemill_webhook_requests_total",
        "codemill_completions_total",  # declared as codemill_completions
        "codemill_completion_latency_seconds_bucket",
        "codemill_consumer_lag",
    } <= found
    assert "codemill_completions" not in found


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_rules_file_is_a_valid_prometheus_rule_spec() -> None:
    spec = yaml.safe_load(RULES.read_text())
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "codemill"},
        "spec": spec,
    }
    custom_validator("prometheusrule-monitoring-v1.json").validate(resource)
    names = [r["alert"] for r in rules()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", rules(), ids=lambda r: str(r["alert"]))
def test_each_alert_names_real_metrics(rule: dict[str, Any]) -> None:
    used = set(METRIC.findall(rule["expr"]))
    assert used, "an alert on no codemill metric"
    assert used <= exported_metrics(), used - exported_metrics()
    assert _balanced(rule["expr"])
    assert rule["labels"]["severity"] in ("info", "warning", "critical")
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def _balanced(expr: str) -> bool:
    depth = {"(": 0, "{": 0, "[": 0}
    closing = {")": "(", "}": "{", "]": "["}
    for char in re.sub(r'"[^"]*"', "", expr):
        if char in depth:
            depth[char] += 1
        elif char in closing:
            depth[closing[char]] -= 1
            if depth[closing[char]] < 0:
                return False
    return all(v == 0 for v in depth.values())


def test_the_drift_and_rollout_alerts_are_there() -> None:
    exprs = " ".join(r["expr"] for r in rules())
    for metric in (
        "codemill_drift_detected",
        "codemill_drift_share",
        "codemill_drift_last_run_timestamp_seconds",
        "codemill_rollout_transitions_total",
        "codemill_training_runs_total",
        "codemill_completion_errors_total",
        "codemill_consumer_lag",
    ):
        assert metric in exprs


def panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_dashboard_loads_with_unique_panels_on_a_prometheus_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    (variable,) = dashboard["templating"]["list"]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    for panel in panels():
        assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.parametrize("panel", panels(), ids=lambda p: str(p["title"]))
def test_each_panel_queries_real_metrics(panel: dict[str, Any]) -> None:
    assert panel["targets"]
    for target in panel["targets"]:
        used = set(METRIC.findall(target["expr"]))
        assert used and used <= exported_metrics(), used - exported_metrics()
        assert _balanced(target["expr"])


def test_dashboard_shows_what_operators_ask_for() -> None:
    exprs = " ".join(t["expr"] for p in panels() for t in p["targets"])
    for metric in (
        "codemill_push_events_total",  # ingest rate
        "codemill_consumer_lag",
        "codemill_rejects_total",
        "codemill_training_runs_total",
        "codemill_completion_latency_seconds_bucket",
        "codemill_feedback_total",  # acceptance by version
        "codemill_drift_share",
    ):
        assert metric in exprs


def test_infra_uses_the_charts_rules_and_dashboard_not_copies() -> None:
    assert RULES.resolve() == (CHART / "files" / "codemill.rules.yml").resolve()
    assert DASHBOARD.resolve() == (CHART / "files" / "codemill-dashboard.json").resolve()


def test_prometheus_scrapes_every_role_on_its_port() -> None:
    config = yaml.safe_load((ROOT / "infra" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"][0] for job in config["scrape_configs"]
    }
    assert targets == {
        "codemill-receiver": f"receiver:{WebhookSettings().port}",
        "codemill-worker": f"worker:{WorkerSettings().port}",
        "codemill-loop": f"loop:{DriftSettings().port}",
        "codemill-api": f"serving:{ServingSettings().port}",
    }
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    assert RULES.parent.name == "rules" and Path(RULES).suffix == ".yml"
