"""Render the Helm chart with Helm's own engine (helm-python-sdk embeds Helm's Go library) and
validate what it renders offline: core kinds against Kubernetes' schemas (kubernetes-validate),
custom resources against the KubeRay, Strimzi and Prometheus Operator schemas in ``schemas/``."""

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "helm" / "codemill"
SCHEMAS = Path(__file__).parent / "schemas"
KUBERNETES = "1.33.0"  # the oldest release the chart is tested against, shipped offline
RELEASE, NAMESPACE = "codemill", "ml"

Object = dict[str, Any]

# The value sets the chart is rendered with (each also linted).
VALUE_SETS: dict[str, dict[str, Any]] = {
    "external-kafka": {},
    "strimzi": {"kafka": {"mode": "strimzi", "strimzi": {"apiVersion": "kafka.strimzi.io/v1"}}},
    "strimzi-v1beta2": {
        "kafka": {"mode": "strimzi", "strimzi": {"apiVersion": "kafka.strimzi.io/v1beta2"}}
    },
    "gpu-on": {"serving": {"gpuWorkers": {"enabled": True}}, "training": {"gpu": True}},
    "gpu-off": {"serving": {"gpuWorkers": {"enabled": False}}, "training": {"gpu": False}},
    "ingress-on": {
        "receiver": {"ingress": {"enabled": True, "className": "nginx"}},
        "serving": {"ingress": {"enabled": True, "className": "nginx"}},
    },
    "ingress-off": {
        "receiver": {"ingress": {"enabled": False}},
        "serving": {"ingress": {"enabled": False}},
    },
    "s3-credentials-secret": {
        "secrets": {"existingSecret": "codemill-secrets"},
        "lake": {
            "uri": "s3://lake/codemill",
            "s3": {
                "endpoint": "http://minio.minio.svc:9000",
                "allowHttp": True,
                "credentials": {"existingSecret": "minio-credentials"},
            },
        },
    },
    "s3-keys-by-value": {
        "secrets": {"webhookSecret": "hook-secret", "apiKeys": "key1:complete+feedback"},
        "lake": {"s3": {"credentials": {"accessKeyId": "AKIA1", "secretAccessKey": "shh"}}},
    },
    "unsafe-rename-sasl": {
        "lake": {"s3": {"commitCoordination": "unsafeRename"}},
        "kafka": {
            "external": {
                "securityProtocol": "SASL_SSL",
                "saslMechanism": "SCRAM-SHA-512",
                "saslUsername": "codemill",
                "saslPasswordSecret": {"name": "kafka-user", "key": "password"},
            }
        },
    },
    "rayjob-training": {"training": {"mode": "rayJob", "gpu": True}, "loop": {"enabled": True}},
    "no-rollouts": {"rollouts": {"enabled": False}},
    "monitoring": {
        "metrics": {
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "podMonitor": {"enabled": True},
            "prometheusRule": {"enabled": True},
            "grafanaDashboard": {"enabled": True},
        },
        "home": {"persistence": {"existingClaim": "shared-models"}},
    },
}


@cache
def chart() -> helm.Chart:
    return helm.Chart.load(CHART)


def render(values: dict[str, Any]) -> dict[str, str]:
    """Template path → rendered text, as `helm template` would make them."""
    return chart().render(values, name=RELEASE, namespace=NAMESPACE)


@cache
def _rendered(name: str) -> tuple[Object, ...]:
    objects: list[Object] = []
    for path, text in sorted(render(VALUE_SETS[name]).items()):
        if path.endswith(".txt"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return tuple(objects)


def objects(name: str) -> list[Object]:
    """The objects the chart renders with the value set ``name``."""
    return list(_rendered(name))


def find(items: list[Object], kind: str, name: str | None = None) -> list[Object]:
    return [
        o for o in items if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]


def one(items: list[Object], kind: str, name: str) -> Object:
    found = find(items, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def embedded_rayjobs(items: list[Object]) -> list[Object]:
    """The RayJob manifests the chart keeps in ConfigMaps for the loop to submit."""
    return [
        yaml.safe_load(text)
        for cm in find(items, "ConfigMap")
        for key, text in cm.get("data", {}).items()
        if key.endswith(".yaml") and "kind: RayJob" in text
    ]


# --- pod templates and containers, whatever owns them --------------------------------------


def pod_templates(obj: Object) -> Iterator[tuple[str, Object]]:
    """(where, pod template) of a Deployment, StatefulSet or KubeRay resource."""
    kind, spec = obj["kind"], obj.get("spec", {})
    if kind in ("Deployment", "StatefulSet"):
        yield "pod", spec["template"]
        return
    cluster = {
        "RayCluster": spec,
        "RayService": spec.get("rayClusterConfig"),
        "RayJob": spec.get("rayClusterSpec"),
    }.get(kind)
    if cluster:
        yield "head", cluster["headGroupSpec"]["template"]
        for group in cluster.get("workerGroupSpecs", []):
            yield f"worker group {group['groupName']}", group["template"]


def containers(template: Object) -> list[Object]:
    spec = template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def main_container(workload: Object) -> Object:
    """The first container of a Deployment's (or StatefulSet's) pod template."""
    container: Object = workload["spec"]["template"]["spec"]["containers"][0]
    return container


def env_of(container: Object) -> dict[str, Object]:
    return {e["name"]: e for e in container.get("env", [])}


# --- validation -----------------------------------------------------------------------------

CUSTOM = {
    ("ray.io", "RayCluster"): "raycluster-ray-v1.json",
    ("ray.io", "RayService"): "rayservice-ray-v1.json",
    ("ray.io", "RayJob"): "rayjob-ray-v1.json",
    ("kafka.strimzi.io", "Kafka"): "kafka-kafka-v1.json",
    ("kafka.strimzi.io", "KafkaNodePool"): "kafkanodepool-kafka-v1.json",
    ("kafka.strimzi.io", "KafkaTopic"): "kafkatopic-kafka-v1.json",
    ("monitoring.coreos.com", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("monitoring.coreos.com", "PodMonitor"): "podmonitor-monitoring-v1.json",
    ("monitoring.coreos.com", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
}


@cache
def _kubernetes_definitions() -> Resource:  # type: ignore[type-arg]
    folder = resources.files(kubernetes_validate) / "kubernetes-json-schema"
    text = (folder / f"v{KUBERNETES}-local-strict" / "_definitions.json").read_text()
    return Resource.from_contents(json.loads(text))


@cache
def custom_validator(filename: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / filename).read_text())
    registry: Registry = Registry().with_resource(  # type: ignore[type-arg]
        "https://kubernetes.io/api/_definitions.json", _kubernetes_definitions()
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(obj: Object) -> None:
    """Raise unless ``obj`` is valid for its kind: Kubernetes' own schema (strict: no unknown
    field) for core kinds, the vendored CRD schema for custom resources."""
    group = obj["apiVersion"].rpartition("/")[0]
    schema = CUSTOM.get((group, obj["kind"]))
    if schema is not None:
        custom_validator(schema).validate(obj)
    else:
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)
