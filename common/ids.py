"""Deterministic identifiers: the same input always yields the same id, on any machine."""

import hashlib


def example_id(repo: str, path: str, symbol: str, content: str) -> str:
    """Id of an example: a hash of where it lives and what it says (32 hex characters)."""
    h = hashlib.blake2b(digest_size=16)
    for part in (repo, path, symbol, content):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def author_hash(email: str) -> str:
    """A stable pseudonym for a commit author; the email itself is never stored."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
