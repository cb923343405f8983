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

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal, TypeVar

from tree_sitter import Tree

from common.ids import example_id
from common.rows import (
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
from streams.augment import augment_parsed, inject_error_parsed
from streams.extract import Extraction, Symbol, extract_symbols
from streams.filters import classify_file
from streams.fim import fim_spans
from streams.languages import language_for_path, parser_for
from streams.refactor import extraction_changes
from streams.sanitize import Finding, anonymize_identifiers, find_secrets, is_secret_file, redact
from streams.snippets import ParsedSnippet, in_file, parse_snippet
from streams.tests_link import related_tests
from streams.text import canonical_source, python_as_utf8
from streams.validate import Bounds, check_code, check_labels, content_hash, fingerprints

REJECT_INPUT_CHARS = 2000
ExampleRecord = Bundle | RefactoringExample | ArchitectureExample
T = TypeVar("T")
R = TypeVar("R", bound=ExampleRecord | Reject)


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
    data: bytes
    tree: Tree


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
    path: str, data: bytes, origin: Origin, params: StageParams, scan: bool = True
) -> ParsedFile | FileOutcome:
    """Filter, extract and (with ``scan``) find the secrets of one file version; a
    :class:`FileOutcome` when it yields nothing. A parent version is not scanned: only its
    refactoring texts are stored, and those are redacted whole."""
    if is_secret_file(path):
        return FileOutcome(skipped="secret_file")
    reason = classify_file(path, data, params.max_file_bytes)
    if reason is not None:
        return FileOutcome(skipped=reason)
    language = language_for_path(path)
    assert language is not None  # classify_file skips unsupported languages
    data = canonical_source(python_as_utf8(data) if language.name == "python" else data)
    tree = parser_for(language.name).parse(data)
    extraction = extract_symbols(data, path, language.name, params.context_lines, tree)
    if extraction.error is not None:
        return FileOutcome(rejects=[reject(origin, path, "extract", extraction.error, data)])
    text = data.decode("utf-8")
    findings = find_secrets(text) if scan else []
    return ParsedFile(path, language.name, text, extraction, findings, data, tree)


def provenance(origin: Origin, path: str, symbol: str, language: str) -> dict[str, Any]:
    """The provenance fields of a row taken from ``path`` at ``origin``."""
    return {
        "repo": origin.repo,
        "commit": origin.commit,
        "path": path,
        "symbol": symbol,
        "language": language,
        "author_hash": origin.author_hash,
        "committed_at": origin.committed_at,
        "ingested_at": origin.ingested_at,
    }


class _Cleaner:
    """Redacts (and anonymises) the texts of one file, counting what it took out."""

    def __init__(self, parsed: ParsedFile, params: StageParams) -> None:
        self.findings = sorted(parsed.findings, key=lambda f: f.line)
        self.lines = [f.line for f in self.findings]
        self.anonymize = params.anonymize
        self.redacted: Counter[str] = Counter()

    def symbol_findings(self, symbol: Symbol) -> list[Finding]:
        first = symbol.start_line - symbol.context.count("\n") - 1
        return self.findings[
            bisect_left(self.lines, first) : bisect_right(self.lines, symbol.end_line)
        ]

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
    bodies: list[_Body] = []
    for symbol in parsed.extraction.symbols:
        body = _redacted_body(symbol, parsed, origin, params, clean)
        (out.rejects if isinstance(body, Reject) else bodies).append(body)  # type: ignore[arg-type]
    keys = fingerprints(
        [b.text for b in bodies], ["class" if b.symbol.kind == "class" else "" for b in bodies]
    )
    for body, (digest, bands) in zip(bodies, keys, strict=True):
        made = _symbol_bundle(body, digest, bands, parsed, origin, params, clean, related)
        (out.rejects if isinstance(made, Reject) else out.records).append(made)  # type: ignore[arg-type]
    if before is not None:
        changes = extraction_changes(
            before.extraction, parsed.extraction, before.text, parsed.text, origin.message
        )
        message = clean(origin.message) if changes else ""
        for change in changes:
            row = refactoring_row(
                origin,
                parsed.path,
                parsed.language,
                before=clean(change.before),
                after=clean(change.after),
                symbol=change.after_symbol,
                before_symbol=change.before_symbol,
                kind=change.kind,
                change=change.change,
                changes=list(change.changes),
                message=message,
                diff=clean(change.diff),
                source="history",
                bounds=params.bounds,
            )
            (out.rejects if isinstance(row, Reject) else out.records).append(row)  # type: ignore[arg-type]
    design = _architecture(parsed, origin, clean, readme)
    if design is not None:
        out.records.append(design)
    # A file may define a function twice word for word (in both branches of an ``if``): its
    # rows are one row, whose id must not be shipped and counted twice.
    out.records, out.rejects = _first_by_id(out.records), _first_by_id(out.rejects)
    out.redacted = clean.redacted
    return out


def _first_by_id(rows: list[R]) -> list[R]:
    first: dict[str, R] = {}
    for row in rows:
        first.setdefault(row.id, row)
    return list(first.values())


@dataclass(frozen=True, slots=True)
class _Body:
    """A definition's redacted body, fit to store, with the findings that were in it;
    ``verbatim`` when it is still the exact slice of its file (nothing redacted or renamed)."""

    symbol: Symbol
    text: str
    findings: list[Finding]
    verbatim: bool


def _redacted_body(
    symbol: Symbol, parsed: ParsedFile, origin: Origin, params: StageParams, clean: _Cleaner
) -> _Body | Reject:
    findings = clean.symbol_findings(symbol)
    dirty = bool(findings)
    body = clean(symbol.body, dirty)
    verbatim = not dirty and not params.anonymize
    problem = check_code(
        body, parsed.language, symbol.kind, symbol.start_column, params.bounds, verbatim=verbatim
    )
    if problem is not None:
        return _reject_symbol(origin, parsed.path, symbol.qualified_name, problem)
    return _Body(symbol, body, findings, verbatim)


def _symbol_bundle(
    redacted_body: _Body,
    digest: str,
    bands: list[int],
    parsed: ParsedFile,
    origin: Origin,
    params: StageParams,
    clean: _Cleaner,
    related: Mapping[tuple[str, str], Sequence[str]],
) -> Bundle | Reject:
    symbol, body, findings = redacted_body.symbol, redacted_body.text, redacted_body.findings
    dirty = bool(findings)
    path, language = parsed.path, parsed.language
    tests = list(related.get((path, symbol.qualified_name), ()))
    signature = clean(symbol.signature, dirty)
    docstring = clean(symbol.docstring, dirty)
    # Annotations quote the docstring (intent): they are made from the redacted texts.
    redacted = (
        symbol.model_copy(update={"body": body, "signature": signature, "docstring": docstring})
        if (body, signature, docstring) != (symbol.body, symbol.signature, symbol.docstring)
        else symbol
    )
    # Only the commit's own tests are known: none found is "unknown", not "untested".
    annotations = annotate(redacted, language, path, symbol.imports, True if tests else None)
    source = CompletionExample(
        id=example_id(origin.repo, path, symbol.qualified_name, body),
        **provenance(origin, path, symbol.qualified_name, language),
        findings=[f"{f.kind}@L{f.line}" for f in findings],
        **annotations.__dict__,  # its fields (not iterated: a model iterates slowly)
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
    if (label := check_labels(source)) is not None:
        return _reject_symbol(origin, path, symbol.qualified_name, label)
    derived: list[CompletionExample | NamingExample | ErrorFixExample] = []
    named = _naming(symbol, source)
    if named is not None:
        derived.append(named)
    # The id is a hash: its digits are the example's own dice (which stages apply, their seeds).
    augment_draw, error_draw = int(source.id[:8], 16) / 2**32, int(source.id[8:16], 16) / 2**32
    # Classes are not augmented: their methods are, and a class costs as much as all of them.
    small = symbol.kind != "class"
    augmented = small and augment_draw < params.augment_fraction
    injected = small and error_draw < params.error_fix_fraction
    if augmented or injected:
        # Still verbatim, the body needs no parse of its own: its file's tree holds it.
        snippet = (
            in_file(
                parsed.tree,
                parsed.data,
                symbol.start_byte,
                symbol.end_byte,
                symbol.start_line - 1,
                language,
            )
            if redacted_body.verbatim
            else parse_snippet(body, language, symbol.kind, symbol.start_column)
        )
        seeds = int(source.id[16:24], 16), int(source.id[24:32], 16)
        if augmented:
            derived.extend(_variants(source, snippet, params, seeds[0]))
        fix = _error_fix(source, snippet, params, seeds[1]) if injected else None
        if fix is not None:
            derived.append(fix)
    derived = [row for row in derived if check_labels(row) is None]
    return Bundle(id=source.id, source=source, derived=derived)


_SHARED_WITH_SOURCE = (set(NamingExample.model_fields) & set(ErrorFixExample.model_fields)) - {
    "id",
    "dataset",
    "content_hash",
    "lsh_bands",
    "source_id",
}


def _derived_fields(source: CompletionExample) -> dict[str, Any]:
    """Provenance and annotations a derived row shares with its source."""
    fields = source.__dict__
    return {k: fields[k] for k in _SHARED_WITH_SOURCE}


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


def _variants(
    source: CompletionExample, parsed: ParsedSnippet, params: StageParams, seed: int
) -> list[CompletionExample]:
    """Augmented copies of ``source``. :mod:`streams.augment` returns only code it parsed, so the
    validate stage checks the bounds here, not the parse again."""
    rows: list[CompletionExample] = []
    for variant in augment_parsed(parsed, source.kind, source.start_column, seed):
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


def _error_fix(
    source: CompletionExample, parsed: ParsedSnippet, params: StageParams, seed: int
) -> ErrorFixExample | None:
    injected = inject_error_parsed(parsed, source.kind, source.start_column, seed)
    if injected is None or injected.buggy == injected.fixed:
        return None
    if check_code(
        injected.buggy,
        source.language,
        source.kind,
        source.start_column,
        params.bounds,
        verbatim=True,
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


def refactoring_row(
    origin: Origin,
    path: str,
    language: str,
    *,
    before: str,
    after: str,
    symbol: str,
    before_symbol: str,
    kind: str,
    change: str,
    changes: list[str],
    message: str,
    diff: str,
    source: Literal["history", "review"],
    bounds: Bounds,
    url: str = "",
) -> RefactoringExample | Reject:
    """A ``refactoring`` row from texts already sanitized, or the reject saying why not."""
    problem = check_code(after, language, kind, 0, bounds, verbatim=True)
    if problem is not None:
        return _reject_symbol(origin, path, symbol, problem)
    pair = before + "\0" + after
    return RefactoringExample(
        id=example_id(origin.repo, path, symbol, f"{source}\0{pair}"),
        **provenance(origin, path, symbol, language),
        content_hash=content_hash(pair),
        source=source,
        kind=kind,
        before_symbol=before_symbol,
        before=before,
        after=after,
        change=change,
        changes=changes,
        message=message,
        diff=diff,
        url=url,
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
        **provenance(origin, parsed.path, "<module>", parsed.language),
        content_hash=content_hash(requirements + "\0" + skeleton),
        requirements=requirements,
        design=skeleton,
        symbols=design.symbols,
        idioms=list(extraction.idioms),
        imports=[clean(i) for i in (extraction.symbols[0].imports if extraction.symbols else [])],
    )


def _reject_symbol(origin: Origin, path: str, symbol: str, reason: str) -> Reject:
    return reject(origin, path, "validate", f"{symbol}: {reason}"[:500], b"")


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


@dataclass(frozen=True)
class SourceFile:
    """One added or modified file of a commit; ``parent`` is its parent commit's version."""

    path: str
    data: bytes
    parent: bytes | None = None
    parent_path: str | None = None


def commit_outcomes(
    files: Sequence[SourceFile], origin: Origin, params: StageParams, readme: Sequence[str] = ()
) -> list[FileOutcome]:
    """The whole chain over one commit's files: parse each, link the tests among them to the
    symbols they call, then every row of every file (with refactoring pairs against parents).
    Each stage is :func:`guarded`, so a failure rejects one file, never the commit."""
    outcomes: list[FileOutcome] = []
    parsed: list[tuple[SourceFile, ParsedFile]] = []
    for file in files:
        result = guarded(
            file.path,
            file.data,
            origin,
            "extract",
            partial(parse_file, file.path, file.data, origin, params),
        )
        if isinstance(result, ParsedFile):
            parsed.append((file, result))
        else:
            outcomes.append(result)
    related = related_tests([(p.path, s) for _, p in parsed for s in p.extraction.symbols])
    for file, version in parsed:
        before = _parent_version(file, origin, params)
        rows = partial(file_rows, version, origin, params, related, readme, before)
        outcomes.append(guarded(file.path, file.data, origin, "generate", rows))
    return outcomes


def _parent_version(file: SourceFile, origin: Origin, params: StageParams) -> ParsedFile | None:
    """The parent's version of a modified or renamed file, when it parses (context only: a
    failure there never costs the file)."""
    if file.parent is None:
        return None
    path = file.parent_path or file.path
    try:
        result = parse_file(path, file.parent, origin, params, scan=False)
    except Exception:
        return None
    return result if isinstance(result, ParsedFile) else None


def file_examples(path: str, data: bytes, origin: Origin, params: StageParams) -> FileOutcome:
    """The whole chain on one file alone (a commit of one file, without its parent)."""
    return commit_outcomes([SourceFile(path, data)], origin, params)[0]


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
