"""The Helm chart, rendered by Helm's engine for several value sets and validated offline."""

import re
from typing import Any

import helm_python as helm
import pytest
import yaml

from common.names import Topic
from common.settings import KafkaSettings
from streams.topics import topic_partitions
from tests.unit.infra.rendering import (
    CHART,
    NAMESPACE,
    RELEASE,
    VALUE_SETS,
    Object,
    containers,
    embedded_rayjobs,
    env_of,
    find,
    main_container,
    objects,
    one,
    pod_templates,
    render,
    validate,
)
from tests.unit.infra.test_container_and_docs import cli_commands

QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
SECRET_ENV = {
    "CODEMILL_WEBHOOK_SECRET",
    "CODEMILL_API_KEYS",
    "CODEMILL_GIT_TOKEN",
    "CODEMILL_KAFKA_SASL_PASSWORD",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


@pytest.fixture(params=sorted(VALUE_SETS))
def value_set(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def everything(name: str) -> list[Object]:
    """The rendered objects plus the RayJob manifests kept in ConfigMaps."""
    items = objects(name)
    return items + embedded_rayjobs(items)


def all_pod_templates(name: str) -> list[tuple[str, Object, Object]]:
    return [
        (
            f"{o['kind']}/{o['metadata'].get('name') or o['metadata'].get('generateName')} {where}",
            o,
            template,
        )
        for o in everything(name)
        for where, template in pod_templates(o)
    ]


def test_lint_is_clean(value_set: str) -> None:
    report = helm.lint(CHART, VALUE_SETS[value_set], strict=True, kube_version="v1.33.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert not problems, problems


def test_every_object_is_valid(value_set: str) -> None:
    for obj in everything(value_set):
        validate(obj)


def test_names_are_unique(value_set: str) -> None:
    seen = [(o["kind"], o["metadata"]["name"]) for o in objects(value_set)]
    assert len(seen) == len(set(seen))


def test_resource_quantities_parse(value_set: str) -> None:
    for where, _, template in all_pod_templates(value_set):
        for container in containers(template):
            for part in ("requests", "limits"):
                for resource, amount in container.get("resources", {}).get(part, {}).items():
                    assert QUANTITY.match(str(amount)), f"{where}: {resource}={amount!r}"


def test_pods_run_as_non_root_without_privileges(value_set: str) -> None:
    for where, _, template in all_pod_templates(value_set):
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True, where
        for container in containers(template):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where


def test_codemill_processes_have_read_only_roots_and_probes(value_set: str) -> None:
    deployments = find(objects(value_set), "Deployment")
    assert {d["metadata"]["name"] for d in deployments} >= {
        f"{RELEASE}-receiver",
        f"{RELEASE}-worker",
    }
    for deployment in deployments:
        for container in containers(deployment["spec"]["template"]):
            name = deployment["metadata"]["name"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert "readinessProbe" in container and "livenessProbe" in container, name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"


def test_every_container_env_is_unique_and_secrets_come_from_secrets(value_set: str) -> None:
    for where, _, template in all_pod_templates(value_set):
        for container in containers(template):
            names = [e["name"] for e in container.get("env", [])]
            assert len(names) == len(set(names)), f"{where}: duplicated {names}"
            for name, entry in env_of(container).items():
                if name in SECRET_ENV:
                    assert "value" not in entry, f"{where}: {name} inlined"
                    assert "secretKeyRef" in entry["valueFrom"], f"{where}: {name}"


def test_disruption_budgets_cover_the_receiver_and_workers(value_set: str) -> None:
    items = objects(value_set)
    for component in ("receiver", "worker"):
        pdb = one(items, "PodDisruptionBudget", f"{RELEASE}-{component}")
        deployment = one(items, "Deployment", f"{RELEASE}-{component}")
        selected = pdb["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selected.items() <= labels.items()


def test_services_select_their_pods(value_set: str) -> None:
    items = objects(value_set)
    pod_labels = [t["metadata"]["labels"] for _, _, t in all_pod_templates(value_set)]
    for service in find(items, "Service"):
        selector = service["spec"]["selector"]
        selector = {k: v for k, v in selector.items() if k != "ray.io/serve"}  # set by KubeRay
        assert any(selector.items() <= labels.items() for labels in pod_labels), service


def test_workers_are_no_more_than_partitions() -> None:
    for name in VALUE_SETS:
        worker = one(objects(name), "Deployment", f"{RELEASE}-worker")
        env = env_of(main_container(worker))
        assert worker["spec"]["replicas"] <= int(env["CODEMILL_KAFKA_PARTITIONS"]["value"])
        assert worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    with pytest.raises(helm.HelmRenderError, match=r"must not exceed kafka\.partitions"):
        render({"worker": {"replicas": 5}, "kafka": {"partitions": 4}})


@pytest.mark.parametrize("enabled", [True, False])
def test_ingresses_terminate_tls_when_enabled(enabled: bool) -> None:
    items = objects("ingress-on" if enabled else "ingress-off")
    ingresses = find(items, "Ingress")
    if not enabled:
        assert ingresses == []
        return
    backends = {}
    for ingress in ingresses:
        (rule,) = ingress["spec"]["rules"]
        (tls,) = ingress["spec"]["tls"]
        assert rule["host"] in tls["hosts"] and tls["secretName"]
        (path,) = rule["http"]["paths"]
        backends[path["path"]] = path["backend"]["service"]["name"]
    assert backends == {"/webhooks": f"{RELEASE}-receiver", "/v1": f"{RELEASE}-serving-serve-svc"}


@pytest.mark.parametrize("value_set", ["gpu-on", "gpu-off", "rayjob-training"])
def test_gpu_worker_groups_only_when_enabled(value_set: str) -> None:
    values: dict[str, Any] = VALUE_SETS[value_set]
    serving_gpu = values.get("serving", {}).get("gpuWorkers", {}).get("enabled", False)
    training_gpu = values.get("training", {}).get("gpu", False)
    for obj in everything(value_set):
        if obj["kind"] not in ("RayService", "RayCluster", "RayJob"):
            continue
        wanted = serving_gpu if obj["kind"] == "RayService" else training_gpu
        for where, template in pod_templates(obj):
            (container,) = template["spec"]["containers"]
            gpus = container["resources"].get("limits", {}).get("nvidia.com/gpu")
            is_gpu_group = where == "worker group gpu"
            assert (gpus is not None) == is_gpu_group, f"{obj['kind']} {where}"
            if is_gpu_group:
                assert wanted and int(gpus) >= 1
        groups = {g["groupName"] for g in _cluster(obj).get("workerGroupSpecs", [])}
        assert ("gpu" in groups) == wanted, f"{obj['kind']}: {groups}"
        env = env_of(_cluster(obj)["headGroupSpec"]["template"]["spec"]["containers"][0])
        if obj["kind"] != "RayService":
            assert ("CODEMILL_TRAINING_USE_GPU" in env) == wanted
        else:  # the replicas ask Ray for the GPUs the group brings
            assert ("CODEMILL_SERVING_GPUS_PER_REPLICA" in env) == wanted


def _cluster(obj: Object) -> Object:
    spec = obj["spec"]
    found: Object = spec.get("rayClusterConfig") or spec.get("rayClusterSpec") or spec
    return found


def test_existing_secrets_are_referenced_not_made() -> None:
    items = objects("s3-credentials-secret")
    assert find(items, "Secret") == []
    for where, _, template in all_pod_templates("s3-credentials-secret"):
        env = env_of(template["spec"]["containers"][0])
        refs = {n: env[n]["valueFrom"]["secretKeyRef"]["name"] for n in SECRET_ENV if n in env}
        assert refs == {
            "CODEMILL_WEBHOOK_SECRET": "codemill-secrets",
            "CODEMILL_API_KEYS": "codemill-secrets",
            "CODEMILL_GIT_TOKEN": "codemill-secrets",
            "AWS_ACCESS_KEY_ID": "minio-credentials",
            "AWS_SECRET_ACCESS_KEY": "minio-credentials",
        }, where
        assert env["AWS_ENDPOINT_URL"]["value"] == "http://minio.minio.svc:9000"
        assert env["AWS_ALLOW_HTTP"]["value"] == "true"


def test_values_given_by_value_go_into_secrets_of_the_chart() -> None:
    items = objects("s3-keys-by-value")
    app = one(items, "Secret", RELEASE)["stringData"]
    s3 = one(items, "Secret", f"{RELEASE}-s3")["stringData"]
    assert app == {"webhook-secret": "hook-secret", "api-keys": "key1:complete+feedback"}
    assert s3 == {"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "shh"}
    rendered = "\n".join(render(VALUE_SETS["s3-keys-by-value"]).values())
    assert rendered.count("shh") == 1, "a secret value appears outside its Secret"


def test_s3_commits_are_safe_for_concurrent_writers_by_default() -> None:
    defaults = env_of(
        main_container(one(objects("external-kafka"), "Deployment", f"{RELEASE}-worker"))
    )
    assert defaults["AWS_CONDITIONAL_PUT"]["value"] == "etag"
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in defaults
    assert "AWS_ACCESS_KEY_ID" not in defaults, "no keys given: the pods' own identity"
    unsafe = env_of(
        main_container(one(objects("unsafe-rename-sasl"), "Deployment", f"{RELEASE}-worker"))
    )
    assert unsafe["AWS_S3_ALLOW_UNSAFE_RENAME"]["value"] == "true"
    assert "AWS_CONDITIONAL_PUT" not in unsafe
    with pytest.raises(helm.HelmRenderError, match="commitCoordination"):
        render({"lake": {"s3": {"commitCoordination": "dynamodb"}}})


def test_external_kafka_by_value_with_sasl() -> None:
    worker = one(objects("unsafe-rename-sasl"), "Deployment", f"{RELEASE}-worker")
    env = env_of(main_container(worker))
    assert env["CODEMILL_KAFKA_BOOTSTRAP"]["value"] == "kafka.kafka.svc:9092"
    assert env["CODEMILL_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["CODEMILL_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "kafka-user",
        "key": "password",
    }
    assert find(objects("external-kafka"), "Kafka") == []


@pytest.mark.parametrize("value_set", ["strimzi", "strimzi-v1beta2"])
def test_strimzi_cluster_runs_kraft_with_codemills_topics(value_set: str) -> None:
    items = objects(value_set)
    api = VALUE_SETS[value_set]["kafka"]["strimzi"]["apiVersion"]
    (kafka,) = find(items, "Kafka")
    cluster = kafka["metadata"]["name"]
    assert "zookeeper" not in kafka["spec"]
    pools = find(items, "KafkaNodePool")
    assert sorted(r for p in pools for r in p["spec"]["roles"]) == ["broker", "controller"]
    topics = find(items, "KafkaTopic")
    for resource in [kafka, *pools, *topics]:
        assert resource["apiVersion"] == api
    for resource in [*pools, *topics]:
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    wanted = topic_partitions(KafkaSettings(partitions=_default_partitions()))
    assert {t["spec"]["topicName"]: t["spec"]["partitions"] for t in topics} == wanted
    assert set(wanted) == {str(t) for t in Topic}
    worker = one(items, "Deployment", f"{RELEASE}-worker")
    env = env_of(main_container(worker))
    assert env["CODEMILL_KAFKA_BOOTSTRAP"]["value"] == (
        f"{cluster}-kafka-bootstrap.{NAMESPACE}.svc:9092"
    )


def _default_partitions() -> int:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    partitions: int = values["kafka"]["partitions"]
    return partitions


def test_training_modes() -> None:
    standing = objects("external-kafka")
    train = one(standing, "RayCluster", f"{RELEASE}-train")
    loop = one(standing, "Deployment", f"{RELEASE}-loop")
    env = env_of(main_container(loop))
    assert env["CODEMILL_RAY_ADDRESS"]["value"] == (
        f"ray://{train['metadata']['name']}-head-svc.{NAMESPACE}.svc:10001"
    )
    jobs = objects("rayjob-training")
    assert find(jobs, "RayCluster") == []
    (job,) = embedded_rayjobs(jobs)
    assert job["spec"]["entrypoint"].startswith("codemill train")
    assert job["spec"]["shutdownAfterJobFinishes"] is True
    role = one(jobs, "Role", f"{RELEASE}-rayjobs")
    binding = one(jobs, "RoleBinding", f"{RELEASE}-rayjobs")
    assert {"create", "get", "delete"} <= set(role["rules"][0]["verbs"])
    assert role["rules"][0]["resources"] == ["rayjobs"]
    account = loop["spec"]["template"]["spec"]["serviceAccountName"]
    assert binding["subjects"][0]["name"] == account
    loop_env = env_of(main_container(one(jobs, "Deployment", f"{RELEASE}-loop")))
    assert "CODEMILL_RAY_ADDRESS" not in loop_env, "a RayJob brings its own cluster"


def test_monitoring_objects_point_at_the_metrics_ports() -> None:
    items = objects("monitoring")
    monitors = {m["metadata"]["name"]: m for m in find(items, "ServiceMonitor")}
    receiver = monitors[f"{RELEASE}-receiver"]["spec"]
    service = one(items, "Service", f"{RELEASE}-receiver")
    assert receiver["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert [e["port"] for e in receiver["endpoints"]] == [service["spec"]["ports"][0]["name"]]
    # The inference API through KubeRay's serve Service, which names its port after the Ray
    # container's port "serve" and labels itself ray.io/serve: <RayService>-serve.
    serving = monitors[f"{RELEASE}-serving"]["spec"]
    assert serving["selector"]["matchLabels"] == {"ray.io/serve": f"{RELEASE}-serving-serve"}
    (endpoint,) = serving["endpoints"]
    ray_service = one(items, "RayService", f"{RELEASE}-serving")
    head = ray_service["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]
    assert endpoint["port"] in {p["name"] for p in head["containers"][0]["ports"]}
    for monitor in monitors.values():
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
    (pod_monitor,) = find(items, "PodMonitor")
    assert pod_monitor["spec"]["podMetricsEndpoints"][0]["port"] == "web"
    for name in ("worker", "loop"):
        deployment = one(items, "Deployment", f"{RELEASE}-{name}")
        ports = main_container(deployment)["ports"]
        assert [p["name"] for p in ports] == ["web"]
    (rule,) = find(items, "PrometheusRule")
    assert rule["spec"]["groups"], "the rules file lands in the PrometheusRule"
    (dashboard,) = [c for c in find(items, "ConfigMap") if "codemill.json" in c["data"]]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_shared_home_is_a_claim_every_model_user_mounts() -> None:
    for name, claim in (("external-kafka", f"{RELEASE}-home"), ("monitoring", "shared-models")):
        for where, obj, template in all_pod_templates(name):
            volumes = {v["name"]: v for v in template["spec"]["volumes"]}
            shared = obj["kind"].startswith("Ray") or obj["metadata"]["name"].endswith("-loop")
            if shared:
                assert volumes["home"]["persistentVolumeClaim"]["claimName"] == claim, where
            else:
                assert "emptyDir" in volumes["home"], where
    assert len(find(objects("monitoring"), "PersistentVolumeClaim")) == 0


def test_a_watcher_rolls_blessed_versions_out_on_the_serving_cluster() -> None:
    items = objects("external-kafka")
    rollouts = one(items, "Deployment", f"{RELEASE}-rollouts")
    (container,) = rollouts["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["watch"]
    assert "watch" in cli_commands()  # the command exists: `codemill watch`
    address = env_of(container)["CODEMILL_RAY_ADDRESS"]["value"]
    assert address.startswith(f"ray://{RELEASE}-serving-head-svc.")
    one(items, "RayService", f"{RELEASE}-serving")  # the cluster that address names
    assert not find(objects("no-rollouts"), "Deployment", f"{RELEASE}-rollouts")
