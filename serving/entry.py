"""The inference API's Serve applications, built one way for ``codemill up`` and for a cluster.

:func:`router_application` and :func:`model_application` build the router and one version's
model application from settings held in memory (``codemill up``, ``codemill deploy``).
:func:`router` and :func:`model` are the same applications as Ray Serve *application builders*:
a declarative Serve config (the Helm chart's KubeRay ``RayService``, ``serveConfigV2``) names them
by :data:`ROUTER_IMPORT_PATH` and :data:`MODEL_IMPORT_PATH`, and they read the settings from the
``CODEMILL_*`` environment of the Ray pods.

In a cluster the config declares the router only: the versions come and go at run time, so
their applications are started imperatively (``serve.run``), which a declarative update leaves
alone (Serve deletes only the declarative applications a new config drops). The router's
builder therefore starts the model application of every version its plan serves that is not
running yet, so a new Ray cluster (first install, an upgrade) comes up serving the registry's
live version and canary, as ``codemill up`` does.
"""

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict
from ray import serve
from ray.serve import Application

from common.settings import ServingSettings, Settings
from serving.app import APP_NAME, ModelServer, Router, ServedVersion, model_app
from serving.controller import Plan
from serving.keeper import RolloutKeeper

log = logging.getLogger(__name__)

ROUTER_IMPORT_PATH = "serving.entry:router"
MODEL_IMPORT_PATH = "serving.entry:model"
ROUTER_APP = APP_NAME
ROUTE_PREFIX = "/"


class RouterArgs(BaseModel):
    """The router builder's arguments (``args`` of its application in a Serve config)."""

    model_config = ConfigDict(extra="forbid")

    start_models: bool = True


class ModelArgs(BaseModel):
    """The model builder's arguments: the version to serve, its base and its adapter."""

    model_config = ConfigDict(extra="forbid")

    version: str
    base_path: str
    adapter_path: str = ""


def model_options(serving: ServingSettings) -> dict[str, Any]:
    """A model deployment's Serve options: CPUs (and GPUs), its cap on requests, replicas or
    autoscaling."""
    actor: dict[str, float] = {"num_cpus": serving.cpus_per_replica}
    if serving.gpus_per_replica:
        actor["num_gpus"] = serving.gpus_per_replica
    options: dict[str, Any] = {
        "name": "model",
        "ray_actor_options": actor,
        # Requests beyond a replica's cap wait in Serve's queue instead of its batch queue:
        # let the router's own cap (429 past it) be the only one.
        "max_ongoing_requests": max(2 * serving.max_batch_size, serving.max_in_flight),
    }
    if serving.max_replicas > serving.replicas:
        options["autoscaling_config"] = {
            "min_replicas": serving.replicas,
            "max_replicas": serving.max_replicas,
            "target_ongoing_requests": serving.target_ongoing_requests,
        }
    else:
        options["num_replicas"] = serving.replicas
    return options


def model_application(settings: Settings, served: ServedVersion) -> Application:
    """``served``'s application (run it as ``model_app(served.version)``, no HTTP route)."""
    deployment: Any = ModelServer
    app: Application = deployment.options(**model_options(settings.serving)).bind(served, settings)
    return app


def router_application(settings: Settings, plan: Plan) -> Application:
    """The routers serving ``plan``, with their rollout keeper (run it as :data:`ROUTER_APP` on
    :data:`ROUTE_PREFIX`)."""
    keeper: Any = RolloutKeeper
    deployment: Any = Router
    app: Application = deployment.options(
        num_replicas=settings.serving.routers,
        max_ongoing_requests=2 * settings.serving.max_in_flight,
    ).bind(settings, plan, keeper.bind(settings, plan))
    return app


def model(args: ModelArgs) -> Application:
    """Builder: one version's model application, settings from the environment."""
    served = ServedVersion(args.version, args.base_path, args.adapter_path)
    return model_application(Settings(), served)


def router(args: RouterArgs) -> Application:
    """Builder: the router serving what the registry says (the live version, else the base,
    and any canary), settings from the environment; starts the model applications it needs."""
    # Imported here: serving.deploy builds its applications with this module.
    from serving.deploy import initial_plan
    from training.registry import Registry, kafka_publisher

    settings = Settings()
    publisher = kafka_publisher(settings) if settings.kafka.bootstrap else None
    plan, versions = initial_plan(settings, Registry(settings, publisher=publisher))
    if args.start_models:
        start_missing(settings, versions)
    return router_application(settings, plan)


def start_missing(settings: Settings, versions: list[ServedVersion]) -> list[str]:
    """Start the model application of each of ``versions`` Serve does not run yet, without
    waiting for it (the router falls back while a version comes up); returns those started."""
    running = set(serve.status().applications)
    started = []
    for served in versions:
        name = model_app(served.version)
        if name in running:
            continue
        target = serve.RunTarget(
            target=model_application(settings, served), name=name, route_prefix=None
        )
        serve.run_many(
            [target],
            wait_for_ingress_deployment_creation=False,
            wait_for_applications_running=False,
        )
        log.warning("started %s for version %s", name, served.version)
        started.append(name)
    return started
