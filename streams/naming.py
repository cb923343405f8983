"""The naming dataset: a definition with its own name masked → the name, and its convention.

Pure: built from a (sanitized) completion row, so nothing the sanitizer removed comes back.
"""

import re

from common.ids import example_id
from common.rows import CompletionExample, NamingConvention, NamingExample

MASK = "<NAME>"
_CONVENTIONS: list[tuple[NamingConvention, re.Pattern[str]]] = [
    ("UPPER_SNAKE", re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")),
    ("snake_case", re.compile(r"^_*[a-z][a-z0-9]*(_[a-z0-9]+)+$")),
    ("camelCase", re.compile(r"^_*[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$")),
    ("PascalCase", re.compile(r"^_*[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$")),
    ("lowercase", re.compile(r"^_*[a-z][a-z0-9]*$")),
]


def naming_convention(name: str) -> NamingConvention:
    for convention, pattern in _CONVENTIONS:
        if pattern.match(name):
            return convention
    return "other"


def is_teachable(name: str) -> bool:
    """Names worth learning: not dunders (fixed by the language), not one or two letters."""
    return len(name.strip("_")) >= 3 and not (name.startswith("__") and name.endswith("__"))


def mask_name(text: str, name: str) -> str:
    """Every whole-word use of ``name`` (definition, recursion, docs) replaced by the mask."""
    return re.sub(rf"(?<![\w$]){re.escape(name)}(?![\w$])", MASK, text)


def naming_example(example: CompletionExample) -> NamingExample | None:
    name = example.symbol.rsplit(".", 1)[-1]
    if not is_teachable(name):
        return None
    masked = mask_name(example.body, name)
    return NamingExample(
        id=example_id(example.repo, example.path, f"naming:{example.symbol}", masked),
        repo=example.repo,
        commit=example.commit,
        path=example.path,
        symbol=example.symbol,
        language=example.language,
        author_hash=example.author_hash,
        committed_at=example.committed_at,
        ingested_at=example.ingested_at,
        findings=example.findings,
        kind=example.kind,
        name=name,
        convention=naming_convention(name),
        docstring=mask_name(example.docstring, name),
        masked_body=masked,
    )
