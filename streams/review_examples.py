"""Code-review suggestions become ``refactoring`` rows (source ``review``). Pure.

A suggestion on lines of a file is applied to the file at the comment's commit when the mirror
has it, and the definitions it changes become before → after pairs classified like history
pairs, the reviewer's comment as their message. Without the file (a fork's commit the mirror
cannot fetch) the hunk's lines themselves are the pair. Every text passes the sanitizer.
"""

from datetime import datetime

from common.events import ReviewComment
from common.ids import example_id
from common.rows import RefactoringExample, Reject
from streams.languages import language_for_path
from streams.refactor import symbol_changes
from streams.reviews import ReviewPair, apply_suggestion, suggestion_pairs
from streams.sanitize import redact
from streams.validate import content_hash


def review_rows(
    comment: ReviewComment, file_text: str | None, now: datetime
) -> list[RefactoringExample | Reject]:
    """The rows of one review comment; ``file_text`` is the file at ``comment.commit``."""
    language = language_for_path(comment.path)
    if language is None:
        return []
    rows: list[RefactoringExample | Reject] = []
    for pair in suggestion_pairs(comment):
        message = redact(pair.explanation)[0]
        if file_text is not None:
            try:
                after = apply_suggestion(file_text, pair.start_line, pair.end_line, pair.after)
            except ValueError as exc:
                rows.append(_reject(comment, pair, str(exc), now))
                continue
            changes = symbol_changes(
                file_text.encode(), after.encode(), comment.path, language.name, pair.explanation
            )
            for change in changes:
                rows.append(
                    _row(
                        comment,
                        language.name,
                        message,
                        now,
                        change.after_symbol,
                        change.before_symbol,
                        change.kind,
                        redact(change.before)[0],
                        redact(change.after)[0],
                        change.change,
                        list(change.changes),
                        redact(change.diff)[0],
                    )
                )
            if changes:
                continue
        if pair.before is not None:
            where = f"{comment.path}:{pair.start_line}-{pair.end_line}"
            before, after = redact(pair.before)[0], redact(pair.after)[0]
            rows.append(
                _row(
                    comment,
                    language.name,
                    message,
                    now,
                    where,
                    where,
                    "lines",
                    before,
                    after,
                    "suggestion",
                    ["suggestion"],
                    "",
                )
            )
    return rows


def _row(
    comment: ReviewComment,
    language: str,
    message: str,
    now: datetime,
    symbol: str,
    before_symbol: str,
    kind: str,
    before: str,
    after: str,
    change: str,
    changes: list[str],
    diff: str,
) -> RefactoringExample:
    return RefactoringExample(
        id=example_id(comment.repo, comment.path, symbol, f"review\0{before}\0{after}"),
        repo=comment.repo,
        commit=comment.commit,
        path=comment.path,
        symbol=symbol,
        language=language,
        author_hash=comment.author_hash,
        committed_at=comment.created_at,
        ingested_at=now,
        content_hash=content_hash(before + "\0" + after),
        source="review",
        kind=kind,
        before_symbol=before_symbol,
        before=before,
        after=after,
        change=change,
        changes=changes,
        message=message,
        diff=diff,
        url=comment.url,
    )


def _reject(comment: ReviewComment, pair: ReviewPair, reason: str, now: datetime) -> Reject:
    return Reject(
        id=example_id(comment.repo, comment.path, f"review:{reason}", comment.event_id),
        repo=comment.repo,
        commit=comment.commit,
        path=comment.path,
        stage="review",
        reason=reason[:500],
        input=redact(pair.after[:2000])[0],
        recorded_at=now,
    )
