"""What the drift monitor compares: a few plain features of each example and each completion
shown to a developer. Pure; no model or embedding, so it runs offline and fast.

Examples give the data features (language and category mix, size and complexity, identifier
style, token statistics); feedback rows give the prediction features (what the model answered)
and the performance figures (how developers judged it).
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TOKEN = re.compile(r"\w+|[^\w\s]")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
CAMEL = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$")
PASCAL = re.compile(r"^(?:[A-Z][a-z0-9]+){2,}$")
UPPER = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")

CATEGORICAL = ("language", "category", "kind")
NUMERICAL = (
    "lines",
    "cyclomatic",
    "nesting_depth",
    "snake_share",
    "camel_share",
    "pascal_share",
    "upper_share",
    "identifier_length",
    "tokens_per_line",
    "symbol_share",
)
PREDICTION_CATEGORICAL = ("verdict",)
PREDICTION_NUMERICAL = (
    "lines",
    "snake_share",
    "camel_share",
    "identifier_length",
    "tokens_per_line",
    "symbol_share",
    "prompt_chars",
)
EXAMPLE_COLUMNS = (
    "id",
    "language",
    "category",
    "kind",
    "signature",
    "body",
    "cyclomatic",
    "nesting_depth",
    "augmentation",
    "ingested_at",
)
FEEDBACK_COLUMNS = ("model_version", "kind", "prompt", "original", "confidence", "received_at")


def text_features(code: str) -> dict[str, float]:
    """Lines, identifier style and token statistics of a piece of code (its length and letter
    share are Evidently's own descriptors, see :mod:`training.drift`)."""
    lines = [line for line in code.splitlines() if line.strip()]
    identifiers = IDENTIFIER.findall(code)
    styled = [name for name in identifiers if len(name) > 1]
    tokens = TOKEN.findall(code)
    visible = sum(1 for ch in code if not ch.isspace())
    symbols = sum(1 for ch in code if not ch.isspace() and not ch.isalnum() and ch != "_")

    def share(pattern: re.Pattern[str]) -> float:
        return sum(1 for name in styled if pattern.match(name)) / len(styled) if styled else 0.0

    return {
        "lines": float(len(lines)),
        "snake_share": share(SNAKE),
        "camel_share": share(CAMEL),
        "pascal_share": share(PASCAL),
        "upper_share": share(UPPER),
        "identifier_length": (
            sum(len(name) for name in identifiers) / len(identifiers) if identifiers else 0.0
        ),
        "tokens_per_line": len(tokens) / len(lines) if lines else 0.0,
        "symbol_share": symbols / visible if visible else 0.0,
    }


def example_features(row: Mapping[str, Any]) -> dict[str, Any]:
    """One completion example's features, and its code (for Evidently's text descriptors)."""
    code = f"{row.get('signature', '')}\n{row.get('body', '')}".strip()
    return {
        "language": str(row.get("language") or "unknown"),
        "category": str(row.get("category") or "unknown"),
        "kind": str(row.get("kind") or "unknown"),
        "cyclomatic": float(row.get("cyclomatic") or 1),
        "nesting_depth": float(row.get("nesting_depth") or 0),
        **text_features(code),
        "code": code,
    }


def prediction_features(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the model answered (the completion shown, its confidence) and how the developer
    judged it."""
    shown = str(row.get("original") or "")
    features = text_features(shown)
    return {
        "verdict": str(row.get("kind") or "unknown"),
        **{name: features[name] for name in PREDICTION_NUMERICAL if name in features},
        "prompt_chars": float(len(str(row.get("prompt") or ""))),
        "confidence": row.get("confidence"),
        "code": shown,
    }


def table(rows: Sequence[Mapping[str, Any]], features: Any) -> dict[str, list[Any]]:
    """Rows' features as columns (the shape a DataFrame is built from)."""
    made = [features(row) for row in rows]
    names = list(made[0]) if made else []
    return {name: [m[name] for m in made] for name in names}


def rates(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Acceptance and correction rates of feedback rows (ratings left aside): of the verdicts
    on completions, the share accepted and the share corrected."""
    verdicts = [str(r.get("kind")) for r in rows if r.get("kind") != "rating"]
    if not verdicts:
        return {}
    return {
        "acceptance": verdicts.count("accept") / len(verdicts),
        "corrections": verdicts.count("correction") / len(verdicts),
        "verdicts": float(len(verdicts)),
    }
