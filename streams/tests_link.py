"""Link the symbols of one commit to the test functions that call them. Pure.

A test function is told by its language's convention (:func:`is_test`): Python ``test*``
functions and methods of ``Test*`` classes in test files, Go ``TestXxx`` (and benchmarks, fuzz
tests, examples) in ``_test.go`` files, Java methods annotated ``@Test`` (or another JUnit test
annotation), Rust functions with a ``#[test]`` attribute (``#[tokio::test]`` too) and the named
functions of JavaScript and TypeScript test files (``*.test.*``, ``*.spec.*``, ``__tests__/``).
The anonymous callbacks of ``it(…)`` and ``test(…)`` are no symbols, so their calls are not seen.

A test is linked to what it calls by name (:attr:`Symbol.calls` holds the last identifier of each
callee), within one language family. Symbols in test files are never targets. When a name is
defined more than once, the definitions that share most with the test win: its own file, a file
its file is named after (``test_parser.py`` → ``parser.py``), a class it calls (``Parser()`` then
``.parse()``) or its directory. A name that stays ambiguous with nothing shared links nothing,
since a guess would attach tests to code they never ran.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import PurePosixPath

from streams.extract import Symbol
from streams.languages import language_for_path

_JUNIT_TESTS = frozenset(
    {"Test", "ParameterizedTest", "RepeatedTest", "TestFactory", "TestTemplate", "Property"}
)
_GO_TEST = re.compile(r"(?:Test|Benchmark|Fuzz|Example)(?![a-z])")
_TEST_AFFIXES = re.compile(r"^tests?_|_tests?$|(?<=[a-z0-9])Tests?$|^Tests?(?=[A-Z])")
_FAMILIES = {"typescript": "javascript", "tsx": "javascript"}

# How much a candidate shares with a test; the best candidates of a called name are linked.
_SAME_FILE, _NAMED_AFTER, _CLASS_CALLED, _SAME_DIRECTORY = 4, 2, 2, 1


@lru_cache(maxsize=16384)
def is_test_file(path: str) -> bool:
    """Whether ``path`` holds tests by its language's convention (its symbols are no targets)."""
    pure = PurePosixPath(path)
    name, parts = pure.name, pure.parts[:-1]
    match _language(path):
        case "":
            return False
        case "python":
            return (
                name.startswith("test_")
                or name.endswith("_test.py")
                or name in ("tests.py", "conftest.py")
                or "tests" in parts
                or "test" in parts
            )
        case "go":
            return name.endswith("_test.go")
        case "java":
            return "test" in parts or bool(re.search(r"(?:Tests?|IT)\.java$", name))
        case "rust":
            return "tests" in parts or "benches" in parts
        case _:  # javascript, typescript, tsx
            return ".test." in name or ".spec." in name or "__tests__" in parts


def is_test(path: str, symbol: Symbol) -> bool:
    """Whether ``symbol`` (defined in ``path``) is a test function by its language's convention."""
    if symbol.kind == "class":
        return False
    match _language(path):
        case "":
            return False
        case "python":
            enclosing = symbol.enclosing_class.rpartition(".")[2]
            return is_test_file(path) and (
                symbol.name.startswith("test") or enclosing.startswith("Test")
            )
        case "go":
            return is_test_file(path) and bool(_GO_TEST.match(symbol.name))  # suites' methods too
        case "java":
            return any(_decorator_name(d, ".") in _JUNIT_TESTS for d in symbol.decorators)
        case "rust":
            return any(_decorator_name(d, "::") in ("test", "rstest") for d in symbol.decorators)
        case _:
            return is_test_file(path)


def related_tests(symbols: Iterable[tuple[str, Symbol]]) -> dict[tuple[str, str], list[str]]:
    """``(path, qualified name)`` of each tested symbol → its tests as ``path::qualified_name``.

    ``symbols`` are all the symbols of one commit with their files' paths. Only symbols some test
    calls are keys; tests are listed once each, in the order given.
    """
    tests: list[tuple[str, Symbol]] = []
    targets: dict[tuple[str, str], list[tuple[str, Symbol]]] = defaultdict(list)
    for path, symbol in symbols:
        if is_test(path, symbol):
            tests.append((path, symbol))
        elif not is_test_file(path) and _language(path):
            targets[_family(path), symbol.name].append((path, symbol))
    linked: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    for path, test in tests:
        family = _family(path)
        called = set(test.calls)
        for name in test.calls:
            for target_path, target in _resolve(path, called, targets.get((family, name), [])):
                linked[target_path, target.qualified_name][f"{path}::{test.qualified_name}"] = None
    return {key: list(names) for key, names in linked.items()}


def _resolve(
    test_path: str, called: set[str], candidates: list[tuple[str, Symbol]]
) -> list[tuple[str, Symbol]]:
    """The candidates a call resolves to: the only one, or those sharing most with the test."""
    if len(candidates) <= 1:
        return candidates
    scores = [_affinity(test_path, called, path, symbol) for path, symbol in candidates]
    best = max(scores)
    if best == 0:
        return []
    return [candidate for candidate, score in zip(candidates, scores, strict=True) if score == best]


def _affinity(test_path: str, called: set[str], path: str, symbol: Symbol) -> int:
    test_file, file = PurePosixPath(test_path), PurePosixPath(path)
    score = 0
    if test_path == path:
        score += _SAME_FILE
    elif _subject(test_file.name) == file.name.split(".")[0].lower():
        score += _NAMED_AFTER
    if symbol.enclosing_class and symbol.enclosing_class.rpartition(".")[2] in called:
        score += _CLASS_CALLED
    if test_file.parent == file.parent:
        score += _SAME_DIRECTORY
    return score


@lru_cache(maxsize=16384)
def _language(path: str) -> str:
    """The name of a file's language, "" when none is registered (cached: paths repeat)."""
    language = language_for_path(path)
    return language.name if language else ""


def _family(path: str) -> str:
    """Languages whose code calls each other's: JavaScript, TypeScript and TSX are one."""
    language = _language(path)
    return _FAMILIES.get(language, language)


def _subject(test_file_name: str) -> str:
    """The file a test file is named after, lowercase and without suffixes.

    ``parser`` for ``test_parser.py``, ``parser_test.go``, ``ParserTest.java`` or
    ``parser.spec.ts``.
    """
    return _TEST_AFFIXES.sub("", test_file_name.split(".")[0]).lower()


def _decorator_name(decorator: str, separator: str) -> str:
    """The bare name of a decorator: ``Test`` of ``org.junit.Test``, ``test`` of ``tokio::test``."""
    return decorator.partition("(")[0].strip().rpartition(separator)[2]
