"""Stable pseudonyms for personal identifiers a rule cannot know: author names, logins, hosts.

The caller knows who committed (names and logins from the commit) and which hostnames are
internal; ``anonymize_identifiers`` replaces each of them, wherever it stands as a whole word, by
the same pseudonym everywhere (``user_1a2b3c``, ``host_4d5e6f``), so code that mentions a person
keeps its shape and two mentions of one person still match. A pseudonym is a keyed hash of the
lowercased identifier: pass a secret ``salt`` per deployment, or anyone can hash a list of names
and reverse it.
"""

import hashlib
import re
from collections.abc import Iterable


def pseudonym(identifier: str, salt: str = "") -> str:
    """``host_…`` for a dotted hostname, else ``user_…``; six hex digits of a salted BLAKE2b."""
    key = salt.encode()[:64]
    digest = hashlib.blake2b(identifier.lower().encode(), digest_size=3, key=key).hexdigest()
    is_host = "." in identifier and not any(c.isspace() for c in identifier)
    return f"{'host' if is_host else 'user'}_{digest}"


def anonymize_identifiers(text: str, names: Iterable[str], *, salt: str = "") -> str:
    """``text`` with every whole-word occurrence of ``names`` (any case) replaced by its pseudonym.

    Longer names win over names they contain (``Jane Doe`` before ``Jane``), and a name is only
    replaced where no letter, digit, ``_`` or ``-`` touches it: ``jdoe`` in ``jdoe@acme.io`` and
    ``/home/jdoe/`` is, ``jdoe`` in ``jdoe2`` or ``ajdoe`` is not. Blank names are ignored.
    """
    wanted = sorted({n.strip() for n in names if n.strip()}, key=lambda n: (-len(n), n))
    if not wanted:
        return text
    pattern = re.compile(
        r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in wanted) + r")(?![\w-])", re.I
    )
    cache: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        found = match[0].lower()
        if found not in cache:
            cache[found] = pseudonym(found, salt)
        return cache[found]

    return pattern.sub(replace, text)
