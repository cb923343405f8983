"""Sanitizer benchmark: codemill's scanner beside detect-secrets and CredSweeper, on the same files.

All three scan the labelled corpus of ``benchmarks/secrets_corpus.py`` (six languages, YAML, JSON,
``.env``, INI) written to a temporary folder. Per tool it prints recall (planted secrets reported
on their line, or anywhere in a multi-line block; secrets and personal data apart, since only
codemill looks for the latter), the share of decoys flagged, findings on lines that are neither,
and MB/s over the corpus, reading files included. Then codemill's rate on real source, the
standard library's ``.py`` files in memory on one core, with detect-secrets over the same files
for the speed ratio (a sample of them with ``--quick``). CredSweeper runs with its defaults, ML
filter on, in one process. detect-secrets and CredSweeper are imported only when they run.
``--quick`` for a CI smoke run; the last line printed is JSON.
"""

import argparse
import json
import os
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.secrets_corpus import PII, Corpus, Label, generate  # noqa: E402
from streams.sanitize import find_secrets, hyperscan_available  # noqa: E402

Hits = set[tuple[str, int]]  # (file relative to the corpus root, 1-based line)
Scanner = Callable[[Path, list[str]], Hits]
TARGETS = {"recall": 0.99, "decoys_flagged": 0.03, "speed_vs_detect_secrets": 100.0, "mb_s": 50.0}


def scan_codemill(root: Path, files: list[str]) -> Hits:
    hits: Hits = set()
    for name in files:
        text = (root / name).read_text("utf-8", "replace")
        hits |= {(name, finding.line) for finding in find_secrets(text)}
    return hits


def scan_detect_secrets(root: Path, files: list[str]) -> Hits:
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    collection = SecretsCollection(root=str(root))
    with default_settings():
        for name in files:
            collection.scan_file(name)
    return {(name.replace(os.sep, "/"), secret.line_number) for name, secret in collection}


def scan_credsweeper(root: Path, files: list[str]) -> Hits:
    from credsweeper.app import CredSweeper
    from credsweeper.file_handler.files_provider import FilesProvider

    sweeper = CredSweeper(pool_count=1)  # ML validation on, as by default
    sweeper.run(FilesProvider([root / name for name in files]))
    hits: Hits = set()
    for candidate in sweeper.credential_manager.get_credentials():
        for line in candidate.line_data_list:
            hits.add((Path(line.path).relative_to(root).as_posix(), line.line_num))
    return hits


TOOLS: dict[str, Scanner] = {
    "codemill": scan_codemill,
    "detect-secrets": scan_detect_secrets,
    "credsweeper": scan_credsweeper,
}


def _found(label: Label, hits: Hits) -> bool:
    return any((label.file, line) in hits for line in range(label.line, label.end_line + 1))


def _share(labels: list[Label], hits: Hits) -> float:
    return sum(_found(label, hits) for label in labels) / max(len(labels), 1)


def score(corpus: Corpus, hits: Hits) -> dict[str, Any]:
    """Recall on planted secrets and PII, decoys flagged, and findings on other lines."""
    secrets = [label for label in corpus.secrets if label.kind not in PII]
    pii = [label for label in corpus.secrets if label.kind in PII]
    labelled = {
        (label.file, line)
        for label in (*corpus.secrets, *corpus.decoys)
        for line in range(label.line, label.end_line + 1)
    }
    missed = Counter(label.kind for label in corpus.secrets if not _found(label, hits))
    flagged = Counter(label.kind for label in corpus.decoys if _found(label, hits))
    return {
        "recall": round(_share(corpus.secrets, hits), 4),
        "recall_secrets": round(_share(secrets, hits), 4),
        "recall_pii": round(_share(pii, hits), 4),
        "decoys_flagged": round(_share(corpus.decoys, hits), 4),
        "other_lines_flagged": len(hits - labelled),
        "missed": dict(missed.most_common()),
        "decoys_flagged_by_kind": dict(flagged.most_common()),
    }


def _timed(scan: Scanner, root: Path, files: list[str]) -> tuple[Hits, float]:
    started = time.perf_counter()
    hits = scan(root, files)
    return hits, time.perf_counter() - started


def stdlib_texts(limit_bytes: int | None) -> list[str]:
    """The standard library's ``.py`` files, in path order, up to ``limit_bytes``."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts: list[str] = []
    total = 0
    for path in sorted(stdlib.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        texts.append(path.read_text("utf-8", "replace"))
        total += len(texts[-1].encode())
        if limit_bytes is not None and total >= limit_bytes:
            break
    return texts


def _mb_s(texts: Iterable[str], seconds: float) -> float:
    return round(sum(len(t.encode()) for t in texts) / 1e6 / max(seconds, 1e-9), 2)


def real_source_speed(quick: bool) -> dict[str, Any]:
    """codemill and detect-secrets on the same standard-library files, in one process each."""
    texts = stdlib_texts(2_000_000 if quick else None)
    find_secrets("warm up: compile the hyperscan database")
    started = time.perf_counter()
    for text in texts:
        find_secrets(text)
    codemill_s = time.perf_counter() - started
    sample = texts if not quick else texts[: max(1, len(texts) // 4)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = []
        for i, text in enumerate(sample):
            names.append(f"m{i}.py")
            (root / names[-1]).write_text(text)
        _, detect_s = _timed(scan_detect_secrets, root, names)
    codemill_rate = _mb_s(texts, codemill_s)
    detect_rate = _mb_s(sample, detect_s)
    return {
        "files": len(texts),
        "mb": round(sum(len(t.encode()) for t in texts) / 1e6, 2),
        "codemill_mb_s": codemill_rate,
        "detect_secrets_mb_s": detect_rate,
        "speed_vs_detect_secrets": round(codemill_rate / max(detect_rate, 1e-9), 1),
        "hyperscan": hyperscan_available(),
    }


def run(quick: bool) -> dict[str, Any]:
    """Every figure of the benchmark, as printed in its JSON line."""
    corpus = generate(files_per_format=2 if quick else 8)
    files = sorted(corpus.files)
    tools: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus.write(root)
        find_secrets("warm up: compile the hyperscan database")
        for name, scan in TOOLS.items():
            hits, seconds = _timed(scan, root, files)
            tools[name] = {**score(corpus, hits), "mb_s": round(corpus.size / 1e6 / seconds, 3)}
    speed = real_source_speed(quick)
    corpus_ratio = tools["codemill"]["mb_s"] / max(tools["detect-secrets"]["mb_s"], 1e-9)
    return {
        "corpus": {
            "files": len(corpus.files),
            "mb": round(corpus.size / 1e6, 3),
            "secrets": len(corpus.secrets),
            "decoys": len(corpus.decoys),
        },
        "tools": tools,
        "real_source": speed,
        "corpus_speed_vs_detect_secrets": round(corpus_ratio, 1),
        "targets": TARGETS,
    }


def _print_table(figures: dict[str, Any]) -> None:
    corpus = figures["corpus"]
    print(
        f"corpus: {corpus['files']} files, {corpus['mb']} MB, "
        f"{corpus['secrets']} planted, {corpus['decoys']} decoys"
    )
    print(f"{'tool':<16}{'recall':>8}{'secrets':>9}{'pii':>7}{'decoys':>8}{'other':>7}{'MB/s':>9}")
    for name, row in figures["tools"].items():
        print(
            f"{name:<16}{row['recall']:>8.3f}{row['recall_secrets']:>9.3f}{row['recall_pii']:>7.3f}"
            f"{row['decoys_flagged']:>8.3f}{row['other_lines_flagged']:>7}{row['mb_s']:>9.2f}"
        )
    for name, row in figures["tools"].items():
        if row["missed"] or row["decoys_flagged_by_kind"]:
            print(f"{name}: missed {row['missed']}; decoys flagged {row['decoys_flagged_by_kind']}")
    speed = figures["real_source"]
    print(
        f"real source (stdlib, {speed['files']} files, {speed['mb']} MB, one core): codemill "
        f"{speed['codemill_mb_s']} MB/s, detect-secrets {speed['detect_secrets_mb_s']} MB/s, "
        f"x{speed['speed_vs_detect_secrets']} (hyperscan: {speed['hyperscan']})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small corpus, for CI")
    parser.add_argument("--format", choices=("json", "text"), default="text")
    args = parser.parse_args(argv)
    figures = run(args.quick)
    if args.format == "text":
        _print_table(figures)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
