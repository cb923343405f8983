"""Review suggestions to before → after pairs: what a reviewer proposed, and why. Pure.

A reviewer's fenced ``suggestion`` block replaces the lines a comment covers on the new side of
the diff (``start_line``..``line``, one line when ``start_line`` is None). GitLab may instead say
how far the replacement reaches around the commented line in the fence itself
(``suggestion:-2+1`` covers two lines above it to one below). The lines being replaced come
from the comment's diff hunk, which the provider cuts so that it ends at the commented line: the
hunk's last new-side line is ``line``, counting back from there. GitLab sends no hunk, and a
range reaching past it cannot be read from it either; such a pair has ``before=None`` and the
processor reads the file at the comment's commit and uses :func:`apply_suggestion`. Texts are
whole lines, each ending in ``\\n`` (CRLF made LF), so an empty ``after`` is a deletion and
``"\\n"`` a blank line.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from common.events import ReviewComment

# CommonMark fences: up to three spaces, then three or more backticks or tildes and an info string.
_OPENING = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([^`]*?)[ \t]*$")
_CLOSING = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_SUGGESTION = re.compile(r"suggestion(?::-(\d+)\+(\d+))?")
_BLANK_RUN = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """One suggestion of a comment: the new-side lines ``start_line``..``end_line`` of ``path``
    (1-based, inclusive) read ``before`` (None when the hunk does not hold them) and the reviewer
    proposes ``after``; ``explanation`` is the comment's text around its suggestions."""

    path: str
    start_line: int
    end_line: int
    before: str | None
    after: str
    explanation: str


@dataclass(frozen=True, slots=True)
class _Suggestion:
    text: str
    above: int | None  # GitLab's ``:-above+below`` reach around the commented line
    below: int | None


def suggestion_pairs(comment: ReviewComment) -> list[ReviewPair]:
    """One pair per suggestion block of ``comment``; none for a comment without one.

    A comment on the old side (``LEFT``) yields none: a suggestion can only replace new lines.
    Several blocks in one comment are alternatives for the same lines, so each is its own pair.
    """
    if comment.side != "RIGHT":
        return []
    suggestions, explanation = _split_body(comment.body)
    if not suggestions:
        return []
    new_side = _new_side_lines(comment.diff_hunk)
    pairs = []
    for suggestion in suggestions:
        if suggestion.above is None or suggestion.below is None:
            start, end = comment.start_line or comment.line, comment.line
        else:
            start, end = comment.line - suggestion.above, comment.line + suggestion.below
        if start < 1:
            continue  # reaches above the file's first line: GitLab would refuse to apply it
        pairs.append(
            ReviewPair(
                path=comment.path,
                start_line=start,
                end_line=end,
                before=_hunk_lines(new_side, comment.line, start, end),
                after=suggestion.text,
                explanation=explanation,
            )
        )
    return pairs


def apply_suggestion(file_text: str, start_line: int, end_line: int, suggestion: str) -> str:
    """``file_text`` with lines ``start_line``..``end_line`` (1-based, inclusive) replaced.

    The replacement takes the line ending of the first replaced line, and keeps a file without a
    final newline without one. ValueError when the range is not inside the file.
    """
    # Lines end at "\n" alone, as the review counted them (str.splitlines also ends one at a form
    # feed, which older sources hold between sections, and put the suggestion lines off).
    lines = [line + "\n" for line in file_text.split("\n")]
    lines[-1] = lines[-1].removesuffix("\n")
    if not lines[-1]:
        lines.pop()
    if not 1 <= start_line <= end_line <= len(lines):
        raise ValueError(
            f"lines {start_line}..{end_line} are not inside a file of {len(lines)} lines: the "
            "suggestion was made on another version of the file"
        )
    first = lines[start_line - 1]
    newline = "\r\n" if first.endswith("\r\n") else "\r" if first.endswith("\r") else "\n"
    text = suggestion.replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    if not lines[end_line - 1].endswith(("\n", "\r")):
        text = text.removesuffix("\n")  # the file ended without a newline: keep it that way
    replacement = text.replace("\n", newline)
    return "".join([*lines[: start_line - 1], replacement, *lines[end_line:]])


def _split_body(body: str) -> tuple[list[_Suggestion], str]:
    """The suggestion blocks of a Markdown body and the text outside them, trimmed.

    Other fenced blocks stay in the explanation whole, so a suggestion fence shown inside a
    longer fence (a reviewer explaining the syntax) is not taken for one. An unclosed fence runs
    to the end of the body, as in CommonMark.
    """
    suggestions: list[_Suggestion] = []
    outside: list[str] = []
    lines = iter(body.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for line in lines:
        opening = _OPENING.match(line)
        if opening is None:
            outside.append(line)
            continue
        indent, fence, info = opening.groups()
        content, closing = _fenced(lines, fence, len(indent))
        suggestion = _SUGGESTION.fullmatch(info)
        if suggestion is None:
            outside.extend([line, *content, *closing])
            continue
        above, below = (int(n) if n is not None else None for n in suggestion.groups())
        suggestions.append(_Suggestion("".join(c + "\n" for c in content), above, below))
    # A block taken out of a paragraph break leaves blank lines on both sides: keep one break.
    return suggestions, _BLANK_RUN.sub("\n\n", "\n".join(outside)).strip()


def _fenced(lines: Iterator[str], fence: str, indent: int) -> tuple[list[str], list[str]]:
    """The content of a fenced block opened by ``fence`` and its closing line (none if unclosed).

    Content lines lose up to ``indent`` leading spaces, the opening fence's own indentation.
    """
    content: list[str] = []
    for line in lines:
        closing = _CLOSING.match(line)
        if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
            return content, [line]
        content.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
    return content, []


def _new_side_lines(diff_hunk: str) -> list[str]:
    """The lines of a hunk as they read on the new side: context and added lines, unmarked."""
    new_side = []
    for line in diff_hunk.replace("\r\n", "\n").split("\n"):
        if line.startswith(("+", " ")):
            new_side.append(line[1:])
        elif line == "":
            new_side.append("")  # a context line whose leading space was stripped in transit
    if diff_hunk.endswith("\n") and new_side and new_side[-1] == "":
        new_side.pop()  # the split of a final newline, not a line of the file
    return new_side


def _hunk_lines(new_side: list[str], line: int, start: int, end: int) -> str | None:
    """Lines ``start``..``end`` from a hunk whose last new-side line is ``line``, if it has them."""
    first = line - len(new_side) + 1
    if start < first or end > line:
        return None
    return "".join(text + "\n" for text in new_side[start - first : end - first + 1])
