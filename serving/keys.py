"""API keys of the inference endpoints: parsing, generation on first start, and the check of a
request's ``Authorization: Bearer`` header against a scope. Pure except :func:`ensure_keys`.

``CODEMILL_API_KEYS`` is comma-separated; each entry is ``key`` (scopes complete and feedback)
or ``key:scope+scope`` with scopes among complete, feedback and admin. Keys are kept as SHA-256
digests once parsed, compared in constant time, and known in logs and metrics only by a short
id (the digest's first 12 hex digits), which also keys sticky routing.
"""

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from common.errors import ConfigError
from common.settings import Settings

Scope = Literal["complete", "feedback", "admin"]
SCOPES: frozenset[str] = frozenset(get_args(Scope))
DEFAULT_SCOPES: frozenset[str] = frozenset({"complete", "feedback"})
KEYS_FILE = "api_keys"  # under $CODEMILL_HOME, mode 0600


@dataclass(frozen=True, slots=True)
class ApiKey:
    digest: bytes  # SHA-256 of the key
    scopes: frozenset[str]

    @property
    def id(self) -> str:
        return self.digest.hex()[:12]


class AuthError(Exception):
    """A request the keys do not allow: ``status`` 401 (no or unknown key) or 403 (scope)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_keys(spec: str) -> list[ApiKey]:
    """The keys of a ``CODEMILL_API_KEYS`` value; a malformed entry is a :class:`ConfigError`."""
    keys = []
    for position, entry in enumerate(e.strip() for e in spec.split(",")):
        if not entry:
            continue
        key, _, scoped = entry.partition(":")
        scopes = frozenset(s.strip() for s in scoped.split("+") if s.strip()) or DEFAULT_SCOPES
        unknown = scopes - SCOPES
        if unknown or len(key) < 16:
            problem = f"unknown scopes {sorted(unknown)}" if unknown else "under 16 characters"
            raise ConfigError(
                f"CODEMILL_API_KEYS entry {position + 1} is {problem}; each entry is KEY or "
                f"KEY:scope+scope with scopes among {sorted(SCOPES)}"
            )
        keys.append(ApiKey(_digest(key), scopes))
    return keys


def authorize(header: str | None, keys: list[ApiKey], needed: Scope) -> ApiKey:
    """The key of a request's ``Authorization`` header if it holds the ``needed`` scope."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "missing API key: send `Authorization: Bearer <key>`")
    digest = _digest(token.strip())
    found = None
    for key in keys:  # every key compared, in constant time: no timing hint of a near miss
        if hmac.compare_digest(key.digest, digest):
            found = key
    if found is None:
        raise AuthError(401, "unknown API key")
    if needed not in found.scopes:
        raise AuthError(403, f"this API key lacks the {needed!r} scope")
    return found


def ensure_keys(settings: Settings) -> str:
    """``CODEMILL_API_KEYS`` where set, else the keys file under ``$CODEMILL_HOME``, written
    with one new key holding every scope the first time (readable by its owner only)."""
    if settings.api_keys.strip():
        return settings.api_keys
    path = keys_file(settings)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = f"cm-{secrets.token_urlsafe(32)}:{'+'.join(sorted(SCOPES))}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(spec + "\n")
    return spec


def keys_file(settings: Settings) -> Path:
    return settings.home / KEYS_FILE


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
