"""The naming dataset: what a definition does (its docstring and body, its own name masked) → the
name its author chose, with the naming convention observed. Pure.

Names that say nothing about the concept (constructors, dunder methods, ``main``, one-letter
names) make no example.
"""

import re
from typing import Literal

Convention = Literal["snake_case", "camelCase", "PascalCase", "UPPER_CASE", "lowercase", "other"]

MASK = "<NAME>"
_UNINFORMATIVE = frozenset(
    {"main", "init", "new", "constructor", "run", "call", "get", "set", "setup", "teardown",
     "setUp", "tearDown", "default", "drop", "fmt", "clone", "eq", "hash", "from", "into",
     "apply", "invoke", "handle", "execute", "test", "String", "toString", "equals", "hashCode"}
)  # fmt: skip
_SNAKE = re.compile(r"_?[a-z][a-z0-9]*(_[a-z0-9]+)+")
_CAMEL = re.compile(r"[a-z][a-z0-9]*([A-Z][a-z0-9]*)+")
_PASCAL = re.compile(r"[A-Z](?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]*")
_UPPER = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
_LOWER = re.compile(r"_?[a-z][a-z0-9]*")


def convention(name: str) -> Convention:
    """The naming convention ``name`` follows."""
    for pattern, label in (
        (_SNAKE, "snake_case"),
        (_CAMEL, "camelCase"),
        (_UPPER, "UPPER_CASE"),
        (_PASCAL, "PascalCase"),
        (_LOWER, "lowercase"),
    ):
        if pattern.fullmatch(name):
            return label  # type: ignore[return-value]
    return "other"


def is_informative(name: str) -> bool:
    """Whether guessing ``name`` from its definition is a meaningful task."""
    bare = name.strip("_")
    return len(bare) >= 3 and name not in _UNINFORMATIVE and not name.startswith("__")


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c in "_$"


def word_positions(text: str, name: str) -> list[int]:
    """Where ``name`` occurs in ``text`` as a whole identifier (``$`` counts as a word char).

    A ``str.find`` walk: a regex per name would be compiled for every definition.
    """
    found = []
    start = text.find(name)
    while start >= 0:
        end = start + len(name)
        before_ok = start == 0 or not _is_word_char(text[start - 1])
        if before_ok and (end == len(text) or not _is_word_char(text[end])):
            found.append(start)
        start = text.find(name, start + 1)
    return found


def mask_name(text: str, name: str) -> str:
    """``text`` with every whole-word occurrence of ``name`` replaced by :data:`MASK`."""
    parts, last = [], 0
    for start in word_positions(text, name):
        parts += [text[last:start], MASK]
        last = start + len(name)
    return "".join(parts) + text[last:] if parts else text


def concept(name: str, docstring: str, body: str) -> str | None:
    """The masked concept for ``name``: its doc comment (when outside the body) and its body.

    None when the name is uninformative or the body does not name it (nothing to mask).
    """
    if not is_informative(name) or name not in body:
        return None
    masked = mask_name(body, name)
    if docstring and docstring not in body:
        return f"{mask_name(docstring, name)}\n{masked}"
    return masked
