"""Find and redact secrets and personal data in source text before it reaches a table or a model.

Three families of rules run over each text (``tokens``: credentials known by their shape, from
``AKIA…`` to PEM blocks, JWTs and passwords in URLs; ``assignments``: a literal given to a
secret-like name in any language we read; ``pii``: e-mail, phone, IPv4 and IPv6 addresses), each
knowing which look-alikes to leave alone: hashes, UUIDs, placeholders, environment lookups and
obvious fixtures. ``engine`` runs them: one hyperscan pass marks the lines worth a look, ``re``
confirms them, and without hyperscan ``re`` does it all. Overlapping findings merge into one span
named after the widest, so no part of a secret survives; ``redact`` puts ``<SECRET:kind>`` or
``<PII:kind>`` in its place and its output is a fixed point. ``summarize`` counts findings by kind
for the per-commit compliance record, ``anonymize_identifiers`` pseudonymises the names a caller
knows, and ``is_secret_file`` names files that are secrets by nature.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from streams.sanitize.anonymize import anonymize_identifiers
from streams.sanitize.assignments import ASSIGNMENT_RULE
from streams.sanitize.engine import Engine, EngineUnavailable, Scanner, Span
from streams.sanitize.files import is_secret_file
from streams.sanitize.pii import PII_KINDS, PII_RULES
from streams.sanitize.tokens import TOKEN_RULES

__all__ = [
    "PII_KINDS",
    "Engine",
    "EngineUnavailable",
    "Finding",
    "anonymize_identifiers",
    "find_secrets",
    "hyperscan_available",
    "is_secret_file",
    "redact",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret or piece of PII: its rule kind, 1-based line and ``[start, end)`` offsets."""

    kind: str
    line: int
    start: int
    end: int

    @property
    def placeholder(self) -> str:
        family = "PII" if self.kind in PII_KINDS else "SECRET"
        return f"<{family}:{self.kind}>"


# order breaks ties between findings of the same width: specific rules before generic ones
_SCANNER = Scanner((*TOKEN_RULES, ASSIGNMENT_RULE, *PII_RULES))


def hyperscan_available() -> bool:
    """Whether ``find_secrets`` runs on hyperscan here (else on ``re`` alone, slower)."""
    return _SCANNER.hyperscan_available


def find_secrets(text: str, *, engine: Engine = "auto") -> list[Finding]:
    """Every secret and piece of PII in ``text``, in order, overlapping findings merged.

    ``engine`` is for tests and benchmarks: ``"re"`` skips hyperscan, ``"hyperscan"`` insists on
    it; both find the same.
    """
    spans = sorted(
        (start, end, order, kind)
        for order, (kind, start, end) in enumerate(_SCANNER.spans(text, engine))
    )
    findings: list[Finding] = []
    line, counted = 1, 0
    for kind, start, end in merge(spans):
        line += text.count("\n", counted, start)
        counted = start
        findings.append(Finding(kind=kind, line=line, start=start, end=end))
    return findings


def merge(spans: list[tuple[int, int, int, str]]) -> Iterator[Span]:
    """Runs of overlapping ``(start, end, rule order, kind)`` spans, sorted by start, as one span.

    The run covers the union of its spans, so no part of any secret is left out, and takes the kind
    of the widest span; ties go to the one that starts first, then to the earlier rule.
    """
    if not spans:
        return
    run_start, run_end, order, kind = spans[0]
    best = (run_start - run_end, run_start, order)
    for start, end, order, candidate in spans[1:]:
        if start >= run_end:
            yield kind, run_start, run_end
            run_start, run_end, kind, best = start, end, candidate, (start - end, start, order)
            continue
        run_end = max(run_end, end)
        if (start - end, start, order) < best:
            kind, best = candidate, (start - end, start, order)
    yield kind, run_start, run_end


def redact(text: str, *, engine: Engine = "auto") -> tuple[str, list[Finding]]:
    """``text`` with every finding replaced by ``<SECRET:kind>`` or ``<PII:kind>``, and them."""
    findings = find_secrets(text, engine=engine)
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts += (text[position : finding.start], finding.placeholder)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts), findings


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each kind, by kind name: the per-commit compliance summary."""
    return dict(sorted(Counter(finding.kind for finding in findings).items()))
