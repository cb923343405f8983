"""The chart cannot drift from the code: the RayService's Serve config names serving.entry's
builders with arguments they accept, on the port the settings say, and every CODEMILL_* variable
the chart sets is a real setting that parses."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from ray._common.utils import import_attr
from ray.serve._private.api import call_user_app_builder_with_args_if_necessary
from ray.serve.deployment import Application
from ray.serve.schema import ServeDeploySchema

from common.ray_cluster import SERVE_FAST_PATH
from common.settings import Section, Settings
from serving import entry
from serving.app import APP_NAME, model_app
from tests.unit.infra.rendering import (
    RELEASE,
    VALUE_SETS,
    Object,
    containers,
    embedded_rayjobs,
    env_of,
    find,
    objects,
    one,
    pod_templates,
)


def serve_config(value_set: str) -> ServeDeploySchema:
    """The RayService's serveConfigV2, parsed by Ray Serve's own schema (unknown keys refused)."""
    service = one(objects(value_set), "RayService", f"{RELEASE}-serving")
    return ServeDeploySchema.model_validate(yaml.safe_load(service["spec"]["serveConfigV2"]))


def ray_serving_env(value_set: str) -> Iterator[dict[str, Object]]:
    service = one(objects(value_set), "RayService", f"{RELEASE}-serving")
    for _, template in pod_templates(service):
        for container in containers(template):
            yield env_of(container)


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_the_serve_config_names_the_router_builder(value_set: str) -> None:
    config = serve_config(value_set)
    (router,) = config.applications
    assert router.name == entry.ROUTER_APP == APP_NAME
    assert router.import_path == entry.ROUTER_IMPORT_PATH
    assert router.route_prefix == entry.ROUTE_PREFIX
    entry.RouterArgs.model_validate(router.args)  # what Ray does with the builder's annotation
    assert config.http_options.host == "0.0.0.0"
    for env in ray_serving_env(value_set):
        assert int(env["CODEMILL_SERVING_PORT"]["value"]) == config.http_options.port
        assert env["CODEMILL_SERVING_HOST"]["value"] == "0.0.0.0"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_serving_pods_run_serve_on_the_fast_path_codemill_up_uses(value_set: str) -> None:
    for env in ray_serving_env(value_set):
        assert {name: env[name]["value"] for name in SERVE_FAST_PATH} == SERVE_FAST_PATH


@pytest.mark.parametrize("path", [entry.ROUTER_IMPORT_PATH, entry.MODEL_IMPORT_PATH])
def test_import_paths_resolve_to_application_builders(path: str) -> None:
    builder = import_attr(path)  # as Ray Serve's build task resolves it
    assert callable(builder)
    annotation = next(iter(builder.__annotations__.values()))
    assert issubclass(annotation, BaseModel)
    assert builder.__annotations__["return"] is Application


def test_the_model_builder_builds_what_codemill_up_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in next(ray_serving_env("gpu-on")).items():
        if "value" in value and name.startswith("CODEMILL_"):
            monkeypatch.setenv(name, value["value"])
    args = {"version": "0.3.0", "base_path": "/models/base", "adapter_path": "/models/a"}
    built = call_user_app_builder_with_args_if_necessary(import_attr(entry.MODEL_IMPORT_PATH), args)
    settings = Settings()
    deployment = built._bound_deployment  # the same options `codemill up` gives the version
    assert deployment.name == "model"
    assert deployment.ray_actor_options == {
        "num_cpus": settings.serving.cpus_per_replica,
        "num_gpus": 1.0,  # the chart's GPU worker group is on: each replica takes one
    }
    assert deployment._deployment_config.autoscaling_config.max_replicas == (
        settings.serving.max_replicas
    )
    assert model_app(args["version"]) == "codemill-model-0.3.0"
    with pytest.raises(ValueError, match="typo"):
        call_user_app_builder_with_args_if_necessary(
            import_attr(entry.MODEL_IMPORT_PATH), {**args, "typo": "x"}
        )


def every_container_env(value_set: str) -> Iterator[tuple[str, dict[str, Object]]]:
    items = objects(value_set)
    for obj in items + embedded_rayjobs(items):
        for where, template in pod_templates(obj):
            for container in containers(template):
                yield f"{obj['kind']} {where} {container['name']}", env_of(container)


def setting_exists(variable: str) -> bool:
    """Whether CODEMILL_<...> names a field of Settings, as its env source reads it: a
    top-level field, or <section>_<field> (nested delimiter "_", split once)."""
    key = variable.removeprefix("CODEMILL_").lower()
    fields = Settings.model_fields
    if key in fields and not _is_section(key):
        return True
    head, _, rest = key.partition("_")
    return head in fields and _is_section(head) and rest in _section(head).model_fields


def _is_section(name: str) -> bool:
    annotation = Settings.model_fields[name].annotation
    return isinstance(annotation, type) and issubclass(annotation, Section)


def _section(name: str) -> type[Section]:
    annotation = Settings.model_fields[name].annotation
    assert isinstance(annotation, type) and issubclass(annotation, Section)
    return annotation


def test_setting_names_are_walked_like_pydantic_settings() -> None:
    assert setting_exists("CODEMILL_API_KEYS")
    assert setting_exists("CODEMILL_KAFKA_SASL_PASSWORD")
    assert setting_exists("CODEMILL_TRAINING_USE_GPU")
    assert not setting_exists("CODEMILL_KAFKA")
    assert not setting_exists("CODEMILL_SERVING_PROT")
    assert not setting_exists("CODEMILL_APIKEYS")


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_codemill_variable_is_a_setting_that_parses(
    value_set: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no codemill.toml
    for where, env in every_container_env(value_set):
        names = [n for n in env if n.startswith("CODEMILL_")]
        unknown = [n for n in names if not setting_exists(n)]
        assert not unknown, f"{where}: not settings: {unknown}"
        for name in list(os.environ):
            if name.startswith("CODEMILL_"):
                monkeypatch.delenv(name)
        for name in names:
            monkeypatch.setenv(name, env[name].get("value", "from-a-secret"))
        settings = Settings()  # types and section keys checked by the model itself
        assert str(settings.home) == env["CODEMILL_HOME"]["value"]
        assert settings.kafka.bootstrap == env["CODEMILL_KAFKA_BOOTSTRAP"]["value"]


def test_role_variables_match_the_ports_the_pods_open() -> None:
    items = objects("external-kafka")
    ports = {
        "receiver": "CODEMILL_WEBHOOK_PORT",
        "worker": "CODEMILL_WORKER_PORT",
        "loop": "CODEMILL_DRIFT_PORT",
    }
    for role, variable in ports.items():
        deployment = one(items, "Deployment", f"{RELEASE}-{role}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"] == [role]
        (port,) = container["ports"]
        assert int(env_of(container)[variable]["value"]) == port["containerPort"]
        probe = container["readinessProbe"]
        assert probe.get("httpGet", {}).get("path") in ("/healthz", None)
    assert find(items, "StatefulSet") == []
