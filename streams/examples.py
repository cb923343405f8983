"""The dataset generation chain for one file of one commit. Pure: bytes in, rows out.

filter → extract → sanitize → annotate → augment → validate, as the product document orders it:

* :func:`parse_file` filters the file (binary, vendored, generated, secret by nature…), extracts
  its definitions and finds its secrets and PII; it yields a :class:`ParsedFile`, or the reason
  the file gives nothing (a skip, or a reject with the stage and why).
* :func:`file_rows` turns a parsed file into rows: per definition a :class:`~common.rows.Bundle`
  (the redacted, annotated, fingerprinted ``completion`` row with its FIM spans, and the rows
  derived from it: augmented variants, ``naming``, ``error_fix``), the ``refactoring`` pairs
  against the file's parent version and the module's ``architecture`` pair. Every text stored
  passes through the sanitizer first; a row the validate stage refuses becomes a reject.

The commit-level work (which files, their parents, related tests, README) is
:mod:`streams.commits`'s.
"""

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from common.ids import example_id
from common.rows import (
    Annotations,
    ArchitectureExample,
    Bundle,
    CompletionExample,
    ErrorFixExample,
    NamingExample,
    RefactoringExample,
    Reject,
)
from streams import naming
from streams.annotate import annotate
from streams.architecture import module_design
from streams.augment import augment, inject_error
from streams.extract import Extraction, Symbol, extract_symbols
from streams.filters import classify_file
from streams.fim import fim_spans
from streams.languages import language_for_path
from streams.refactor import SymbolChange, extraction_changes
from streams.sanitize import Finding, anonymize_identifiers, find_secrets, is_secret_file, redact
from streams.validate import Bounds, check_code, check_labels, content_hash, fingerprint

REJECT_INPUT_CHARS = 2000
ExampleRecord = Bundle | RefactoringExample | ArchitectureExample
T = TypeVar("T")


@dataclass(frozen=True)
class Origin:
    """Provenance shared by every row taken from one commit."""

    repo: str
    commit: str
    author_hash: str
    committed_at: datetime
    ingested_at: datetime
    message: str = ""


@dataclass(frozen=True)
class StageParams:
    """The knobs of the chain (from ``Settings.ingest`` and ``Settings.git``)."""

    max_file_bytes: int = 1_000_000
    context_lines: int = 30
    augment_fraction: float = 0.2
    error_fix_fraction: float = 0.2
    bounds: Bounds = field(default_factory=Bounds)
    anonymize: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedFile:
    """A file that made it through filter and extract, with its secrets and PII found."""

    path: str
    language: str
    text: str
    extraction: Extraction
    findings: list[Finding]


@dataclass
class FileOutcome:
    records: list[ExampleRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: str | None = None
    redacted: Counter[str] = field(default_factory=Counter)

    @property
    def completions(self) -> list[CompletionExample]:
        """The source ``completion`` rows (not the augmented variants)."""
        return [r.source for r in self.records if isinstance(r, Bundle)]

    @property
    def rows(self) -> int:
        """How many table rows the records make (a bundle counts its derived rows)."""
        return sum(1 + len(r.derived) if isinstance(r, Bundle) else 1 for r in self.records)


def parse_file(
    path: str, data: bytes, origin: Origin, params: StageParams
) -> ParsedFile | FileOutcome:
    """Filter, extract and scan one file version; a :class:`FileOutcome` when it yields nothing."""
    if is_secret_file(path):
        return FileOutcome(skipped="secret_file")
    reason = classify_file(path, data, params.max_file_bytes)
    if reason is not None:
        return FileOutcome(skipped=reason)
    language = language_for_path(path)
    assert language is not None  # classify_file skips unsupported languages
    extraction = extract_symbols(data, path, language.name, params.context_lines)
    if extraction.error is not None:
        return FileOutcome(rejects=[reject(origin, path, "extract", extraction.error, data)])
    text = data.decode("utf-8")
    return ParsedFile(path, language.name, text, extraction, find_secrets(text))


class _Cleaner:
    """Redacts (and anonymises) the texts of one file, counting what it took out."""

    def __init__(self, parsed: ParsedFile, params: StageParams) -> None:
        self.findings = parsed.findings
        self.anonymize = params.anonymize
        self.redacted: Counter[str] = Counter()

    def symbol_findings(self, symbol: Symbol) -> list[Finding]:
        first = symbol.start_line - symbol.context.count("\n") - 1
        return [f for f in self.findings if first <= f.line <= symbol.end_line]

    def __call__(self, text: str, dirty: bool = True) -> str:
        if dirty and text:
            text, found = redact(text)
            self.redacted.update(f.kind for f in found)
        if self.anonymize and text:
            text = anonymize_identifiers(text, self.anonymize)
        return text


def file_rows(
    parsed: ParsedFile,
    origin: Origin,
    params: StageParams,
    related: Mapping[tuple[str, str], Sequence[str]] | None = None,
    readme: Sequence[str] = (),
    before: ParsedFile | None = None,
) -> FileOutcome:
    """Every row one parsed file gives (see the module docstring)."""
    related = related or {}
    clean = _Cleaner(parsed, params)
    out = FileOutcome()
    for symbol in parsed.extraction.symbols:
        made = _symbol_bundle(symbol, parsed, origin, params, clean, related)
        if isinstance(made, Reject):
            out.rejects.append(made)
        else:
            out.records.append(made)
    if before is not None:
        for change in extraction_changes(
            before.extraction, parsed.extraction, before.text, parsed.text, origin.message
        ):
            row = _refactoring(change, parsed, origin, params, clean)
            (out.rejects if isinstance(row, Reject) else out.records).append(row)  # type: ignore[arg-type]
    design = _architecture(parsed, origin, clean, readme)
    if design is not None:
        out.records.append(design)
    out.redacted = clean.redacted
    return out


_ANNOTATION_FIELDS = tuple(Annotations.model_fields)


def _fields(annotations: object) -> dict[str, Any]:
    """The annotation fields (shallow: ``dataclasses.asdict`` deep-copies, at 90 µs a row)."""
    return {name: getattr(annotations, name) for name in _ANNOTATION_FIELDS}


def _symbol_bundle(
    symbol: Symbol,
    parsed: ParsedFile,
    origin: Origin,
    params: StageParams,
    clean: _Cleaner,
    related: Mapping[tuple[str, str], Sequence[str]],
) -> Bundle | Reject:
    dirty = bool(clean.symbol_findings(symbol))
    body = clean(symbol.body, dirty)
    path, language = parsed.path, parsed.language
    problem = check_code(
        body,
        language,
        symbol.kind,
        symbol.start_column,
        params.bounds,
        verbatim=not dirty and not params.anonymize,
    )
    if problem is not None:
        return _reject_symbol(origin, path, symbol.qualified_name, problem)
    tests = list(related.get((path, symbol.qualified_name), ()))
    signature = clean(symbol.signature, dirty)
    docstring = clean(symbol.docstring, dirty)
    # Annotations quote the docstring (intent): they are made from the redacted texts.
    redacted = symbol.model_copy(
        update={"body": body, "signature": signature, "docstring": docstring}
    )
    # Only the commit's own tests are known: none found is "unknown", not "untested".
    found = annotate(redacted, language, path, symbol.imports, has_tests=True if tests else None)
    annotations = _fields(found)
    digest, bands = fingerprint(body, "class" if symbol.kind == "class" else "")
    source = CompletionExample(
        id=example_id(origin.repo, path, symbol.qualified_name, body),
        repo=origin.repo,
        commit=origin.commit,
        path=path,
        symbol=symbol.qualified_name,
        language=language,
        author_hash=origin.author_hash,
        committed_at=origin.committed_at,
        ingested_at=origin.ingested_at,
        findings=[f"{f.kind}@L{f.line}" for f in clean.symbol_findings(symbol)],
        **annotations,
        content_hash=digest,
        lsh_bands=bands,
        kind=symbol.kind,
        signature=signature,
        body=body,
        docstring=docstring,
        enclosing_class=symbol.enclosing_class,
        imports=[clean(i, bool(parsed.findings)) for i in symbol.imports],
        context=clean(symbol.context, dirty),
        start_line=symbol.start_line,
        end_line=symbol.end_line,
        start_column=symbol.start_column,
        fim_spans=fim_spans(body, signature, int(digest[:16], 16)),
        related_tests=tests,
    )
    derived: list[CompletionExample | NamingExample | ErrorFixExample] = []
    named = _naming(symbol, source)
    if named is not None:
        derived.append(named)
    draw = random.Random(int(source.id[:16], 16))
    # Classes are not augmented: their methods are, and a class costs as much as all of them.
    small = symbol.kind != "class"
    if small and draw.random() < params.augment_fraction:
        derived.extend(_variants(source, params, draw.randrange(2**32)))
    if small and draw.random() < params.error_fix_fraction:
        fix = _error_fix(source, params, draw.randrange(2**32))
        if fix is not None:
            derived.append(fix)
    derived = [row for row in derived if check_labels(row) is None]
    if (label := check_labels(source)) is not None:
        return _reject_symbol(origin, path, symbol.qualified_name, label)
    return Bundle(id=source.id, source=source, derived=derived)


def _derived_fields(source: CompletionExample) -> dict[str, Any]:
    """Provenance and annotations a derived row shares with its source."""
    keep = set(NamingExample.model_fields) & set(ErrorFixExample.model_fields)
    skip = {"id", "dataset", "content_hash", "lsh_bands", "source_id"}
    return {k: getattr(source, k) for k in keep - skip}


def _naming(symbol: Symbol, source: CompletionExample) -> NamingExample | None:
    concept = naming.concept(symbol.name, source.docstring, source.body)
    if concept is None:
        return None
    return NamingExample(
        **_derived_fields(source),
        id=example_id(source.repo, source.path, source.symbol, "naming\0" + concept),
        content_hash=content_hash(concept),
        concept=concept,
        name=symbol.name,
        convention=naming.convention(symbol.name),
        source_id=source.id,
    )


def _variants(source: CompletionExample, params: StageParams, seed: int) -> list[CompletionExample]:
    """Augmented copies of ``source``. :mod:`streams.augment` returns only code it parsed, so the
    validate stage checks the bounds here, not the parse again."""
    rows: list[CompletionExample] = []
    for variant in augment(source.body, source.language, source.kind, source.start_column, seed):
        code = variant.code
        kind, column = source.kind, source.start_column
        if code == source.body or check_code(
            code, source.language, kind, column, params.bounds, verbatim=True
        ):
            continue
        signature = "\n".join(code.split("\n")[: source.signature.count("\n") + 1])
        rows.append(
            source.model_copy(
                update={
                    "id": example_id(source.repo, source.path, source.symbol, variant.code),
                    "body": variant.code,
                    "signature": signature,
                    "content_hash": content_hash(variant.code),
                    "lsh_bands": [],
                    "fim_spans": fim_spans(variant.code, signature, seed + len(rows)),
                    "augmentation": variant.kind,
                    "source_id": source.id,
                }
            )
        )
    return rows


def _error_fix(source: CompletionExample, params: StageParams, seed: int) -> ErrorFixExample | None:
    injected = inject_error(source.body, source.language, source.kind, source.start_column, seed)
    if injected is None or injected.buggy == injected.fixed:
        return None
    if check_code(
        injected.buggy, source.language, source.kind, source.start_column, params.bounds, True
    ):
        return None  # out of bounds (the injector returns only code that parses)
    return ErrorFixExample(
        **_derived_fields(source),
        id=example_id(source.repo, source.path, source.symbol, "error_fix\0" + injected.buggy),
        content_hash=content_hash(injected.buggy),
        buggy=injected.buggy,
        fixed=injected.fixed,
        error_type=injected.error_type,
        explanation=injected.explanation,
        source_id=source.id,
    )


def _refactoring(
    change: SymbolChange, parsed: ParsedFile, origin: Origin, params: StageParams, clean: _Cleaner
) -> RefactoringExample | Reject:
    before, after = clean(change.before), clean(change.after)
    problem = check_code(after, parsed.language, change.kind, 0, params.bounds, verbatim=True)
    if problem is not None:
        return _reject_symbol(origin, parsed.path, change.after_symbol, problem)
    return RefactoringExample(
        id=example_id(origin.repo, parsed.path, change.after_symbol, before + "\0" + after),
        repo=origin.repo,
        commit=origin.commit,
        path=parsed.path,
        symbol=change.after_symbol,
        language=parsed.language,
        author_hash=origin.author_hash,
        committed_at=origin.committed_at,
        ingested_at=origin.ingested_at,
        content_hash=content_hash(before + "\0" + after),
        source="history",
        kind=change.kind,
        before_symbol=change.before_symbol,
        before=before,
        after=after,
        change=change.change,
        changes=list(change.changes),
        message=clean(origin.message),
        diff=clean(change.diff),
    )


def _architecture(
    parsed: ParsedFile, origin: Origin, clean: _Cleaner, readme: Sequence[str]
) -> ArchitectureExample | None:
    extraction = parsed.extraction
    design = module_design(parsed.path, extraction.module_docstring, extraction.symbols, readme)
    if design is None:
        return None
    requirements, skeleton = clean(design.requirements), clean(design.design)
    return ArchitectureExample(
        id=example_id(origin.repo, parsed.path, "<module>", requirements + "\0" + skeleton),
        repo=origin.repo,
        commit=origin.commit,
        path=parsed.path,
        symbol="<module>",
        language=parsed.language,
        author_hash=origin.author_hash,
        committed_at=origin.committed_at,
        ingested_at=origin.ingested_at,
        content_hash=content_hash(requirements + "\0" + skeleton),
        requirements=requirements,
        design=skeleton,
        symbols=design.symbols,
        idioms=list(extraction.idioms),
        imports=[clean(i) for i in (extraction.symbols[0].imports if extraction.symbols else [])],
    )


def _reject_symbol(origin: Origin, path: str, symbol: str, reason: str) -> Reject:
    return Reject(
        id=example_id(origin.repo, path, f"validate:{symbol}:{reason}", origin.commit),
        repo=origin.repo,
        commit=origin.commit,
        path=path,
        stage="validate",
        reason=f"{symbol}: {reason}"[:500],
        recorded_at=origin.ingested_at,
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


def file_examples(
    path: str,
    data: bytes,
    origin: Origin,
    params: StageParams,
    related: Mapping[tuple[str, str], Sequence[str]] | None = None,
    readme: Sequence[str] = (),
    before: ParsedFile | None = None,
) -> FileOutcome:
    """:func:`parse_file` then :func:`file_rows`, each :func:`guarded`: the whole chain on one
    file that has no commit around it (its own related tests, README and parent given)."""
    parsed = guarded(path, data, origin, "extract", lambda: parse_file(path, data, origin, params))
    if isinstance(parsed, FileOutcome):
        return parsed
    return guarded(
        path,
        data,
        origin,
        "generate",
        lambda: file_rows(parsed, origin, params, related, readme, before),
    )


def guarded(
    path: str, data: bytes, origin: Origin, stage: str, work: Callable[[], T]
) -> T | FileOutcome:
    """``work()`` (one stage over one file), where a failure inside it rejects the file, not the
    commit: a bug or a pathological input must not stop the stream."""
    try:
        return work()
    except Exception as exc:
        reason = f"internal error: {type(exc).__name__}: {exc}"[:500]
        return FileOutcome(rejects=[reject(origin, path, stage, reason, data)])
