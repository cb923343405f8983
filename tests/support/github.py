"""GitHub webhook deliveries as GitHub sends them: a push payload and its signed headers."""

import hashlib
import hmac
import json

from tests.support.gitrepo import GitRepo


def github_push(repo: GitRepo, name: str, before: str, after: str) -> bytes:
    """GitHub's push payload for ``repo`` moving from ``before`` to ``after``."""
    message = repo.git("log", "-1", "--format=%s", after)
    payload = {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {"full_name": name, "clone_url": f"file://{repo.path}", "name": "x"},
        "pusher": {"name": "ada", "email": "ada@example.com"},
        "commits": [
            {
                "id": after,
                "message": message,
                "timestamp": "2026-01-01T00:00:01Z",
                "author": {"name": "Ada", "email": "ada@example.com"},
                "added": [],
                "removed": [],
                "modified": [],
            }
        ],
    }
    return json.dumps(payload).encode()


def signed(secret: str, body: bytes, event: str = "push", delivery: str = "d-1") -> dict[str, str]:
    """GitHub's headers for ``body`` signed with the webhook ``secret``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
    }
