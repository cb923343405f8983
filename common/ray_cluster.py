"""Which Ray cluster a codemill process joins, and with which token.

The configured one (``CODEMILL_RAY_ADDRESS``), else the one a ``codemill up`` on this home runs
(its serving record), else a new local one. Every process that starts Ray goes through
:func:`join`; :func:`use_local_ray_token` comes first, before Ray is imported.
"""

import contextlib
import os
import secrets

from common.runfiles import live_record, serving_file
from common.settings import Settings


def cluster_address(settings: Settings) -> str | None:
    """The configured cluster, else the one of a ``codemill up`` serving on this home."""
    if settings.ray_address:
        return settings.ray_address
    info = live_record(serving_file(settings.home))
    return None if info is None else str(info["ray_address"])


# Ray Serve's documented high-throughput mode, without its direct ingress (which would move the
# API off Serve's proxy and its port): user code on each replica's main event loop, gRPC between
# deployments, request logs buffered. Sync handles (``codemill deploy``) need the handle's router
# on its own loop, as by default. Measured with benchmarks/serving.py on 2 cores, tiny base, one
# client, with the batch wait at 0 too: p50 43 -> 31-34 ms over HTTP. Set before Ray starts, so
# that the workers of a local cluster inherit them; the Helm chart sets the same on its serving
# pods; the user's values win.
SERVE_FAST_PATH = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1",
}


def join(settings: Settings) -> None:
    """Join :func:`cluster_address`'s cluster, or start a local one (once per process)."""
    import ray

    if not ray.is_initialized():
        for name, value in SERVE_FAST_PATH.items():
            os.environ.setdefault(name, value)
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
