"""Deterministic identifiers: the same input always yields the same id, on any machine."""

import hashlib


def example_id(repo: str, path: str, symbol: str, content: str) -> str:
    """Id of an example: a hash of where it lives and what it says (32 hex characters)."""
    data = f"{repo}\0{path}\0{symbol}\0{content}\0".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def author_hash(email: str) -> str:
    """A stable pseudonym for a commit author; the email itself is never stored."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
