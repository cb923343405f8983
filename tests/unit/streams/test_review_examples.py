"""Review comments with suggestions become refactoring rows, with and without the whole file."""

from datetime import UTC, datetime

from common.rows import RefactoringExample
from streams.review_examples import review_rows
from tests.unit.streams.test_reviews import PAGER, github_comment, gitlab_comment

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_with_the_file_the_pair_is_the_enclosing_function() -> None:
    comment = gitlab_comment()
    (row,) = review_rows(comment, PAGER, NOW)
    assert isinstance(row, RefactoringExample)
    assert (row.source, row.symbol, row.kind) == ("review", "load_page", "function")
    assert row.before.startswith("def load_page(") and row.after.endswith("return items[start:end]")
    assert row.url == comment.url and row.commit == comment.commit
    assert row.author_hash == comment.author_hash and row.message


def test_without_the_file_the_hunk_lines_are_the_pair() -> None:
    comment = github_comment()
    rows = review_rows(comment, None, NOW)
    assert rows and all(isinstance(r, RefactoringExample) for r in rows)
    row = rows[0]
    assert isinstance(row, RefactoringExample)
    assert row.kind == "lines" and row.change == "suggestion"
    assert row.before and row.before != row.after


def test_a_secret_in_the_reviewers_comment_never_reaches_the_row() -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    note = (
        f"Use slicing; and rotate {token} please.\n"
        "```suggestion:-2+0\n    return items[start:end]\n```"
    )
    (row,) = review_rows(gitlab_comment(note), PAGER, NOW)
    assert isinstance(row, RefactoringExample)
    assert token not in row.model_dump_json() and "<SECRET:" in row.message


def test_a_file_of_no_supported_language_gives_nothing() -> None:
    comment = gitlab_comment().model_copy(update={"path": "docs/notes.txt"})
    assert review_rows(comment, "x\n" * 20, NOW) == []


def test_a_file_with_windows_line_ends_gives_the_rows_of_its_unix_twin() -> None:
    comment = gitlab_comment()
    (windows,) = review_rows(comment, PAGER.replace("\n", "\r\n"), NOW)
    (unix,) = review_rows(comment, PAGER, NOW)
    assert isinstance(windows, RefactoringExample)
    assert windows == unix and "\r" not in windows.before + windows.after + windows.diff
