"""From one file of one commit to dataset rows: filter → extract → sanitize → rows. Pure.

The push processor feeds it bytes read from git; it returns examples, or the reject or skip
reason that explains why there are none.
"""

from dataclasses import dataclass, field
from datetime import datetime

from common.ids import example_id
from common.rows import CompletionExample, Reject
from streams.extract import Symbol, extract_symbols
from streams.filters import classify_file
from streams.languages import language_for_path
from streams.sanitize import Finding, find_secrets, is_secret_file, redact

REJECT_INPUT_CHARS = 2000


@dataclass(frozen=True)
class Origin:
    """Provenance shared by every row taken from one commit."""

    repo: str
    commit: str
    author_hash: str
    committed_at: datetime
    ingested_at: datetime


@dataclass
class FileOutcome:
    examples: list[CompletionExample] = field(default_factory=list)
    reject: Reject | None = None
    skipped: str | None = None


def file_examples(
    path: str, data: bytes, origin: Origin, max_bytes: int, context_lines: int
) -> FileOutcome:
    """Rows for one file version, or why it yields none."""
    if is_secret_file(path):
        return FileOutcome(skipped="secret_file")
    reason = classify_file(path, data, max_bytes)
    if reason is not None:
        return FileOutcome(skipped=reason)
    language = language_for_path(path)
    assert language is not None  # classify_file skips unsupported languages
    extraction = extract_symbols(data, path, language.name, context_lines)
    if extraction.error is not None:
        return FileOutcome(reject=reject(origin, path, "extract", extraction.error, data))
    text = data.decode("utf-8")
    findings = find_secrets(text)
    return FileOutcome(
        examples=[
            _example(symbol, path, language.name, origin, findings) for symbol in extraction.symbols
        ]
    )


def _clean(text: str, dirty: bool) -> str:
    return redact(text)[0] if dirty else text


def _example(
    symbol: Symbol, path: str, language: str, origin: Origin, findings: list[Finding]
) -> CompletionExample:
    first = symbol.start_line - symbol.context.count("\n") - 1
    mine = [f for f in findings if first <= f.line <= symbol.end_line]
    dirty = bool(mine)
    body = _clean(symbol.body, dirty)
    return CompletionExample(
        id=example_id(origin.repo, path, symbol.qualified_name, body),
        repo=origin.repo,
        commit=origin.commit,
        path=path,
        symbol=symbol.qualified_name,
        language=language,
        author_hash=origin.author_hash,
        committed_at=origin.committed_at,
        ingested_at=origin.ingested_at,
        findings=[f"{f.kind}@L{f.line}" for f in mine],
        kind=symbol.kind,
        signature=_clean(symbol.signature, dirty),
        body=body,
        docstring=_clean(symbol.docstring, dirty),
        enclosing_class=symbol.enclosing_class,
        imports=[_clean(i, bool(findings)) for i in symbol.imports],
        context=_clean(symbol.context, dirty),
        start_line=symbol.start_line,
        end_line=symbol.end_line,
    )


def reject(origin: Origin, path: str, stage: str, reason: str, data: bytes) -> Reject:
    """A ``rejects`` row keeping the start of the input, redacted like everything we store."""
    excerpt = data[: REJECT_INPUT_CHARS * 4].decode("utf-8", "replace")[:REJECT_INPUT_CHARS]
    safe = redact(excerpt)[0]
    return Reject(
        id=example_id(origin.repo, path, f"{stage}:{reason}", origin.commit),
        repo=origin.repo,
        commit=origin.commit,
        path=path,
        stage=stage,
        reason=reason,
        input=safe,
        recorded_at=origin.ingested_at,
    )


def commit_reject(origin: Origin, stage: str, reason: str) -> Reject:
    """A reject for a whole commit (e.g. it could not be fetched)."""
    return reject(origin, "", stage, reason, b"")


def safe_file_examples(
    path: str, data: bytes, origin: Origin, max_bytes: int, context_lines: int
) -> FileOutcome:
    """:func:`file_examples`, where a failure inside a stage rejects the file, not the commit."""
    try:
        return file_examples(path, data, origin, max_bytes, context_lines)
    except Exception as exc:  # a bug or a pathological input must not stop the stream
        reason = f"internal error: {type(exc).__name__}: {exc}"[:500]
        return FileOutcome(reject=reject(origin, path, "extract", reason, data))
