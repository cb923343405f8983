"""Every benchmark runs in its --quick form and prints its figures as a JSON line."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def quick_figures(script: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """The JSON figures (the last stdout line) of ``benchmarks/<script> --quick <args>``."""
    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--quick", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def test_ingest_benchmark_quick() -> None:
    figures = quick_figures("ingest.py", timeout=600)
    assert figures["commits"] == 200
    assert figures["rows_in_delta"] > 0 and figures["examples_per_s"] > 0
    assert figures["push_to_queryable_p95_s"] is not None
    assert figures["bare_extraction_symbols_per_s"] > 0


def test_datasets_benchmark_quick() -> None:
    figures = quick_figures("datasets.py", "--format", "json")
    assert figures["snippets"] > 0 and figures["chain_snippets"] > 0
    assert figures["chain_snippets_per_s_1_process"] > 0
    assert figures["chain_snippets_per_s_2_processes"] > 0
    assert figures["tree_sitter_vs_ast"] > 0
    tools = figures["sanitizer"]["tools"]
    assert {"codemill", "detect-secrets", "credsweeper"} <= set(tools)
    assert tools["codemill"]["mb_s"] > 0


def test_training_benchmark_quick(tmp_path: Path) -> None:
    figures = quick_figures(
        "training.py", "--home", str(tmp_path), "--tiny-minutes", "0.2", "--format", "json"
    )
    tiny = figures["tiny"]
    assert tiny["ray_train_tokens_per_s"] > 0 and tiny["plain_trainer_tokens_per_s"] > 0
    assert tiny["ray_train_vs_plain_tokens_per_s"] > 0
    assert 0 < tiny["adapter_mb"] < 50


def test_serving_benchmark_quick(tmp_path: Path) -> None:
    figures = quick_figures("serving.py", "--home", str(tmp_path), "--format", "json")
    tiny = figures["tiny"]
    for server in ("codemill", "naive"):
        for clients in ("1", "8"):
            level = tiny[server][clients]
            assert level["requests"] > 0 and level["errors"] == 0
            assert 0 < level["p50_ms"] <= level["p95_ms"] <= level["p99_ms"]
            assert level["completions_per_s"] > 0
    assert tiny["codemill_vs_naive"]["8"]["throughput"] > 0
    assert tiny["codemill_vs_naive"]["8"]["p50"] > 0


def test_decode_benchmark_quick(tmp_path: Path) -> None:
    figures = quick_figures("decode.py", "--home", str(tmp_path))
    for batch in ("1", "8"):
        row = figures[batch]
        for engine in ("generate", "decoder"):
            assert 0 < row[engine]["p50_ms"] <= row[engine]["p95_ms"]
            assert row[engine]["completions_per_s"] > 0
        assert row["throughput_ratio"] > 0
        same, total = (int(n) for n in row["same_text"].split("/"))
        assert total == 3 * int(batch) and same >= 0.9 * total  # greedy: generate's own text


@pytest.mark.timeout(1500)  # a whole loop: two fine-tunes and two rollouts
def test_freshness_benchmark_quick() -> None:
    figures = quick_figures("freshness.py", "--format", "json", timeout=1500)
    assert figures["base"] == "tiny" and figures["setup_first_version_live_s"] > 0
    assert 0 < figures["push_to_first_row_s"] <= figures["push_to_all_rows_s"]
    assert figures["push_to_drift_report_s"] >= figures["rows_to_drift_report_s"] >= 0
    assert figures["push_to_candidate_registered_s"] > figures["push_to_drift_report_s"]
    if "candidate" not in figures:  # blessed: it served as a canary
        assert figures["push_to_canary_serving_s"] >= figures["push_to_candidate_registered_s"]
