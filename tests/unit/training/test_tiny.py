"""The tiny base: trained for a few seconds on real code, saved, reloaded, generating."""

import json
import os
import random
import shutil
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaForCausalLM

from training.bases import fim_token_ids, is_saved, load_base
from training.prompts import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, FIM_TOKENS
from training.tiny import (
    END_OF_TEXT,
    Special,
    as_fim,
    atomic_dir,
    lr_factor,
    source_files,
    train_tiny,
    train_tokenizer,
)

STDLIB = Path(os.__file__).parent
TEAM_CODE = '''\
def load_orders(path):
    """Read the orders file."""
    with open(path) as handle:
        return [line.split(",") for line in handle]
'''


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    for name in ("textwrap.py", "shlex.py", "fnmatch.py", "bisect.py", "heapq.py"):
        shutil.copy(STDLIB / name, root / name)
    (root / "orders.py").write_text(TEAM_CODE)
    (root / "app.js").write_text("export function add(a, b) {\n  return a + b;\n}\n")
    return root


@pytest.fixture(scope="module")
def tiny(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    # A few seconds of training want a higher learning rate than the default's minutes.
    return train_tiny(
        out,
        [corpus],
        minutes=1.0,  # 40 steps take seconds; the time is for a busy machine
        max_steps=40,
        batch_size=8,
        seq_len=128,
        learning_rate=3e-3,
        max_chars=150_000,
    )


def test_a_few_seconds_of_training_saves_a_model_whose_loss_dropped(tiny: Path) -> None:
    assert is_saved(tiny)
    assert not [p for p in tiny.parent.iterdir() if p.name.startswith(".tiny.")]
    run = json.loads((tiny / "training.json").read_text())
    assert run["steps"] <= 40
    assert 1e6 < run["parameters"] < 6e6
    assert run["first_loss"] > 8
    assert run["final_loss"] < run["first_loss"] - 1.5
    assert run["heldout_accuracy"] > 0.01  # random is 1 in thousands


def test_the_trained_model_predicts_code_better_than_the_same_model_untrained(
    tiny: Path, corpus: Path
) -> None:
    model, tokenizer = load_base(tiny)
    untrained = LlamaForCausalLM(model.config)
    ids = tokenizer((corpus / "orders.py").read_text(), return_tensors="pt")["input_ids"]
    with torch.no_grad():
        trained_loss = model(input_ids=ids, labels=ids).loss
        untrained_loss = untrained(input_ids=ids, labels=ids).loss
    assert trained_loss < untrained_loss - 1


def test_reloads_with_its_special_tokens_and_generates(tiny: Path) -> None:
    model, tokenizer = load_base(tiny)
    assert tokenizer.eos_token == tokenizer.pad_token == tokenizer.bos_token == END_OF_TEXT
    ids = fim_token_ids(tokenizer)
    assert len(set(ids)) == 3
    assert max(ids) < model.get_input_embeddings().weight.shape[0]
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)  # nothing added
    prompt = tokenizer(f"{FIM_PREFIX}def add(a, b):{FIM_SUFFIX}\n{FIM_MIDDLE}", return_tensors="pt")
    assert prompt["input_ids"][0, 0].item() == ids[0]  # a FIM token is one token
    out = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]
    assert isinstance(AutoModelForCausalLM.from_pretrained(tiny), LlamaForCausalLM)


def test_a_time_budget_stops_training_before_the_step_cap(corpus: Path, tmp_path: Path) -> None:
    out = train_tiny(tmp_path / "t", [corpus], minutes=0.01, max_steps=10_000, max_chars=50_000)
    assert json.loads((out / "training.json").read_text())["steps"] < 100


def test_source_files_are_code_outside_vendored_folders(tmp_path: Path) -> None:
    for name in ("a.py", "web/b.ts", "web/node_modules/c.js", ".git/d.py", "e.txt", "f/g.rs"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "big.js").write_text("x" * 2_000_000)
    found = [p.relative_to(tmp_path).as_posix() for p in source_files(tmp_path)]
    assert found == ["a.py", "f/g.rs", "web/b.ts"]
    assert source_files(tmp_path / "a.py") == [tmp_path / "a.py"]


def test_fim_order_keeps_every_token_and_ends_the_middle() -> None:
    tokenizer = train_tokenizer(["def f(x):\n    return x\n"] * 20, vocab_size=300)
    special = Special.of(tokenizer)
    tokens = torch.arange(100, 160)
    for seed in range(20):
        fim = as_fim(tokens, special, random.Random(seed)).tolist()
        assert len(fim) == len(tokens) + 4
        p, s, m = (fim.index(tokenizer.convert_tokens_to_ids(t)) for t in FIM_TOKENS)
        assert p == 0 < s < m and fim[-1] == tokenizer.convert_tokens_to_ids(END_OF_TEXT)
        assert fim[1:s] + fim[m + 1 : -1] + fim[s + 1 : m] == tokens.tolist()


def test_learning_rate_warms_up_then_decays_to_its_floor() -> None:
    assert lr_factor(0, 0.0) == pytest.approx(0.1)
    assert lr_factor(20, 0.0) == pytest.approx(1.0)
    assert lr_factor(20, 0.5) == pytest.approx(0.55)
    assert lr_factor(500, 1.0) == pytest.approx(0.1)


def test_atomic_dir_replaces_only_once_the_block_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "model"
    with atomic_dir(out) as tmp:
        (tmp / "weights").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "weights").write_text("half")
        raise RuntimeError("interrupted")
    assert (out / "weights").read_text() == "old"
    with atomic_dir(out) as tmp:
        (tmp / "weights").write_text("new")
    assert (out / "weights").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
