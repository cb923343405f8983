"""Which model version answers a request: weighted, and sticky per user. Pure.

Ray Serve has no weighted split of its own, so the router draws one here. Every user (the API
key's id, or the request's ``user`` field) has a fixed point in [0, 1), a hash of who they are;
the versions' shares are laid out along [0, 1) in the order given (the canary first), and the
user gets the version whose share holds their point. One developer therefore sees one model
while the weights stand still, and when a canary grows from 20 % to 50 % the users it already had
stay with it while the next 30 % join.
"""

import hashlib
from collections.abc import Sequence


def user_point(user: str) -> float:
    """The user's fixed place in [0, 1)."""
    digest = hashlib.blake2b(user.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def pick_version(shares: Sequence[tuple[str, float]], user: str) -> str:
    """The version whose share holds ``user``'s point; ``shares`` are (version, weight) pairs,
    weights of any positive scale (they are normalised), zero-weight versions never picked."""
    live = [(version, weight) for version, weight in shares if weight > 0]
    if not live:
        raise ValueError("no version has a positive weight")
    total = sum(weight for _, weight in live)
    point, edge = user_point(user) * total, 0.0
    for version, weight in live:
        edge += weight
        if point < edge:
            return version
    return live[-1][0]  # rounding at the very top


def fallback(shares: Sequence[tuple[str, float]], failed: str) -> str | None:
    """The version to answer when ``failed`` could not: the heaviest other one (the stable
    version when a canary fails; the blue one, kept warm at weight 0, when a green one just
    switched to fails), None when there is no other."""
    others = [(weight, version) for version, weight in shares if version != failed]
    return max(others)[1] if others else None
