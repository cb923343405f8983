"""Dataset generation benchmark: every stage's rate on real source, the whole chain on 1 and 2
cores, and the sanitizer beside detect-secrets and CredSweeper.

The corpus is real code found on the machine: the Python standard library, the JDK's sources
(``src.zip``) when a JDK is installed, npm's JavaScript, Go and Rust files shipped with git and
rustup's docs, and this repository. Per stage it prints snippets/s and MB/s; for extraction also
Python's own ``ast`` over the same Python files (the obvious alternative) as a ratio. The whole
chain (filter → extract → sanitize → annotate → augment → validate, with naming, FIM, error_fix,
architecture rows and related tests, exactly as the push processor runs it) runs over the corpus
cut into commits of 8 files, in one process and in a pool of two taking the next commit as each
is free. ``--quick`` for a CI smoke run. The last line is JSON.
"""

import argparse
import ast
import json
import os
import resource
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tree_sitter import Tree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import sanitizer  # noqa: E402
from streams.annotate import annotate  # noqa: E402
from streams.augment import augment_parsed, inject_error_parsed  # noqa: E402
from streams.commits import warm_up  # noqa: E402
from streams.examples import (  # noqa: E402
    Origin,
    SourceFile,
    StageParams,
    commit_outcomes,
)
from streams.extract import Extraction, Symbol, extract_symbols  # noqa: E402
from streams.fim import fim_spans  # noqa: E402
from streams.languages import language_for_path, parser_for  # noqa: E402
from streams.naming import concept  # noqa: E402
from streams.processor import make_pool  # noqa: E402
from streams.sanitize import find_secrets  # noqa: E402
from streams.snippets import in_file  # noqa: E402
from streams.validate import check_code, fingerprint  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ORIGIN = Origin("bench/corpus", "0" * 40, "a" * 16, NOW, NOW, "Benchmark commit")
PARAMS = StageParams()
Files = list[tuple[str, bytes]]
COMMIT_FILES = 8  # files a commit of the benchmark's stream changes


def _walk(root: Path, pattern: str, limit: int) -> Iterator[tuple[str, bytes]]:
    if not root.is_dir():
        return
    count = 0
    for path in sorted(root.rglob(pattern)):
        if count >= limit:
            return
        if path.is_file() and "test" not in path.parts and path.stat().st_size < 200_000:
            count += 1
            yield str(path), path.read_bytes()


def _jdk(limit: int) -> Iterator[tuple[str, bytes]]:
    for candidate in sorted(Path("/usr/lib/jvm").glob("*/lib/src.zip")):
        with zipfile.ZipFile(candidate) as archive:
            names = [n for n in archive.namelist() if n.startswith("java.base/java/util/")]
            for name in sorted(names)[:limit]:
                if name.endswith(".java"):
                    yield name, archive.read(name)
        return


def corpus(quick: bool) -> Files:
    """Real source files of every supported language this machine has, capped per source."""
    scale = 1 if quick else 4
    stdlib = Path(os.__file__).parent
    sources = [
        _walk(stdlib, "*.py", 60 * scale),
        _walk(ROOT / "streams", "*.py", 40),
        _jdk(40 * scale),
        _walk(Path("/usr/lib/node_modules/npm/lib"), "*.js", 40 * scale),
        _walk(Path("/usr/share/doc/git/contrib"), "*.go", 20),
        _walk(Path.home() / ".rustup", "*.rs", 20 * scale),
        _walk(Path.home() / ".cargo/registry/src", "*.rs", 20 * scale),
    ]
    files = [(p, d) for source in sources for p, d in source if language_for_path(p)]
    return files


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def stage_rates(files: Files) -> dict[str, Any]:
    """Each stage alone over the corpus: snippets/s (and MB/s where it reads whole files)."""
    megabytes = sum(len(d) for _, d in files) / 1e6

    def extract_all() -> list[tuple[Extraction, Tree, bytes]]:
        found = []
        for path, data in files:
            if (spec := language_for_path(path)) is not None:
                tree = parser_for(spec.name).parse(data)
                found.append((extract_symbols(data, path, spec.name, tree=tree), tree, data))
        return found

    extractions, extract_s = _timed(extract_all)
    symbols: list[tuple[str, str, Symbol]] = [
        (e.path, e.language, s) for e, _, _ in extractions for s in e.symbols
    ]
    # Augmented as the chain augments: functions and methods, on their file's tree.
    held = [
        (in_file(tree, data, s.start_byte, s.end_byte, s.start_line - 1, e.language), s)
        for e, tree, data in extractions
        for s in e.symbols
        if s.kind != "class"
    ]
    texts = [d.decode("utf-8", "replace") for _, d in files]
    _, sanitize_s = _timed(lambda: [find_secrets(t) for t in texts])
    _, annotate_s = _timed(
        lambda: [annotate(s, lang, path, s.imports, has_tests=False) for path, lang, s in symbols]
    )

    def augment_all() -> None:
        for i, (snippet, s) in enumerate(held):
            augment_parsed(snippet, s.kind, s.start_column, i)
            inject_error_parsed(snippet, s.kind, s.start_column, i)

    _, augment_s = _timed(augment_all)
    _, validate_s = _timed(
        lambda: [
            (check_code(s.body, lang, s.kind, s.start_column, verbatim=True), fingerprint(s.body))
            for _, lang, s in symbols
        ]
    )
    _, parse_check_s = _timed(
        lambda: [check_code(s.body, lang, s.kind, s.start_column) for _, lang, s in symbols]
    )
    _, derive_s = _timed(
        lambda: [
            (concept(s.name, s.docstring, s.body), fim_spans(s.body, s.signature, i))
            for i, (_, _, s) in enumerate(symbols)
        ]
    )
    n = len(symbols)
    return {
        "files": len(files),
        "megabytes": round(megabytes, 2),
        "snippets": n,
        "extract_snippets_per_s": _rate(n, extract_s),
        "extract_mb_per_s": round(megabytes / extract_s, 2),
        "sanitize_scan_mb_per_s": round(megabytes / sanitize_s, 2),
        "annotate_snippets_per_s": _rate(n, annotate_s),
        "augment_and_inject_snippets_per_s": _rate(len(held), augment_s),
        "validate_fingerprint_snippets_per_s": _rate(n, validate_s),
        "validate_reparse_snippets_per_s": _rate(n, parse_check_s),
        "naming_and_fim_snippets_per_s": _rate(n, derive_s),
    }


def ast_alternative(files: Files) -> dict[str, float]:
    """Python's ``ast`` finding the same definitions in the Python files, against tree-sitter."""
    python = [(p, d) for p, d in files if p.endswith(".py")]
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

    def with_ast() -> int:
        found = 0
        for _, data in python:
            try:
                tree = ast.parse(data)
            except (SyntaxError, ValueError):
                continue
            found += sum(isinstance(node, kinds) for node in ast.walk(tree))
        return found

    ast_count, ast_s = _timed(with_ast)
    ts, ts_s = _timed(lambda: sum(len(extract_symbols(d, p, "python").symbols) for p, d in python))
    return {
        "ast_definitions_per_s": _rate(ast_count, ast_s),
        "tree_sitter_definitions_per_s": _rate(ts, ts_s),
        "tree_sitter_vs_ast": round((ts / ts_s) / (ast_count / ast_s), 2) if ast_count else 0.0,
    }


def chain(files: Files) -> tuple[int, int]:
    """The whole chain over ``files`` as one commit: (completion snippets, rows of all tables)."""
    outcomes = commit_outcomes([SourceFile(p, d) for p, d in files], ORIGIN, PARAMS)
    snippets = sum(len(o.completions) for o in outcomes)
    return snippets, sum(o.rows for o in outcomes)


def commits(files: Files, size: int = COMMIT_FILES) -> list[Files]:
    """The corpus cut into commits of ``size`` neighbouring files, as a push stream brings it."""
    return [files[i : i + size] for i in range(0, len(files), size)]


def chain_rates(files: Files, processes: int = 2) -> dict[str, Any]:
    """The chain over the corpus as a stream of commits, in one process and in a pool that
    takes the next commit as it is free (as the workers of a topic's partitions do)."""
    stream = commits(files)
    counts, one_s = _timed(lambda: [chain(commit) for commit in stream])
    snippets, rows = sum(s for s, _ in counts), sum(r for _, r in counts)
    # The processor's own pool (spawned processes, warmed up as they start); one forked from
    # this process, which holds the corpus and the stages' results, ran 2-5 % slower.
    with make_pool(processes) as pool:
        list(pool.map(chain, [files[:5]] * processes))  # every process has started
        results, pool_s = _timed(lambda: list(pool.map(chain, stream)))
    pool_snippets = sum(s for s, _ in results)
    return {
        "chain_commits": len(stream),
        "chain_snippets": snippets,
        "chain_rows": rows,
        "chain_snippets_per_s_1_process": _rate(snippets, one_s),
        "chain_rows_per_s_1_process": _rate(rows, one_s),
        f"chain_snippets_per_s_{processes}_processes": _rate(pool_snippets, pool_s),
        "target_snippets_per_s": 5000,
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller corpus, for CI")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    files = corpus(args.quick)
    warm_up()  # every grammar and query compiled first, as a worker does as it starts
    languages: dict[str, int] = {}
    for path, _ in files:
        spec = language_for_path(path)
        if spec is not None:
            languages[spec.name] = languages.get(spec.name, 0) + 1
    figures: dict[str, Any] = {"languages": languages}
    figures.update(stage_rates(files))
    figures.update(ast_alternative(files))
    figures.update(chain_rates(files))
    figures["sanitizer"] = sanitizer.run(args.quick)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.format == "text":
        for key, value in figures.items():
            print(f"{key:>40}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
