"""A JSON call to an HTTP API, as a client without a library makes it: the status and the
decoded body, error answers included."""

import json
import urllib.error
import urllib.request
from typing import Any


def json_call(
    url: str, body: dict[str, Any] | None = None, key: str | None = None
) -> tuple[int, Any]:
    """POST ``body`` (GET without one) to ``url``, with ``key`` as a Bearer token if given."""
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
