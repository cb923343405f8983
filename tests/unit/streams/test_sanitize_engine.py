"""Unit tests for the sanitizer's engine: hyperscan and ``re`` agree, the fallback works, offsets
survive non-ASCII text, threads share nothing, and the labelled corpus is found and left alone.
"""

import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.sanitizer import score
from benchmarks.secrets_corpus import Corpus, generate
from streams.sanitize import EngineUnavailable, find_secrets, hyperscan_available, redact
from streams.sanitize.engine import Rule, Scanner, Span

CORPUS = generate(seed=11, files_per_format=2)

SNIPPETS = [
    "def connect():\n    return psycopg.connect(password='Kx9#mP2vL7q', host='10.1.2.3')\n",
    "const key = `-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "Ab3De5Gh7Jk9Mn2P" * 4 + "\n"
    "-----END RSA PRIVATE KEY-----`;\n",
    'func main() {\n\ttoken := "gh' + "p_" + "aB3dE5gH7jK9" * 3 + '"\n}\n',
    "# Jane Doe <jane.doe@acme-corp.io>, +1 415 867 2671, 2a00:1450:4001:82b::200e\n",
    'übersicht = \'ünïcödé\' ; 密码 = "Kx9#mP2vL7q"\n🙂 password = "Kx9#mP2vL7q" 🙂\n',
]


def hyperscan_or_skip() -> None:
    if not hyperscan_available():
        pytest.skip("hyperscan is not installed here; the re engine is tested everywhere")


@pytest.mark.parametrize("name", sorted(CORPUS.files))
def test_engines_agree_on_the_corpus(name: str) -> None:
    hyperscan_or_skip()
    text = CORPUS.files[name]
    assert find_secrets(text, engine="hyperscan") == find_secrets(text, engine="re")


@pytest.mark.parametrize("text", SNIPPETS)
def test_engines_agree_on_snippets_and_offsets_survive_non_ascii(text: str) -> None:
    hyperscan_or_skip()
    fast, slow = find_secrets(text, engine="hyperscan"), find_secrets(text, engine="re")
    assert fast == slow and fast
    for finding in fast:
        assert "\n" not in text[finding.start : finding.end] or finding.kind == "private_key"


def test_offsets_after_wide_characters_point_at_the_secret() -> None:
    text = "# 日本語のコメント 🙂\npassword = 'Kx9#mP2vL7q'\n"
    (finding,) = find_secrets(text)
    assert text[finding.start : finding.end] == "Kx9#mP2vL7q"
    assert finding.line == 2


def test_the_corpus_is_found_and_its_decoys_left_alone() -> None:
    hits = {
        (name, finding.line)
        for name, text in CORPUS.files.items()
        for finding in find_secrets(text)
    }
    figures = score(CORPUS, hits)
    assert figures["recall"] >= 0.99, figures["missed"]
    assert figures["decoys_flagged"] <= 0.03, figures["decoys_flagged_by_kind"]


def test_redacting_the_corpus_reaches_a_fixed_point() -> None:
    for text in CORPUS.files.values():
        once, findings = redact(text)
        assert findings
        assert redact(once) == (once, [])


def test_threads_scan_concurrently_with_the_same_results() -> None:
    texts = list(CORPUS.files.values()) * 3
    expected = [find_secrets(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(find_secrets, texts)) == expected


def test_the_corpus_is_deterministic_and_labelled_in_range() -> None:
    again: Corpus = generate(seed=11, files_per_format=2)
    assert again.files == CORPUS.files and again.secrets == CORPUS.secrets
    for label in (*CORPUS.secrets, *CORPUS.decoys):
        assert 1 <= label.line <= label.end_line <= CORPUS.files[label.file].count("\n")
    assert {label.kind for label in CORPUS.secrets} >= {"private_key", "jwt", "phone", "ipv6"}


def _find_ab(text: str, lo: int, hi: int) -> Iterator[Span]:
    for match in re.finditer("ab", text[lo:hi]):
        yield "ab", lo + match.start(), lo + match.end()


def test_a_rule_hyperscan_cannot_compile_falls_back_to_re_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scanner = Scanner([Rule(_find_ab, ("a(?=b)",))])  # hyperscan has no lookaheads
    with caplog.at_level(logging.WARNING, logger="streams.sanitize.engine"):
        assert scanner.spans("xx ab\nab") == [("ab", 3, 5), ("ab", 6, 8)]
    assert not scanner.hyperscan_available
    assert "using re alone" in caplog.text
    with pytest.raises(EngineUnavailable):
        scanner.spans("ab", engine="hyperscan")


def test_hints_mark_the_lines_the_re_fallback_confirms() -> None:
    scanner = Scanner([Rule(_find_ab, ("ab",), hints=("b",))])
    assert scanner.spans("ab\nxx\nzab", engine="re") == [("ab", 0, 2), ("ab", 7, 9)]
