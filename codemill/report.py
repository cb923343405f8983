"""What the commands print: counts read back from Delta, as rows for people or JSON for scripts."""

from collections import Counter
from typing import Any

import pyarrow as pa
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
    return _ledger_totals(settings, "skipped", repo)


def _ledger_totals(settings: Settings, column: str, repo: str | None) -> dict[str, int]:
    """A map column of the ledger summed over ingested commits (each commit counted once)."""
    delta = open_table(settings.table_uri(Table.COMMITS), settings.lake.storage_options)
    if delta is None:
        return {}
    expr = pc.field("status") == "ingested"
    if repo:
        expr = expr & (pc.field("repo") == repo)
    data = scan(delta, ["repo", "sha", column], expr)
    totals: Counter[str] = Counter()
    seen: set[str] = set()
    for sha, pairs in zip(data["sha"].to_pylist(), data[column].to_pylist(), strict=True):
        if sha in seen:
            continue
        seen.add(sha)
        totals.update(dict(pairs or []))
    return dict(totals.most_common())


def redactions(settings: Settings, repo: str | None = None) -> dict[str, int]:
    """The compliance report: what the sanitizer found and redacted, by kind, over all commits."""
    return _ledger_totals(settings, "redacted", repo)


def column_mix(settings: Settings, table: str, column: str) -> dict[str, int]:
    """Rows per value of ``column`` in ``table`` (a list column counts each of its items)."""
    delta = open_table(settings.table_uri(table), settings.lake.storage_options)
    if delta is None or column not in delta.schema().to_arrow().names:
        return {}
    values = scan(delta, [column])[column]
    if isinstance(values.type, pa.ListType):
        values = pc.list_flatten(values)
    return dict(Counter(values.to_pylist()).most_common())


def language_mix(settings: Settings, table: str = Table.COMPLETION) -> dict[str, int]:
    """Rows per language in an example table."""
    return column_mix(settings, table, "language")


# Per example table: the column that labels a row, and the text a sample shows.
MIXES: dict[str, tuple[str, ...]] = {
    Table.COMPLETION: ("language", "category", "kind", "augmentation"),
    Table.REFACTORING: ("language", "change", "source"),
    Table.NAMING: ("language", "convention", "category"),
    Table.ARCHITECTURE: ("language", "idioms"),
    Table.ERROR_FIX: ("language", "error_type"),
}
_PREVIEW = {
    Table.COMPLETION: ("kind", "body"),
    Table.REFACTORING: ("change", "after"),
    Table.NAMING: ("name", "concept"),
    Table.ARCHITECTURE: ("symbol", "design"),
    Table.ERROR_FIX: ("error_type", "buggy"),
}


def samples(settings: Settings, table: str = Table.COMPLETION, n: int = 2) -> list[dict[str, Any]]:
    """A few rows to look at: where they come from, their label and how their text starts."""
    delta = open_table(settings.table_uri(table), settings.lake.storage_options)
    if delta is None:
        return []
    label, text = _PREVIEW[Table(table)]
    columns = ["repo", "path", "symbol", "language", label, text]
    rows: list[dict[str, Any]] = scan(delta, columns).slice(0, n).to_pylist()
    for row in rows:
        lines = row.pop(text).splitlines()
        row["label"] = row.pop(label)
        row["head"] = "\n".join(lines[:4]) + ("\n…" if len(lines) > 4 else "")
    return rows


def last_drift(settings: Settings) -> dict[str, Any] | str:
    """The newest drift check: when, for which version, its verdict and report."""
    delta = open_table(settings.table_uri(Table.DRIFT_REPORTS), settings.lake.storage_options)
    if delta is None:
        return "never checked (codemill drift)"
    columns = ["checked_at", "model_version", "drifted", "verdict", "report_path"]
    rows = scan(delta, columns).to_pylist()
    newest = max(rows, key=lambda r: r["checked_at"])
    return {**newest, "checked_at": newest["checked_at"].isoformat(timespec="seconds")}
