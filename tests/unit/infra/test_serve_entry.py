"""serving.entry's pure part: a model deployment's Serve options from the settings.

The builders themselves run on a real Serve in ``tests/integration/test_serve_config.py``,
from the chart's own serve config."""

from common.settings import Settings
from serving import entry


def test_replicas_ask_ray_for_gpus_only_when_configured() -> None:
    cpu = entry.model_options(Settings().serving)
    assert cpu["ray_actor_options"] == {"num_cpus": 1.0}
    gpu = entry.model_options(Settings().serving.model_copy(update={"gpus_per_replica": 1}))
    assert gpu["ray_actor_options"] == {"num_cpus": 1.0, "num_gpus": 1}


def test_a_version_autoscales_only_when_it_may_grow() -> None:
    fixed = entry.model_options(Settings().serving)
    assert fixed["num_replicas"] == Settings().serving.replicas
    assert "autoscaling_config" not in fixed
    serving = Settings().serving.model_copy(update={"replicas": 1, "max_replicas": 3})
    scaled = entry.model_options(serving)
    assert scaled["autoscaling_config"]["max_replicas"] == 3 and "num_replicas" not in scaled
