"""Review suggestions to pairs, from a GitHub pull_request_review_comment and a GitLab diff note
parsed by the webhook parsers, then taken through a whole file and the refactoring extractor."""

import json
from pathlib import Path
from typing import Any

import pytest

from common.events import ReviewComment
from streams.refactor import symbol_changes
from streams.reviews import ReviewPair, apply_suggestion, suggestion_pairs
from streams.webhooks import AcceptedReview, parse_github_review, parse_gitlab_note

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# src/pager.py at the commit both comments are on (the fixtures' diff hunk ends at its line 11).
PAGER = '''"""Paging helpers."""


def load_page(items, page, size=10):
    """Return one page of items."""
    start = page * size
    end = start + size
    result = []
    for i in range(start, end):
        result.append(items[i])
    return result
'''
LOOP = (
    "    result = []\n"
    "    for i in range(start, end):\n"
    "        result.append(items[i])\n"
    "    return result\n"
)


def github_payload() -> dict[str, Any]:
    path = FIXTURES / "github-webhooks" / "pull-request-review-comment.json"
    payload: dict[str, Any] = json.loads(path.read_text())
    return payload


def github_comment(**changes: Any) -> ReviewComment:
    payload = github_payload()
    payload["comment"].update(changes)
    result = parse_github_review("pull_request_review_comment", "d-1", json.dumps(payload).encode())
    assert isinstance(result, AcceptedReview), result
    return result.comment


def gitlab_comment(note: str | None = None) -> ReviewComment:
    payload = json.loads(
        (FIXTURES / "gitlab-webhooks" / "merge-request-diff-note.json").read_text()
    )
    if note is not None:
        payload["object_attributes"]["note"] = note
    result = parse_gitlab_note("Note Hook", json.dumps(payload).encode())
    assert isinstance(result, AcceptedReview), result
    return result.comment


def test_github_multi_line_suggestion_replaces_the_lines_it_covers() -> None:
    comment = github_comment()
    assert (comment.start_line, comment.line) == (8, 11)
    assert suggestion_pairs(comment) == [
        ReviewPair(
            path="src/pager.py",
            start_line=8,
            end_line=11,
            before=LOOP,
            after="    return items[start:end]\n",
            explanation=(
                "A slice does this and stops at the end of the list instead of raising "
                "IndexError on the last page:"
            ),
        )
    ]


def test_single_line_suggestion_takes_the_commented_line() -> None:
    body = "Name it for what it holds.\n```suggestion\n    page_items = []\n```"
    comment = github_comment(
        body=body, start_line=None, original_start_line=None, line=8, original_line=8
    )
    comment = comment.model_copy(update={"diff_hunk": comment.diff_hunk.rsplit("\n", 3)[0]})
    (pair,) = suggestion_pairs(comment)
    assert (pair.start_line, pair.end_line) == (8, 8)
    assert pair.before == "    result = []\n"
    assert pair.after == "    page_items = []\n"
    assert pair.explanation == "Name it for what it holds."


def test_crlf_body_and_four_backtick_fence_holding_backticks() -> None:
    body = (
        "Document it:\r\n\r\n````suggestion\r\n    # see ```slice``` semantics\r\n"
        "    return items[start:end]\r\n````\r\n\r\nThanks!"
    )
    (pair,) = suggestion_pairs(github_comment(body=body))
    assert pair.after == "    # see ```slice``` semantics\n    return items[start:end]\n"
    assert pair.explanation == "Document it:\n\nThanks!"
    assert pair.before == LOOP


def test_crlf_hunk_and_no_newline_marker() -> None:
    comment = github_comment()
    hunk = comment.diff_hunk.replace("\n", "\r\n") + "\r\n\\ No newline at end of file"
    (pair,) = suggestion_pairs(comment.model_copy(update={"diff_hunk": hunk}))
    assert pair.before == LOOP


def test_empty_suggestion_is_a_deletion() -> None:
    (pair,) = suggestion_pairs(github_comment(body="Dead code.\n```suggestion\n```\n"))
    assert pair.before == LOOP
    assert pair.after == ""
    assert apply_suggestion(PAGER, pair.start_line, pair.end_line, pair.after) == PAGER.replace(
        LOOP, ""
    )


def test_blank_line_suggestion_is_not_a_deletion() -> None:
    (pair,) = suggestion_pairs(github_comment(body="```suggestion\n\n```"))
    assert pair.after == "\n"
    assert pair.explanation == ""


@pytest.mark.parametrize(
    "body",
    [
        "Looks good to me.",
        "Try this:\n```python\nreturn items[start:end]\n```",
        "Write a suggestion like this:\n````markdown\n```suggestion\nnew text\n```\n````",
        "",
    ],
)
def test_bodies_without_a_suggestion_give_no_pairs(body: str) -> None:
    assert suggestion_pairs(github_comment(body=body)) == []


def test_several_suggestions_are_alternatives_for_the_same_lines() -> None:
    body = (
        "Either slice:\n```suggestion\n    return items[start:end]\n```\n"
        "or copy explicitly:\n```suggestion\n    return list(items[start:end])\n```\n"
    )
    first, second = suggestion_pairs(github_comment(body=body))
    assert first.before == second.before == LOOP
    assert (first.after, second.after) == (
        "    return items[start:end]\n",
        "    return list(items[start:end])\n",
    )
    assert first.explanation == second.explanation == "Either slice:\nor copy explicitly:"


def test_a_comment_on_removed_lines_gives_no_pairs() -> None:
    comment = github_comment(side="LEFT")
    assert comment.side == "LEFT"
    assert suggestion_pairs(comment) == []


def test_range_beyond_the_hunk_has_no_before() -> None:
    comment = github_comment(body="```suggestion:-0+2\nx\n```")
    (pair,) = suggestion_pairs(comment)
    assert (pair.start_line, pair.end_line, pair.before) == (11, 13, None)


def test_gitlab_suggestion_reach_is_read_from_the_fence() -> None:
    comment = gitlab_comment()
    assert comment.diff_hunk == "" and (comment.start_line, comment.line) == (8, 11)
    (pair,) = suggestion_pairs(comment)
    assert (pair.start_line, pair.end_line) == (8, 11)
    assert pair.before is None  # GitLab sends no hunk: the processor reads the file
    assert pair.after == "    return items[start:end]\n"
    assert pair.explanation == "A slice stops at the end of the list:"


def test_gitlab_suggestion_reaching_above_the_file_is_dropped() -> None:
    assert suggestion_pairs(gitlab_comment("```suggestion:-20+0\nx\n```")) == []


def test_applied_suggestion_becomes_a_refactoring_pair_of_the_enclosing_function() -> None:
    comment = gitlab_comment()
    (pair,) = suggestion_pairs(comment)
    fixed = apply_suggestion(PAGER, pair.start_line, pair.end_line, pair.after)
    assert fixed.endswith("    end = start + size\n    return items[start:end]\n")
    (change,) = symbol_changes(
        PAGER.encode(), fixed.encode(), comment.path, "python", pair.explanation
    )
    assert change.after_symbol == "load_page"
    assert change.after.endswith("return items[start:end]")
    assert (change.after_start_line, change.after_end_line) == (4, 8)


@pytest.mark.parametrize(
    ("text", "start", "end", "suggestion", "expected"),
    [
        ("a\nb\nc\n", 2, 2, "B", "a\nB\nc\n"),
        ("a\nb\nc\n", 1, 2, "x\ny\nz\n", "x\ny\nz\nc\n"),
        ("a\r\nb\r\nc\r\n", 2, 3, "B\nC\n", "a\r\nB\r\nC\r\n"),
        ("a\nb\nc", 3, 3, "C\n", "a\nb\nC"),
        ("a\nb\nc", 2, 3, "", "a\n"),
        ("a\nb\n", 1, 1, "\n", "\nb\n"),
        # A form feed (a page break between sections) ends no line for the review's numbers.
        ("a\n\x0c\nb\x0cc\nd\n", 4, 4, "D", "a\n\x0c\nb\x0cc\nD\n"),
    ],
)
def test_apply_suggestion(text: str, start: int, end: int, suggestion: str, expected: str) -> None:
    assert apply_suggestion(text, start, end, suggestion) == expected


@pytest.mark.parametrize(("start", "end"), [(0, 1), (2, 1), (3, 4)])
def test_apply_suggestion_outside_the_file_names_the_range(start: int, end: int) -> None:
    with pytest.raises(ValueError, match=f"lines {start}..{end} are not inside a file of 3"):
        apply_suggestion("a\nb\nc\n", start, end, "x")
