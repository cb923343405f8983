"""What the commands print: counts read back from Delta, as rows for people or JSON for scripts."""

from collections import Counter
from typing import Any

import pyarrow.compute as pc

from common.lake import open_table, scan
from common.names import Table
from common.settings import Settings
from streams.ledger import latest_status, read_ledger


def table_counts(settings: Settings) -> dict[str, int]:
    counts = {}
    for table in Table:
        delta = open_table(settings.table_uri(table), settings.lake.storage_options)
        if delta is not None:
            counts[str(table)] = delta.count()
    return counts


def reject_reasons(settings: Settings, repo: str | None = None) -> dict[str, int]:
    """Rejects grouped by the kind of reason ("syntax error", "not valid UTF-8", …)."""
    delta = open_table(settings.table_uri(Table.REJECTS), settings.lake.storage_options)
    if delta is None:
        return {}
    expr = pc.field("repo") == repo if repo else None
    reasons = scan(delta, ["stage", "reason"], expr)
    kinds = Counter(
        f"{stage}: {reason.split(' at ')[0]}"
        for stage, reason in zip(
            reasons["stage"].to_pylist(), reasons["reason"].to_pylist(), strict=True
        )
    )
    return dict(kinds.most_common())


def ledger_summary(settings: Settings, repo: str | None = None) -> dict[str, Any]:
    latest = latest_status(read_ledger(settings, repo))
    statuses = Counter(line.status for line in latest.values())
    repos = Counter(repo for repo, _ in latest)
    return {"commits": dict(statuses), "repositories": dict(repos)}


def skipped_reasons(settings: Settings, repo: str | None = None) -> dict[str, int]:
    """Files skipped (binary, vendored, generated, …), summed over ingested commits."""
    delta = open_table(settings.table_uri(Table.COMMITS), settings.lake.storage_options)
    if delta is None:
        return {}
    expr = pc.field("status") == "ingested"
    if repo:
        expr = expr & (pc.field("repo") == repo)
    data = scan(delta, ["sha", "skipped"], expr)
    totals: Counter[str] = Counter()
    seen: set[str] = set()
    for sha, pairs in zip(data["sha"].to_pylist(), data["skipped"].to_pylist(), strict=True):
        if sha in seen:
            continue
        seen.add(sha)
        totals.update(dict(pairs or []))
    return dict(totals.most_common())


def language_mix(settings: Settings, table: str = Table.COMPLETION) -> dict[str, int]:
    """Rows per language in an example table."""
    delta = open_table(settings.table_uri(table), settings.lake.storage_options)
    if delta is None:
        return {}
    languages = scan(delta, ["language"])["language"].to_pylist()
    return dict(Counter(languages).most_common())


def samples(settings: Settings, table: str = Table.COMPLETION, n: int = 3) -> list[dict[str, Any]]:
    """A few rows to look at: where they come from and how they start."""
    delta = open_table(settings.table_uri(table), settings.lake.storage_options)
    if delta is None:
        return []
    columns = ["repo", "path", "symbol", "language", "kind", "body"]
    rows: list[dict[str, Any]] = scan(delta, columns).slice(0, n).to_pylist()
    for row in rows:
        lines = row.pop("body").splitlines()
        row["head"] = "\n".join(lines[:3]) + ("\n…" if len(lines) > 3 else "")
    return rows
