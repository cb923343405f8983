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


def join(settings: Settings) -> None:
    """Join :func:`cluster_address`'s cluster, or start a local one (once per process)."""
    import ray

    if not ray.is_initialized():
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
