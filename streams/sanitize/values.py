"""What a value that is not a secret looks like: placeholders, fillers, fakes and low entropy.

Shared by the token, assignment and connection-string rules, so that ``changeme``, ``<your-key>``,
``${VAR}`` or ``ghp_xxxxxxxx…`` are recognised the same way everywhere.
"""

import math
import re
from collections import Counter

WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PLACEHOLDER_WORDS = words(
    """your my the an example sample dummy fake test testing placeholder changeme change me
    changeit replace insert enter put here secret password passwd pwd pass passphrase token api
    key apikey access private client auth credential credentials value foo bar baz qux todo tbd
    fixme redacted hidden masked none null nil undefined true false default string str goes real
    actual this that some dev demo mock admin user username super xxx"""
)
_LONGEST_WORD = max(map(len, _PLACEHOLDER_WORDS))
_FILLER_CHARS = frozenset("xX*#.-_ •0")
_TEMPLATE = re.compile(
    r"\$[{(]|\{\{|%\(|#\{|<%|^\$[A-Za-z_]\w*$|^\{\w*\}$|^<[^<>]*>$|^%[sdr]$|^%\w+%$|^__\w+__$"
    r"|^@\w+@$",
    re.A,
)
_PIECE_SEPARATORS = re.compile(r"[-_.\s/:]+")
# six or more of one filler character: ``ghp_xxxxxxxx…``, ``sk_live_000000…``, ``AKIA************``
_FILLER_RUN = re.compile(r"([xX0*#.•_-])\1{5}")


def _is_vocab_phrase(word: str) -> bool:
    """Whether ``word`` (lowercase letters) is a run of placeholder words: ``mysecretpassword``."""
    ends = [True] + [False] * len(word)
    for i in range(1, len(word) + 1):
        ends[i] = any(
            ends[j] and word[j:i] in _PLACEHOLDER_WORDS for j in range(max(0, i - _LONGEST_WORD), i)
        )
    return ends[-1]


def is_placeholder(value: str) -> bool:
    """A whole value that stands for a secret: ``xxx``, ``<your-token>``, ``${VAR}``, ``test123``.

    "EXAMPLE" inside a well-formed key (AWS's ``AKIAIOSFODNN7EXAMPLE``) does not count: every piece
    of the value must be placeholder words, optionally followed by digits.
    """
    if not value or set(value) <= _FILLER_CHARS or _TEMPLATE.search(value):
        return True
    if len(value) > 64:
        return False
    pieces = [p for p in _PIECE_SEPARATORS.split(value.lower()) if p]
    stems = [p.rstrip("0123456789") for p in pieces]
    return any(stems) and all(not w or (w.isalpha() and _is_vocab_phrase(w)) for w in stems)


def is_fake_token(body: str) -> bool:
    """A token body that is obviously not a real credential: filler runs or placeholder words.

    A random 32-character token holds six equal filler characters in a row with odds below one in
    a million, so ``ghp_xxxx…`` and ``sk_live_0000…`` are fixtures, not leaks.
    """
    return _FILLER_RUN.search(body) is not None or is_placeholder(body)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


_DIGIT = re.compile(r"\d", re.A)
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
_LETTER = re.compile(r"[A-Za-z]")
_SYMBOL = re.compile(r"[/+=!@#$%^&*~?]")
_SPACE = re.compile(r"\s")


def has_space(value: str) -> bool:
    return _SPACE.search(value) is not None


def is_varied(value: str) -> bool:
    """Digits, mixed case or symbols: how tokens look and how lowercase identifiers do not."""
    if _DIGIT.search(value) or _SYMBOL.search(value):
        return True
    return _UPPER.search(value) is not None and _LOWER.search(value) is not None


def mixed_token(value: str) -> bool:
    """Letters and digits together, as every random token of more than a few characters has."""
    return _DIGIT.search(value) is not None and _LETTER.search(value) is not None


def looks_random(value: str) -> bool:
    """Varied and dense enough to be a random token body: a random base62 string of 24 characters
    lacks digits one time in 70, so prefixed tokens are not asked for them."""
    return is_varied(value) and entropy(value) >= 3.0


def mixed_case_digits(value: str) -> bool:
    return (
        mixed_token(value) and _UPPER.search(value) is not None and _LOWER.search(value) is not None
    )
