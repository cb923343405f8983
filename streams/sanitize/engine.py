"""Run every rule over a text: one hyperscan pass marks the lines worth a look, ``re`` confirms.

Each rule pairs a finder (``re`` plus checks, run over one region of the text) with hyperscan
patterns that match wherever the finder could: a literal prefix, a keyword before an operator.
All patterns of all rules compile into one hyperscan database, built once on first use, and a
text is scanned once, as the fastest secret scanners do. The finders then run only on the lines
that database marked, so clean code, the common case, costs one scan. The patterns of a rule are
a superset of what its finder matches, so both paths find the same spans. Where hyperscan cannot
be imported or compiled, ``re`` does it all after a warning, three to ten times slower: a rule's
literal-led hints mark its lines where it has them, else its finder runs over the whole text.

Hyperscan scans bytes and ``re`` offsets count characters, so the text is encoded one byte per
character: ASCII as is, other characters as Latin-1 with everything beyond it as ``\\xff``. Every
rule is ASCII-only (``re.A``), where a non-ASCII character matches what ``\\xff`` matches in
hyperscan: only negated classes.
"""

import codecs
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

Span = tuple[str, int, int]  # kind, start, end
Finder = Callable[[str, int, int], Iterator[Span]]  # text, region start, region end
Engine = Literal["auto", "hyperscan", "re"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A finder, the hyperscan patterns that mark the lines it may match on, and ``re`` shortcuts.

    Without hyperscan, ``gate`` (a substring every match contains) spares the finder texts that
    cannot match, and ``hints``, ``re`` patterns that start with a literal (the only ones ``re``
    can skip ahead to), mark its lines as the prefilters would; with no hints the finder runs over
    the whole text. A ``caseless`` rule's prefilters and hints ignore case. A ``multiline`` finder
    may match past the line it was given.
    """

    find: Finder
    prefilters: tuple[str, ...]
    gate: str = ""
    hints: tuple[str, ...] = ()
    caseless: bool = False
    multiline: bool = False


class EngineUnavailable(RuntimeError):
    """``engine="hyperscan"`` was asked for where hyperscan cannot be imported or compiled."""


def _wide_as_ff(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "\xff" * (error.end - error.start), error.end


codecs.register_error("streams.sanitize.wide-as-ff", _wide_as_ff)


def _encode(text: str) -> bytes:
    """One byte per character, so hyperscan offsets are ``str`` offsets."""
    if text.isascii():
        return text.encode("ascii")
    return text.encode("latin-1", "streams.sanitize.wide-as-ff")


class Scanner:
    """The rules and, built on first use, the hyperscan database of all their patterns."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._lock = threading.Lock()
        self._compiled = False
        self._database: Any = None  # hyperscan.Database; the package ships no type hints
        self._rule_of: tuple[int, ...] = ()  # pattern id -> rule index
        self._scratches = threading.local()  # hyperscan scratch space is per thread
        self._hints = tuple(tuple(re.compile(h, re.A) for h in r.hints) for r in self.rules)

    @property
    def hyperscan_available(self) -> bool:
        """Whether the hyperscan path works for these rules on this machine."""
        return self._ensure_compiled()

    def spans(self, text: str, engine: Engine = "auto") -> list[Span]:
        """Every span any rule finds in ``text``, in rule order (the merge breaks ties by it)."""
        if engine == "re" or not self._ensure_compiled():
            if engine == "hyperscan":
                raise EngineUnavailable("hyperscan cannot be imported or compiled; use engine='re'")
            return self._spans_re(text)
        try:
            regions = self._regions(text)
        except Exception as exc:  # hyperscan.error, or its scratch refusing: never lose a text
            if engine == "hyperscan":
                raise
            log.warning("hyperscan scan failed (%s): this text is scanned with re alone", exc)
            return self.spans(text, "re")
        spans: list[Span] = []
        for index in sorted(regions):
            spans += _confirm(text, self.rules[index], regions[index])
        return spans

    def _spans_re(self, text: str) -> list[Span]:
        """The rules over ``text`` with ``re`` alone: hinted lines, or the whole text."""
        spans: list[Span] = []
        lowered = ""
        for rule, hints in zip(self.rules, self._hints, strict=True):
            if rule.gate not in text:
                continue
            if not hints:
                spans += rule.find(text, 0, len(text))
                continue
            if rule.caseless and not lowered:
                lowered = text.lower()  # 5x faster to search than with re.I
            haystack = lowered if rule.caseless else text
            if len(haystack) != len(text):  # a letter that lowercases to two; rare, slow path
                hints = tuple(re.compile(h.pattern, re.A | re.I) for h in hints)
                haystack = text
            lines = {_line(text, hit.start()) for hint in hints for hit in hint.finditer(haystack)}
            spans += _confirm(text, rule, lines)
        return spans

    def _ensure_compiled(self) -> bool:
        with self._lock:
            if not self._compiled:
                self._compiled = True
                self._compile()
        return self._database is not None

    def _compile(self) -> None:
        try:
            import hyperscan
        except ImportError as exc:
            log.warning("hyperscan unavailable (%s): the sanitizer runs on re alone, slower", exc)
            return
        patterns: list[bytes] = []
        flags: list[int] = []
        rule_of: list[int] = []
        for index, rule in enumerate(self.rules):
            flag = hyperscan.HS_FLAG_MULTILINE
            flag |= hyperscan.HS_FLAG_CASELESS if rule.caseless else 0
            for pattern in rule.prefilters:
                patterns.append(pattern.encode("ascii"))
                flags.append(flag)
                rule_of.append(index)
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        try:
            database.compile(
                expressions=patterns,
                ids=list(range(len(patterns))),
                elements=len(patterns),
                flags=flags,
            )
        except hyperscan.error as exc:
            log.warning("hyperscan cannot compile the sanitizer rules (%s): using re alone", exc)
            return
        self._database, self._rule_of = database, tuple(rule_of)

    def _scratch(self) -> Any:
        scratch = getattr(self._scratches, "scratch", None)
        if scratch is None:
            import hyperscan

            scratch = self._scratches.scratch = hyperscan.Scratch(self._database)
        return scratch

    def _regions(self, text: str) -> dict[int, set[tuple[int, int]]]:
        """Rule index -> the lines, ``(start, end)`` without the newline, its patterns matched."""
        hits: list[tuple[int, int]] = []

        def on_match(pattern: int, start: int, end: int, flags: int, context: object) -> None:
            hits.append((end, pattern))

        self._database.scan(_encode(text), match_event_handler=on_match, scratch=self._scratch())
        regions: dict[int, set[tuple[int, int]]] = {}
        line = (-1, -1)
        for end, pattern in sorted(hits):
            last = max(end - 1, 0)  # the line that holds the match's last character
            if not line[0] <= last < line[1]:
                line = _line(text, last)
            regions.setdefault(self._rule_of[pattern], set()).add(line)
        return regions


def _line(text: str, offset: int) -> tuple[int, int]:
    """The line holding ``offset``, as ``(start, end)`` without its newline."""
    end = text.find("\n", offset)
    return text.rfind("\n", 0, offset) + 1, len(text) if end == -1 else end


def _confirm(text: str, rule: Rule, lines: Iterable[tuple[int, int]]) -> Iterator[Span]:
    """The rule's finder over each marked line, without the overlaps a whole-text scan cannot
    produce (a multi-line match seen again from a later line it covers)."""
    covered = 0
    for lo, hi in sorted(lines):
        for kind, start, end in rule.find(text, lo, hi):
            if start >= covered or not rule.multiline:
                covered = max(covered, end)
                yield kind, start, end
