"""The Helm chart's RayService serve config, applied as KubeRay applies it: a declarative config
handed to a real Serve controller, which imports ``serving.entry:router`` in a Ray task and calls
it with the config's args. The builder reads the registry (on Delta, events on the broker),
starts the model applications of the live version and the canary itself, and the API answers
from them. ``tests/unit/infra`` checks the config's names; this runs them.

On a cluster the ``CODEMILL_*`` variables are the Ray pods' environment; here the config's
``runtime_env`` carries this test's settings to the builder's task and the replicas.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import ray
import yaml
from ray import serve
from ray.serve.context import _get_global_client
from ray.serve.schema import ServeDeploySchema

from common.ray_cluster import join
from common.settings import Settings
from infra.stack import local_stack
from serving.app import APP_NAME, model_app
from tests.integration.conftest import eventually, serving_settings
from tests.support.adapters import blessed, fine_tune
from tests.support.http import json_call
from tests.unit.infra.rendering import RELEASE, objects, one
from training.registry import Registry, kafka_publisher
from training.tiny import train_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
KEY = "ide-key-serveconfig-0123456789"


@dataclass
class Cluster:
    api: str
    settings: Settings


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A running Serve with no application, a registry whose 0.1.0 is live and 0.2.0 a canary."""
    home = tmp_path_factory.mktemp("serveconfig")
    base = train_tiny(home / "tiny", minutes=0.2, max_steps=40)
    settings = serving_settings(home, f"{KEY}:complete+feedback")
    port = settings.serving.port
    with local_stack(settings, worker=False) as stack:
        live = stack.settings
        registry = Registry(live, publisher=kafka_publisher(live))
        blessed(registry, "0.1.0", base, fine_tune(base, home / "a1"))
        registry.set_status("0.1.0", "live", "promoted")
        blessed(registry, "0.2.0", base, fine_tune(base, home / "a2", steps=4))
        registry.set_status("0.2.0", "canary", "canary started")
        try:
            join(live)
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            yield Cluster(f"http://127.0.0.1:{port}", live)
        finally:
            serve.shutdown()
            ray.shutdown()


def chart_serve_config(settings: Settings) -> ServeDeploySchema:
    """The chart's serveConfigV2 (default values: external Kafka), with this machine's HTTP
    address and settings."""
    service = one(objects("external-kafka"), "RayService", f"{RELEASE}-serving")
    config: dict[str, Any] = yaml.safe_load(service["spec"]["serveConfigV2"])
    config["http_options"] = {"host": "127.0.0.1", "port": settings.serving.port}
    env = {
        "CODEMILL_HOME": str(settings.home),
        "CODEMILL_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "CODEMILL_API_KEYS": settings.api_keys,
        "CODEMILL_SERVING_CPUS_PER_REPLICA": str(settings.serving.cpus_per_replica),
        "CODEMILL_SERVING_RATE_LIMIT": "0",
    }
    for app in config["applications"]:
        app["runtime_env"] = {**app.get("runtime_env", {}), "env_vars": env}
    return ServeDeploySchema.model_validate(config)


def running(names: set[str]) -> bool:
    applications = serve.status().applications
    return all(name in applications and applications[name].status == "RUNNING" for name in names)


def test_the_charts_serve_config_comes_up_serving_the_registrys_versions(cluster: Cluster) -> None:
    config = chart_serve_config(cluster.settings)
    assert [app.import_path for app in config.applications] == ["serving.entry:router"]
    _get_global_client().deploy_apps(config)
    versions = {model_app("0.1.0"), model_app("0.2.0")}
    eventually(lambda: running({APP_NAME, *versions}), timeout=300, every=1.0)

    served: set[str] = set()
    for n in range(40):
        body = {"prompt": "def add(a, b):\n", "max_tokens": 4, "user": f"dev-{n}"}
        status, answer = json_call(f"{cluster.api}/v1/completions", body, key=KEY)
        assert status == 200, answer
        served.add(answer["model_version"])
    assert served <= {"0.1.0", "0.2.0"} and "0.1.0" in served

    # A second apply (an upgrade of the chart) starts nothing twice and keeps serving.
    _get_global_client().deploy_apps(config)
    eventually(lambda: running({APP_NAME, *versions}), timeout=120, every=1.0)
    status, _ = json_call(f"{cluster.api}/v1/completions", {"prompt": "x = "}, key=KEY)
    assert status == 200
