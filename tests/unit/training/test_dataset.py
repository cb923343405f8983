"""The training mix: examples per table, the split by commit time, incremental replay."""

from datetime import UTC, datetime, timedelta
from typing import Any

from training.dataset import build_mix, held_out_commits, to_texts
from training.prompts import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def completion(i: int, commit: int) -> dict[str, Any]:
    body = f"def f{i}(x):\n    return x + {i}\n"
    return {
        "id": f"c{i}",
        "commit": f"sha{commit}",
        "committed_at": T0 + timedelta(days=commit),
        "language": "python",
        "context": "import os\n",
        "body": body,
        "fim_spans": [[body.index("return"), len(body) - 1]],
    }


def naming(i: int, commit: int) -> dict[str, Any]:
    return {
        "id": f"n{i}",
        "commit": f"sha{commit}",
        "committed_at": T0 + timedelta(days=commit),
        "language": "python",
        "convention": "snake_case",
        "concept": "def <name>(x):\n    return x",
        "name": "identity",
    }


def test_completion_rows_train_left_to_right_or_fill_in_the_middle() -> None:
    rows = [completion(i, 0) for i in range(200)]
    texts = to_texts("completion", rows)
    fim = [t for t in texts if t.prompt.startswith(FIM_PREFIX)]
    plain = [t for t in texts if not t.prompt.startswith(FIM_PREFIX)]
    assert 60 < len(fim) < 140  # about half
    one = fim[0]
    assert FIM_SUFFIX in one.prompt and one.prompt.endswith(FIM_MIDDLE)
    assert one.target.startswith("return x + ")
    assert plain[0].prompt == "import os\n" and plain[0].target.startswith("def f")
    assert to_texts("completion", rows) == texts  # the choice is deterministic


def test_naming_rows_become_instruction_pairs() -> None:
    (text,) = to_texts("naming", [naming(0, 0)])
    assert "snake_case" in text.prompt and "<name>" in text.prompt
    assert text.target == "identity"


def test_the_most_recent_commits_are_held_out() -> None:
    times = {f"sha{i}": T0 + timedelta(days=i) for i in range(10)}
    assert held_out_commits(times, 0.2) == {"sha8", "sha9"}
    assert held_out_commits({"only": T0}, 0.5) == set()
    assert held_out_commits({"a": T0, "b": T0 + timedelta(1)}, 0.9) == {"b"}


def test_mix_splits_by_commit_and_caps() -> None:
    tables = {
        "completion": [completion(i, i % 10) for i in range(100)],
        "naming": [naming(i, i % 10) for i in range(50)],
    }
    mix = build_mix(tables, holdout_fraction=0.1, max_examples=1000, eval_examples=1000)
    held = {t.id for t in mix.held_out}
    assert held == {f"c{i}" for i in range(9, 100, 10)} | {f"n{i}" for i in range(9, 50, 10)}
    assert not held & {t.id for t in mix.train}
    assert mix.per_table == {"completion": 90, "naming": 45}
    capped = build_mix(tables, holdout_fraction=0.1, max_examples=10, eval_examples=3)
    assert len(capped.train) == 10 and len(capped.held_out) == 3
    again = build_mix(tables, holdout_fraction=0.1, max_examples=10, eval_examples=3)
    assert [t.id for t in again.held_out] == [t.id for t in capped.held_out]


def test_incremental_mix_trains_new_rows_and_replays_old_ones() -> None:
    tables = {"completion": [completion(i, i % 10) for i in range(100)]}
    new = {f"c{i}" for i in range(0, 20)}
    mix = build_mix(
        tables,
        holdout_fraction=0.1,
        max_examples=1000,
        eval_examples=100,
        new_ids=new,
        replay_ratio=0.5,
    )
    trained = {t.id for t in mix.train}
    fresh = {i for i in new if int(i[1:]) % 10 != 9}
    assert fresh <= trained
    assert mix.replayed == len(fresh) // 2
    assert len(trained) == len(fresh) + mix.replayed


def feedback(i: int, kind: str, suffix: str = "") -> dict[str, Any]:
    return {
        "id": f"f{i}",
        "kind": kind,
        "prompt": "def total(items):\n    ",
        "suffix": suffix,
        "corrected": "return sum(i.price for i in items)" if kind == "correction" else "",
        "received_at": T0 + timedelta(days=30),
        "language": "python",
    }


def test_corrections_train_weighted_up_and_are_never_held_out() -> None:
    rows = {
        "completion": [completion(i, i % 5) for i in range(50)],
        "feedback": [
            feedback(1, "correction"),
            feedback(2, "correction", suffix="\n\nprint(total([]))\n"),
            feedback(3, "accept"),
            feedback(4, "reject"),
            feedback(5, "rating"),
        ],
    }
    mix = build_mix(
        rows, holdout_fraction=0.2, max_examples=1000, eval_examples=100, feedback_weight=3.0
    )
    corrections = {t.id: t for t in mix.train if t.table == "feedback"}
    assert set(corrections) == {"f1", "f2"} and mix.per_table["feedback"] == 2
    assert all(t.weight == 3.0 for t in corrections.values())
    assert all(t.weight == 1.0 for t in mix.train if t.table == "completion")
    assert corrections["f1"].target == "return sum(i.price for i in items)"
    assert corrections["f1"].prompt == "def total(items):\n    "
    fim = corrections["f2"].prompt
    assert fim.startswith(FIM_PREFIX) and FIM_SUFFIX in fim
    assert not [t for t in mix.held_out if t.table == "feedback"]
    # The time split is the commits' alone: feedback received later moves no commit out.
    assert {t.id for t in mix.held_out} == {f"c{i}" for i in range(50) if i % 5 == 4}


def test_an_incremental_run_trains_only_on_corrections_new_since_its_parent() -> None:
    rows = {
        "completion": [completion(i, i % 5) for i in range(20)],
        "feedback": [feedback(1, "correction"), feedback(2, "correction")],
    }
    mix = build_mix(
        rows, holdout_fraction=0.2, max_examples=1000, eval_examples=100, new_ids={"f2", "c1"}
    )
    assert sorted(t.id for t in mix.train) == ["c1", "f2"]
