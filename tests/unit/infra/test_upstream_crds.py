"""The chart's Strimzi and Prometheus Operator resources against those operators' own CRD
schemas, compiled into validators by the ``@kubernetes-models`` npm packages, which
``infra/bootstrap.sh`` installs where npm is on the machine (run with Node). The vendored
transcriptions in ``schemas/`` stay the stricter check (unknown fields refused); this one is
the upstream truth. KubeRay publishes no such package: its kinds have the transcriptions only.
"""

import json
import shutil
import subprocess
from copy import deepcopy

import pytest

from tests.unit.infra.rendering import ROOT, VALUE_SETS, Object, objects

MODELS = ROOT / ".venv" / "crd-models"
SCRIPT = ROOT / "tests" / "unit" / "infra" / "upstream_crds.mjs"
GROUPS = {"kafka.strimzi.io", "monitoring.coreos.com"}

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (MODELS / "node_modules").is_dir(),
    reason="needs Node and the CRD models infra/bootstrap.sh installs where npm is present",
)


def upstream_errors(items: list[Object]) -> list[str]:
    """The upstream validator's message for each object, "" for a valid one."""
    done = subprocess.run(
        ["node", str(SCRIPT), str(MODELS)],
        input=json.dumps(items).encode(),
        capture_output=True,
        check=True,
        timeout=120,
    )
    errors: list[str] = json.loads(done.stdout)
    return errors


def operator_resources(value_set: str) -> list[Object]:
    return [o for o in objects(value_set) if o["apiVersion"].rpartition("/")[0] in GROUPS]


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_operator_resources_pass_the_upstream_crd_schemas(value_set: str) -> None:
    items = operator_resources(value_set)
    errors = upstream_errors(items)
    bad = {
        f"{o['kind']}/{o['metadata']['name']}": e for o, e in zip(items, errors, strict=True) if e
    }
    assert bad == {}


def test_every_upstream_kind_is_checked_somewhere() -> None:
    kinds = {(o["apiVersion"], o["kind"]) for name in VALUE_SETS for o in operator_resources(name)}
    assert {kind for _, kind in kinds} >= {
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
    }
    assert {"kafka.strimzi.io/v1", "kafka.strimzi.io/v1beta2"} <= {v for v, _ in kinds}


def test_the_upstream_validators_refuse_a_broken_resource() -> None:
    kafka = next(o for o in operator_resources("strimzi") if o["kind"] == "Kafka")
    broken = deepcopy(kafka)
    broken["spec"]["kafka"]["listeners"][0]["port"] = "nine-thousand"
    rule = next(o for o in operator_resources("monitoring") if o["kind"] == "PrometheusRule")
    no_groups = deepcopy(rule)
    no_groups["spec"]["groups"] = "not a list"
    errors = upstream_errors([kafka, broken, no_groups])
    assert errors[0] == ""
    assert "port must be integer" in errors[1]
    assert "groups must be array" in errors[2]
