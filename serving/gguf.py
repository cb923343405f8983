"""A Llama-architecture Hugging Face causal LM (a base, or a base with a version's adapter merged)
written as a GGUF file for llama.cpp, once per content: :func:`cached_gguf` names the file by a
hash of the weights, the hyper-parameters, the tokenizer and the weight type.

It follows ``convert_hf_to_gguf.py``'s conventions for Llama: llama.cpp's rotary embedding pairs
rows differently, so the rows of ``q_proj`` and ``k_proj`` are permuted per head; a tied output
projection is left out (llama.cpp reuses the token embeddings); norms stay float32. The tokenizer
must be a GPT-2-style byte-level BPE: its tokens, types, merges and special ids (pad and FIM
tokens included) are written, and its pre-tokenizer is named for llama.cpp where it is one
llama.cpp knows. A row too short to quantize stays ``f16``.

Weight types, measured on SmolLM2-135M (2 CPU cores; next-token agreement with float32):
``q8_0`` (the default) decodes fastest, 8 ms a token, but llama.cpp also quantizes the
activations of 8-bit layers: 95% agreement; ``bf16`` prefills fastest where the CPU has
AVX512-BF16, decodes at 11 ms, 99%; ``f16`` 99.9%, the slowest; ``f32`` for tests; ``q4_1`` loses
most (90% for a merged adapter).
"""

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import gguf
import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from common.errors import ConfigError
from training.prompts import FIM_TOKENS

WeightType = Literal["f32", "f16", "bf16", "q8_0", "q4_1"]
# Bump when what is written changes, so that cached files of the old layout are not reused.
LAYOUT = 1

_QTYPES = {
    "f32": (gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32),
    "f16": (gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16),
    "bf16": (gguf.GGMLQuantizationType.BF16, gguf.LlamaFileType.MOSTLY_BF16),
    "q8_0": (gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    "q4_1": (gguf.GGMLQuantizationType.Q4_1, gguf.LlamaFileType.MOSTLY_Q4_1),
}
_LLAMA3_REGEX = (
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
)


def cached_gguf(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    cache_dir: Path,
    weight_type: WeightType = "q8_0",
) -> Path:
    """The GGUF file of ``model`` in ``cache_dir``, written first if no earlier call wrote it."""
    path = cache_dir / f"{content_key(model, tokenizer, weight_type)}.{weight_type}.gguf"
    if not path.is_file():
        write_gguf(model, tokenizer, path, weight_type)
    return path


def content_key(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, weight_type: WeightType
) -> str:
    """A hash of all that the GGUF file is made of: equal models give equal keys."""
    digest = hashlib.sha256(f"{LAYOUT}:{weight_type}".encode())
    config = {k: v for k, v in model.config.to_dict().items() if not k.startswith("_")}
    config.pop("transformers_version", None)
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    digest.update(_tokenizer_json(tokenizer).encode())
    digest.update(json.dumps(_special_ids(tokenizer), sort_keys=True).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:32]


def write_gguf(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    path: Path,
    weight_type: WeightType = "q8_0",
) -> Path:
    """``model`` and ``tokenizer`` as a GGUF file at ``path``, which appears complete or not at
    all (written beside it, then renamed)."""
    config = model.config
    if config.model_type != "llama":
        raise ConfigError(
            f"the llama.cpp engine converts Llama-architecture models only, not "
            f"{config.model_type!r}; serve this base with the transformers engine"
        )
    qtype, file_type = _QTYPES[weight_type]
    writer = gguf.GGUFWriter(None, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_name(str(getattr(config, "_name_or_path", "") or "codemill"))
    writer.add_file_type(file_type)
    if weight_type.startswith("q"):
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    rows = _embedding_rows(model)
    extra = _add_hparams(writer, config, rows)
    _add_vocab(writer, tokenizer, rows)
    for name, data in [*_tensors(model), *extra]:
        data_type = _tensor_type(name, data, qtype)
        writer.add_tensor(name, gguf.quants.quantize(data, data_type), raw_dtype=data_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer.write_header_to_file(Path(tmp))
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep other users' replicas out
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _add_hparams(
    writer: gguf.GGUFWriter, config: Any, rows: int
) -> list[tuple[str, np.ndarray[Any, Any]]]:
    """The hyper-parameters; returns the extra tensors they need (llama3 rope frequencies)."""
    heads, hidden = config.num_attention_heads, config.hidden_size
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    writer.add_vocab_size(rows)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(hidden)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(heads)
    writer.add_head_count_kv(config.num_key_value_heads or heads)
    if head_dim != hidden // heads:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    rope = dict(
        getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    )
    writer.add_rope_freq_base(float(rope.get("rope_theta", getattr(config, "rope_theta", 1e4))))
    kind = rope.get("rope_type", rope.get("type", "default"))
    if kind == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(float(rope["factor"]))
    elif kind == "llama3":
        base = float(rope.get("rope_theta", getattr(config, "rope_theta", 1e4)))
        return [("rope_freqs.weight", _llama3_rope_factors(rope, base, head_dim))]
    elif kind != "default":
        raise ConfigError(
            f"rope scaling {kind!r} is not converted to GGUF; serve this base with the "
            "transformers engine"
        )
    return []


def _llama3_rope_factors(rope: dict[str, Any], base: float, dim: int) -> np.ndarray[Any, Any]:
    """Llama 3's per-frequency rope factors, as ``convert_hf_to_gguf.py`` computes them."""
    factor = rope.get("factor", 8.0)
    low, high = rope.get("low_freq_factor", 1.0), rope.get("high_freq_factor", 4.0)
    old = rope.get("original_max_position_embeddings", 8192)
    factors = []
    for freq in 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim)):
        wavelen = 2 * math.pi / freq
        if wavelen < old / high:
            factors.append(1.0)
        elif wavelen > old / low:
            factors.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(factors, dtype=np.float32)


def _tensors(model: PreTrainedModel) -> Iterator[tuple[str, np.ndarray[Any, Any]]]:
    """Each weight under its GGUF name, float32, q and k rows permuted for llama.cpp's rope."""
    config = model.config
    heads = config.num_attention_heads
    kv_heads = config.num_key_value_heads or heads
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    output: Any = model.get_output_embeddings()  # type: ignore[no-untyped-call]
    tied = output is not None and output.weight is model.get_input_embeddings().weight
    for name, tensor in model.state_dict().items():
        if "rotary_emb" in name or (tied and name.startswith("lm_head.")):
            continue
        new_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise ConfigError(f"model weight {name!r} has no GGUF name for Llama; not convertible")
        data = tensor.detach().to(torch.float32).cpu().numpy()
        if name.endswith(("q_proj.weight", "q_proj.bias")):
            data = _permute(data, heads)
        elif name.endswith(("k_proj.weight", "k_proj.bias")):
            data = _permute(data, kv_heads)
        yield new_name, data


def _embedding_rows(model: PreTrainedModel) -> int:
    weight = model.get_input_embeddings().weight
    assert isinstance(weight, torch.Tensor)
    return weight.shape[0]


def _permute(weights: np.ndarray[Any, Any], heads: int) -> np.ndarray[Any, Any]:
    """Each head's rows from halves (HF's rotate_half) to interleaved pairs (llama.cpp)."""
    shape = weights.shape
    split = weights.reshape(heads, 2, shape[0] // heads // 2, *shape[1:])
    return split.swapaxes(1, 2).reshape(shape)


def _tensor_type(
    name: str, data: np.ndarray[Any, Any], wanted: gguf.GGMLQuantizationType
) -> gguf.GGMLQuantizationType:
    if data.ndim < 2 or wanted == gguf.GGMLQuantizationType.F32:
        return gguf.GGMLQuantizationType.F32
    if wanted == gguf.GGMLQuantizationType.Q4_1 and name in ("token_embd.weight", "output.weight"):
        wanted = gguf.GGMLQuantizationType.Q8_0  # as llama.cpp's 4-bit files keep them
    block, _ = gguf.GGML_QUANT_SIZES[wanted]
    return wanted if data.shape[-1] % block == 0 else gguf.GGMLQuantizationType.F16


def _add_vocab(writer: gguf.GGUFWriter, tokenizer: PreTrainedTokenizerBase, rows: int) -> None:
    spec = json.loads(_tokenizer_json(tokenizer))
    model, pre = spec.get("model", {}), spec.get("pre_tokenizer")
    if model.get("type") != "BPE" or "ByteLevel" not in json.dumps(pre):
        raise ConfigError(
            "the llama.cpp engine converts GPT-2-style byte-level BPE tokenizers only; serve "
            "this base with the transformers engine"
        )
    vocab = tokenizer.get_vocab()
    if max(vocab.values()) >= rows:
        raise ConfigError(f"the tokenizer has ids past the model's {rows} embedding rows")
    added = tokenizer.added_tokens_decoder
    by_id = {i: token for token, i in vocab.items()}
    tokens, types = [], []
    for i in range(rows):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        tokens.append(by_id[i])
        if i in added:
            types.append(
                gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED
            )
        else:
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(_pre_tokenizer_name(pre))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    with tempfile.TemporaryDirectory() as folder:
        tokenizer.save_pretrained(folder)
        special = gguf.SpecialVocab(folder, load_merges=True, n_vocab=rows)
    special.chat_template = None  # completion only; a template is no use to llama.cpp here
    special.add_special_token = _added_specials(tokenizer)
    special.add_to_gguf(writer, quiet=True)
    for key, token in zip(_FIM_KEYS, FIM_TOKENS, strict=True):
        if token in vocab:
            writer.add_uint32(key, vocab[token])


_FIM_KEYS = (
    gguf.Keys.Tokenizer.FIM_PRE_ID,
    gguf.Keys.Tokenizer.FIM_SUF_ID,
    gguf.Keys.Tokenizer.FIM_MID_ID,
)


def _pre_tokenizer_name(pre: Any) -> str:
    """llama.cpp's name for the pre-tokenizer (its split regex), ``default`` where it has none
    (the engine tokenizes with the Hugging Face tokenizer, never with llama.cpp's)."""
    steps = pre.get("pretokenizers", [pre]) if isinstance(pre, dict) else []
    kinds = [step.get("type") for step in steps]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "gpt-2"
    if kinds == ["Digits", "ByteLevel"] and steps[0].get("individual_digits"):
        return "smollm"
    if kinds == ["Split", "ByteLevel"] and steps[0].get("pattern", {}).get("Regex") == (
        _LLAMA3_REGEX
    ):
        return "llama-bpe"
    return "default"


def _added_specials(tokenizer: PreTrainedTokenizerBase) -> dict[str, bool]:
    """Whether the tokenizer puts bos before and eos after a text it encodes."""
    ids = tokenizer("x")["input_ids"]
    return {
        "bos": tokenizer.bos_token_id is not None and ids[0] == tokenizer.bos_token_id,
        "eos": tokenizer.eos_token_id is not None and ids[-1] == tokenizer.eos_token_id,
    }


def _special_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
    roles = ("bos", "eos", "unk", "pad")
    return {role: getattr(tokenizer, f"{role}_token_id", None) for role in roles}


def _tokenizer_json(tokenizer: PreTrainedTokenizerBase) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ConfigError(
            f"the tokenizer ({type(tokenizer).__name__}) is not a fast tokenizer; the llama.cpp "
            "engine needs one (tokenizer.json)"
        )
    return str(backend.to_str())
