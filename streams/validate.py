"""The validate stage: is a row fit to store, and what identifies it for de-duplication. Pure.

:func:`check_code` refuses a snippet outside the length bounds or (when it is not an exact slice
of a file that parsed cleanly) one that does not parse on its own. :func:`check_labels` refuses
rows whose labels contradict each other. :func:`fingerprint` gives the two keys the sink
de-duplicates on across a whole table: ``content_hash`` (the text up to layout: exact
duplicates) and ``lsh_bands`` (MinHash over word 3-grams, cut into bands: a row sharing any band
with a stored row is a near-duplicate, :mod:`streams.lsh`). With 8 bands of 8 hashes, two
snippets whose token 3-gram sets have Jaccard similarity 0.9 collide with probability 0.99, at 0.8
with 0.77, at 0.5 with 0.03.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from common.rows import CompletionExample, ErrorFixExample, NamingExample
from streams.languages import language_for_path
from streams.lsh import lsh_keys
from streams.naming import word_positions
from streams.snippets import parse_errors


@dataclass(frozen=True)
class Bounds:
    """Length bounds for a stored snippet, in characters and lines."""

    min_chars: int = 16
    max_chars: int = 20_000
    min_lines: int = 1
    max_lines: int = 500


def check_code(
    code: str,
    language: str,
    kind: str,
    start_column: int = 0,
    bounds: Bounds | None = None,
    verbatim: bool = False,
) -> str | None:
    """Why ``code`` may not be stored, or None. ``verbatim`` skips the parse: the text is an
    exact slice of a definition in a file that parsed without error nodes."""
    bounds = bounds or Bounds()
    if len(code.strip()) < bounds.min_chars:
        return f"too short: {len(code.strip())} characters (minimum {bounds.min_chars})"
    if len(code) > bounds.max_chars:
        return f"too long: {len(code)} characters (maximum {bounds.max_chars})"
    lines = code.count("\n") + 1
    if not bounds.min_lines <= lines <= bounds.max_lines:
        return f"{lines} lines, outside {bounds.min_lines}..{bounds.max_lines}"
    if verbatim:
        return None
    error = parse_errors(code, language, kind, start_column)
    return None if error is None else f"does not parse: {error}"


def check_labels(row: CompletionExample | NamingExample | ErrorFixExample) -> str | None:
    """Why the labels of ``row`` contradict each other or its text, or None."""
    spec = language_for_path(row.path)
    if (
        spec is not None
        and spec.name != row.language
        and {spec.name, row.language}
        != {
            "typescript",
            "tsx",
        }
    ):
        return f"language {row.language!r} but the path says {spec.name!r}"
    if isinstance(row, CompletionExample):
        if row.start_line > row.end_line:
            return f"start line {row.start_line} after end line {row.end_line}"
        if row.kind == "method" and not row.enclosing_class:
            return "a method without an enclosing class"
        if not row.symbol:
            return "no symbol name"
        for start, end in row.fim_spans:
            if not 0 <= start < end <= len(row.body):
                return f"fill-in-the-middle span [{start}, {end}) outside the body"
    elif isinstance(row, NamingExample):
        if not row.name or word_positions(row.concept, row.name):
            return f"the name {row.name!r} is not masked in its concept"
    elif row.buggy == row.fixed:
        return "the buggy and the fixed code are the same"
    return None


def content_hash(code: str) -> str:
    """A hash of the whitespace-separated words: equal for texts that differ only in layout."""
    return _digest(code.split())


def lsh_bands(code: str, family: str = "") -> list[int]:
    """The MinHash LSH band keys of ``code``'s word 3-grams (see :mod:`streams.lsh`).

    Bands of different ``family`` never collide: a class is not a near-duplicate of the one
    method it holds, though its text contains the method's.
    """
    return fingerprints([code], [family])[0][1]


def fingerprint(code: str, family: str = "") -> tuple[str, list[int]]:
    """(content hash, LSH bands) of ``code``: the sink's exact and near-duplicate keys."""
    return fingerprints([code], [family])[0]


def fingerprints(codes: Sequence[str], families: Sequence[str]) -> list[tuple[str, list[int]]]:
    """:func:`fingerprint` of many texts (a file's definitions) at once, far cheaper per text."""
    split = [code.split() for code in codes]
    keys = lsh_keys(split, families)
    return [(_digest(words), bands) for words, bands in zip(split, keys, strict=True)]


def _digest(words: list[str]) -> str:
    return hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()
