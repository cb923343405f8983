"""serving.entry's router builder, as a cluster's Serve controller calls it: it serves the
registry's plan and starts the model applications that plan needs and Serve lacks.
(No Ray runs: Serve's status and run calls are stood in for.)"""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ray import serve
from ray.serve._private.api import call_user_app_builder_with_args_if_necessary

import serving.deploy
from common.settings import Settings
from serving import entry
from serving.app import ServedVersion
from serving.controller import Plan, rollout_plan


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """Serve runs ``codemill-model-0.1.0`` already; returns the targets ``run_many`` gets."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CODEMILL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CODEMILL_KAFKA_BOOTSTRAP", raising=False)
    plan = rollout_plan("0.1.0", "0.2.0", "canary", 0.1)
    versions = [ServedVersion("0.1.0", "/base", "/a1"), ServedVersion("0.2.0", "/base", "/a2")]
    monkeypatch.setattr(serving.deploy, "initial_plan", lambda settings, registry: (plan, versions))
    status = SimpleNamespace(applications={"codemill": None, "codemill-model-0.1.0": None})
    monkeypatch.setattr(serve, "status", lambda: status)
    started: list[Any] = []

    def run_many(targets: list[Any], **waits: bool) -> None:
        assert waits == {
            "wait_for_ingress_deployment_creation": False,
            "wait_for_applications_running": False,
        }
        started.extend(targets)

    monkeypatch.setattr(serve, "run_many", run_many)
    return started


def test_router_starts_the_missing_versions_and_serves_the_plan(cluster: list[Any]) -> None:
    app = call_user_app_builder_with_args_if_necessary(entry.router, {})
    (target,) = cluster
    assert target.name == "codemill-model-0.2.0" and target.route_prefix is None
    assert target.target._bound_deployment.name == "model"
    router = app._bound_deployment
    assert router.name == "Router"
    plan = router.init_args[1]
    assert isinstance(plan, Plan) and plan.candidate == "0.2.0"
    max_in_flight = Settings().serving.max_in_flight
    assert router._deployment_config.max_ongoing_requests == 2 * max_in_flight


def test_router_can_leave_models_to_someone_else(cluster: list[Any]) -> None:
    call_user_app_builder_with_args_if_necessary(entry.router, {"start_models": False})
    assert cluster == []


def test_start_missing_starts_nothing_twice(cluster: list[Any]) -> None:
    versions = [ServedVersion("0.1.0", "/base")]
    assert entry.start_missing(Settings(), versions) == []
    assert cluster == []


def test_replicas_ask_ray_for_gpus_only_when_configured() -> None:
    cpu = entry.model_options(Settings().serving)
    assert cpu["ray_actor_options"] == {"num_cpus": 1.0}
    gpu = entry.model_options(Settings().serving.model_copy(update={"gpus_per_replica": 1}))
    assert gpu["ray_actor_options"] == {"num_cpus": 1.0, "num_gpus": 1}
