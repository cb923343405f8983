"""What a completion is worth, measured against the code the team actually wrote. Pure, no model.

Text metrics: :func:`edit_similarity` (1 - Levenshtein distance / the longer length),
:func:`exact_match` and the next-line variant :func:`next_line_exact_match`. Code metrics:
:func:`syntax_valid` parses a snippet standalone with tree-sitter (:mod:`streams.snippets`);
:func:`syntax_correct` asks of a generation standing for a definition that it parse into the same
kind of definition; :func:`style_consistency` is the share of the identifiers a completion
introduces whose naming convention is the team's for that kind of identifier
(:func:`observe_conventions`).
Identifiers are tree-sitter leaves: *type* names (``type_identifier``, or the name of a class,
interface or enum declaration) and *value* names (every other identifier: functions, variables,
parameters, fields). A value name is judged only when it is ``snake_case`` or ``camelCase`` (the
choice that differs between teams: a one-word name fits both, ``UPPER_CASE`` is a constant and
``PascalCase`` a constructor or a Go export in any team), a type name when it is ``PascalCase``,
``snake_case`` or ``camelCase``. A team's convention for a kind is the most common judged
convention among its identifiers of that kind. :func:`run_tests` is the one function with I/O: it
runs a test command over files written to a temporary folder.
"""

import re
import subprocess
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath

from tree_sitter import Node

from streams.languages import parser_for
from streams.naming import convention
from streams.snippets import parse_errors, parse_snippet, syntax_error

SYNTAX_KINDS = ("function", "method", "class")
_JUDGED = {
    "value": frozenset({"snake_case", "camelCase"}),
    "type": frozenset({"PascalCase", "snake_case", "camelCase"}),
}
_TYPE_DECLARATIONS = frozenset(
    {"class_definition", "class_declaration", "interface_declaration", "enum_declaration"}
)
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def levenshtein(a: str, b: str) -> int:
    """The number of single-character insertions, deletions and substitutions from ``a`` to
    ``b`` (two-row dynamic programme, after the common prefix and suffix are set aside)."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    end = 0
    while end < min(len(a), len(b)) and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[: len(a) - end], b[: len(b) - end]
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def edit_similarity(a: str, b: str) -> float:
    """1 - normalized Levenshtein distance: 1.0 for equal texts (two empty ones included), 0.0
    for texts with nothing in common."""
    longest = max(len(a), len(b))
    return 1.0 - levenshtein(a, b) / longest if longest else 1.0


def exact_match(prediction: str, reference: str) -> bool:
    """Whether the two texts are equal once their surrounding whitespace is stripped."""
    return prediction.strip() == reference.strip()


def first_line(text: str) -> str:
    """The first line of ``text`` that is not blank, stripped ("" when there is none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def next_line_exact_match(generated: str, target: str) -> bool:
    """Whether the generation's first non-blank line is the target's."""
    return first_line(generated) == first_line(target)


def head_lines(text: str, count: int) -> str:
    """The first ``count`` lines of ``text`` (line breaks kept)."""
    return "".join(text.splitlines(keepends=True)[:count])


def line_count(text: str) -> int:
    return len(text.splitlines())


def syntax_valid(code: str, language: str, kind: str) -> bool:
    """Whether ``code`` parses standalone as a ``kind`` (function, method, class) of
    ``language``; its first line is taken to start at column 0."""
    return parse_errors(code, language, kind, 0) is None


def syntax_kind(reference: str, language: str) -> str | None:
    """The first of function, method, class as which ``reference`` parses, None if none: the
    shell a generation replacing it is judged in."""
    return next((k for k in SYNTAX_KINDS if syntax_valid(reference, language, k)), None)


def outline(code: str, language: str, kind: str) -> tuple[str, ...] | None:
    """The types of the outermost syntax nodes ``code`` is made of, comments left out, when it
    parses standalone as a ``kind`` (``("decorated_definition",)``); None when it does not."""
    parsed = parse_snippet(code, language, kind, 0)
    if syntax_error(parsed) is not None:
        return None
    start, end = parsed.standalone.offset, parsed.standalone.end
    found, stack = [], [parsed.tree.root_node]
    while stack:
        node = stack.pop()
        if start <= node.start_byte and node.end_byte <= end:
            if node.is_named and "comment" not in node.type:
                found.append(node.type)
        elif node.start_byte < end and node.end_byte > start:
            stack.extend(reversed(node.children))
    return tuple(found)


def syntax_correct(candidate: str, reference: str, language: str) -> bool | None:
    """Whether ``candidate`` parses standalone into the same kind of definition as
    ``reference`` (in the shell :func:`syntax_kind` finds, with the same :func:`outline`): an
    expression that happens to parse is no function. None when ``reference`` itself does not
    parse: there is nothing to judge against."""
    kind = syntax_kind(reference, language)
    if kind is None:
        return None
    return outline(candidate, language, kind) == outline(reference, language, kind)


def identifiers(code: str, language: str) -> Iterator[tuple[str, str]]:
    """``(kind, name)`` of every identifier leaf of ``code``, kind ``"type"`` or ``"value"``
    (see the module doc). Code that does not parse still yields what tree-sitter recovers."""
    stack = [parser_for(language).parse(code.encode()).root_node]
    while stack:
        node = stack.pop()
        if node.child_count == 0 and node.type.endswith("identifier"):
            yield _identifier_kind(node), node.text.decode(errors="replace") if node.text else ""
        stack.extend(reversed(node.children))


def _identifier_kind(node: Node) -> str:
    parent = node.parent
    declared_type = (
        parent is not None
        and parent.type in _TYPE_DECLARATIONS
        and parent.child_by_field_name("name") == node
    )
    return "type" if node.type == "type_identifier" or declared_type else "value"


def observe_conventions(code: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The team's convention per language and kind of identifier, from ``(language, code)``
    pairs: the most common judged convention (ties: the first seen). A kind with no judged
    identifier is absent."""
    counts: defaultdict[str, defaultdict[str, Counter[str]]] = defaultdict(
        lambda: defaultdict(Counter)
    )
    for language, text in code:
        for kind, name in identifiers(text, language):
            style = convention(name)
            if style in _JUDGED[kind]:
                counts[language][kind][style] += 1
    return {
        language: {kind: c.most_common(1)[0][0] for kind, c in kinds.items()}
        for language, kinds in counts.items()
    }


def style_consistency(
    generated_code: str,
    language: str,
    observed_conventions: Mapping[str, str],
    prompt: str = "",
) -> float | None:
    """The share of the judged identifiers the generation introduces (not a word of
    ``prompt``; each name once) that follow ``observed_conventions[kind]``. None when it
    introduces no judged identifier of a kind with an observed convention."""
    known = set(_WORD.findall(prompt))
    judged = {
        (kind, name)
        for kind, name in identifiers(generated_code, language)
        if name not in known and kind in observed_conventions and convention(name) in _JUDGED[kind]
    }
    if not judged:
        return None
    matching = sum(convention(name) == observed_conventions[kind] for kind, name in judged)
    return matching / len(judged)


def run_tests(code_files: Mapping[str, str], test_command: list[str], timeout: float) -> bool:
    """Whether ``test_command`` exits 0 when run in a temporary folder holding ``code_files``
    (relative path → text). A command running past ``timeout`` seconds has failed."""
    with tempfile.TemporaryDirectory(prefix="codemill-tests-") as folder:
        root = Path(folder)
        for name, text in code_files.items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(f"test file {name!r} must be a relative path inside the repo")
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(test_command, cwd=root, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0
