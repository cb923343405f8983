"""Code-review suggestions become ``refactoring`` rows (source ``review``). Pure.

A suggestion on lines of a file is applied to the file at the comment's commit when the mirror
has it, and the definitions it changes become before → after pairs classified like history
pairs, the reviewer's comment as their message. Without the file (a fork's commit the mirror
cannot fetch) the hunk's lines themselves are the pair. Every text passes the sanitizer.
"""

from datetime import datetime

from common.events import ReviewComment
from common.rows import RefactoringExample, Reject
from streams.examples import Origin, refactoring_row, reject
from streams.languages import language_for_path
from streams.refactor import symbol_changes
from streams.reviews import apply_suggestion, suggestion_pairs
from streams.sanitize import redact
from streams.text import canonical_source
from streams.validate import Bounds


def _clean(text: str) -> str:
    return redact(text)[0]


def review_rows(
    comment: ReviewComment, file_text: str | None, now: datetime, bounds: Bounds | None = None
) -> list[RefactoringExample | Reject]:
    """The rows of one review comment; ``file_text`` is the file at ``comment.commit``."""
    language = language_for_path(comment.path)
    if language is None:
        return []
    bounds = bounds or Bounds()
    origin = Origin(comment.repo, comment.commit, comment.author_hash, comment.created_at, now)
    path, url = comment.path, comment.url
    rows: list[RefactoringExample | Reject] = []
    for pair in suggestion_pairs(comment):
        message = _clean(pair.explanation)
        if file_text is not None:
            try:
                after = apply_suggestion(file_text, pair.start_line, pair.end_line, pair.after)
            except ValueError as exc:
                rows.append(reject(origin, path, "review", str(exc)[:500], pair.after.encode()))
                continue
            changes = symbol_changes(
                canonical_source(file_text.encode()),
                canonical_source(after.encode()),
                path,
                language.name,
                pair.explanation,
            )
            rows += [
                refactoring_row(
                    origin,
                    path,
                    language.name,
                    before=_clean(c.before),
                    after=_clean(c.after),
                    symbol=c.after_symbol,
                    before_symbol=c.before_symbol,
                    kind=c.kind,
                    change=c.change,
                    changes=list(c.changes),
                    message=message,
                    diff=_clean(c.diff),
                    source="review",
                    bounds=bounds,
                    url=url,
                )
                for c in changes
            ]
            if changes:
                continue
        if pair.before is not None:
            where = f"{path}:{pair.start_line}-{pair.end_line}"
            rows.append(
                refactoring_row(
                    origin,
                    path,
                    language.name,
                    before=_clean(pair.before),
                    after=_clean(pair.after),
                    symbol=where,
                    before_symbol=where,
                    kind="lines",
                    change="suggestion",
                    changes=["suggestion"],
                    message=message,
                    diff="",
                    source="review",
                    bounds=bounds,
                    url=url,
                )
            )
    return rows
