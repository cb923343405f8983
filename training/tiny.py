"""The tiny base: a ≈5M-parameter Llama-architecture code model trained here, from scratch.

For fast tests and for sites that want nothing pre-trained. It learns from code found offline:
the Python standard library's own sources plus the given corpus folders. A byte-level BPE
tokenizer (``tokenizers``, with the end-of-text and fill-in-the-middle tokens) is trained first,
then the model by a plain torch loop on every core (AdamW, warmup then cosine decay; bfloat16
autocast where the CPU has it natively), bounded by a wall-clock budget and a step cap, whichever
ends first; a share of the sequences is in fill-in-the-middle order so the FIM tokens train too.
The model, its tokenizer and ``training.json`` (what the run did, with its held-out next-token
accuracy) are saved in Hugging Face format.
"""

import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from common.errors import ConfigError
from training.prompts import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, FIM_TOKENS

END_OF_TEXT = "<|endoftext|>"
SOURCE_SUFFIXES = frozenset({".py", ".js", ".ts", ".tsx", ".go", ".java", ".rs"})
# Vendored, generated or installed code is not the code we want to learn from.
_SKIPPED_DIRS = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages", "dist-packages"}
)
_STDLIB_SKIPPED = frozenset({"test", "tests", "idlelib", "turtledemo"})
_MAX_FILE_BYTES = 1_000_000  # larger files are data or minified, not code to imitate
_HELDOUT_BUCKETS = 10  # one standard-library file in ten is never trained on


@dataclass(frozen=True, slots=True)
class TinyShape:
    """The model's architecture (≈5.3M parameters with these defaults, embeddings tied)."""

    vocab_size: int = 8192
    hidden_size: int = 256
    layers: int = 4
    heads: int = 4
    intermediate_size: int = 688
    max_positions: int = 1024


@dataclass(frozen=True, slots=True)
class TinyRun:
    """What one training run did; saved as ``training.json`` beside the model."""

    parameters: int
    files: int
    train_tokens: int
    steps: int
    seconds: float
    tokens_per_second: float
    first_loss: float
    final_loss: float
    heldout_accuracy: float


def train_tiny(
    out_dir: Path,
    corpus: Sequence[Path] = (),
    minutes: float = 2.0,
    seed: int = 0,
    max_steps: int = 2000,
    batch_size: int = 4,
    seq_len: int = 256,
    learning_rate: float = 5e-4,
    fim_rate: float = 0.1,
    max_chars: int = 12_000_000,
    shape: TinyShape = TinyShape(),
) -> Path:
    """Train the tiny model for at most ``minutes`` (and ``max_steps``) and save it to ``out_dir``.

    ``corpus`` folders (or files) are read first, then the standard library fills the text up
    to ``max_chars``. ``out_dir`` is replaced only once the whole model is written.
    """
    if minutes <= 0 or max_steps < 1:
        raise ConfigError(f"the tiny model needs time and steps (got {minutes=}, {max_steps=})")
    torch.set_num_threads(available_cores())
    torch.manual_seed(seed)
    rng = random.Random(seed)
    train_docs, heldout_docs = read_corpus(corpus, max_chars, rng)
    if not train_docs:
        raise ConfigError(f"no source files to train the tiny model on under {list(corpus)}")
    tokenizer = train_tokenizer(train_docs, shape.vocab_size)
    stream = encode(tokenizer, train_docs)
    if len(stream) <= seq_len:
        raise ConfigError(
            f"{len(stream)} tokens of code is too little for sequences of {seq_len}; "
            "give a larger corpus or a smaller seq_len"
        )
    model = LlamaForCausalLM(llama_config(tokenizer, shape))  # type: ignore[no-untyped-call]
    bf16 = native_bf16()
    _log(
        f"tiny: {count_parameters(model) / 1e6:.2f}M parameters, {len(stream):,} tokens of code, "
        f"{torch.get_num_threads()} threads" + (", bfloat16 autocast" if bf16 else "")
    )
    special = Special.of(tokenizer)
    fit = _fit(
        model,
        lambda: sample_batch(stream, batch_size, seq_len, fim_rate, special, rng),
        minutes * 60,
        max_steps,
        learning_rate,
        bf16,
    )
    accuracy = heldout_accuracy(model, encode(tokenizer, heldout_docs), seq_len)
    _log(f"tiny: held-out next-token accuracy {accuracy:.1%}")
    run = TinyRun(
        parameters=count_parameters(model),
        files=len(train_docs),
        train_tokens=len(stream),
        steps=fit.steps,
        seconds=round(fit.seconds, 1),
        tokens_per_second=round(fit.tokens / fit.seconds),
        first_loss=round(fit.losses[0], 4),
        final_loss=round(sum(fit.losses[-10:]) / len(fit.losses[-10:]), 4),
        heldout_accuracy=round(accuracy, 4),
    )
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "training.json").write_text(json.dumps(asdict(run), indent=2) + "\n")
    return out_dir


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def native_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX). There, autocast to it
    trains about 1.5 times as fast to the same loss; elsewhere it would be emulated, and slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def source_files(root: Path, skipped: frozenset[str] = frozenset()) -> list[Path]:
    """Source files under ``root`` (or ``root`` itself), sorted, vendored folders left out."""
    if root.is_file():
        return [root] if root.suffix in SOURCE_SUFFIXES else []
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS | skipped]
        for name in names:
            path = Path(folder, name)
            if path.suffix in SOURCE_SUFFIXES and path.stat().st_size <= _MAX_FILE_BYTES:
                found.append(path)
    return sorted(found)


def read_corpus(
    corpus: Sequence[Path], max_chars: int, rng: random.Random
) -> tuple[list[str], list[str]]:
    """Training texts (corpus first, then shuffled standard library) and held-out texts (a
    fixed tenth of the standard library, the same whatever the seed)."""
    stdlib = source_files(Path(os.__file__).parent, _STDLIB_SKIPPED)
    heldout = [p for p in stdlib if zlib.crc32(p.name.encode()) % _HELDOUT_BUCKETS == 0]
    rest = [p for p in stdlib if zlib.crc32(p.name.encode()) % _HELDOUT_BUCKETS != 0]
    rng.shuffle(rest)
    train: list[str] = []
    chars = 0
    for path in [*(f for root in corpus for f in source_files(Path(root))), *rest]:
        if chars >= max_chars:
            break
        text = path.read_text(encoding="utf-8", errors="replace")
        train.append(text)
        chars += len(text)
    return train, [p.read_text(encoding="utf-8", errors="replace") for p in heldout]


def train_tokenizer(texts: Sequence[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer over ``texts``: any input encodes, nothing is unknown."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[END_OF_TEXT, *FIM_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=bpe,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
        extra_special_tokens=list(FIM_TOKENS),
        clean_up_tokenization_spaces=False,
    )


def encode(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str]) -> torch.Tensor:
    """All ``texts`` as one token stream, each ended by end-of-text."""
    eot = token_id(tokenizer, END_OF_TEXT)
    ids: list[int] = []
    for encoding in tokenizer.backend_tokenizer.encode_batch(list(texts)):
        ids.extend(encoding.ids)
        ids.append(eot)
    return torch.tensor(ids, dtype=torch.long)


def llama_config(tokenizer: PreTrainedTokenizerFast, shape: TinyShape) -> LlamaConfig:
    eot = token_id(tokenizer, END_OF_TEXT)
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.heads,
        max_position_embeddings=shape.max_positions,
        tie_word_embeddings=True,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
    )


def token_id(tokenizer: PreTrainedTokenizerFast, token: str) -> int:
    found = tokenizer.convert_tokens_to_ids(token)
    assert isinstance(found, int), token
    return found


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def heldout_accuracy(
    model: LlamaForCausalLM, stream: torch.Tensor, seq_len: int, sequences: int = 32
) -> float:
    """How often the model's likeliest next token is the actual one, over ``sequences`` windows
    spread evenly through ``stream``."""
    sequences = max(1, min(sequences, len(stream) // seq_len))
    step = len(stream) // sequences
    windows = torch.stack([stream[i * step : i * step + seq_len] for i in range(sequences)])
    correct = total = 0
    model.train(False)
    with torch.no_grad():
        for batch in torch.split(windows, 8):
            predicted = model(input_ids=batch).logits[:, :-1].argmax(-1)
            correct += int((predicted == batch[:, 1:]).sum())
            total += predicted.numel()
    return correct / total


@dataclass(frozen=True, slots=True)
class Special:
    """The one-token tensors a FIM sequence is put together with."""

    prefix: torch.Tensor
    suffix: torch.Tensor
    middle: torch.Tensor
    end: torch.Tensor

    @classmethod
    def of(cls, tokenizer: PreTrainedTokenizerFast) -> "Special":
        def one(token: str) -> torch.Tensor:
            return torch.tensor([token_id(tokenizer, token)], dtype=torch.long)

        return cls(one(FIM_PREFIX), one(FIM_SUFFIX), one(FIM_MIDDLE), one(END_OF_TEXT))


def sample_batch(
    stream: torch.Tensor,
    batch_size: int,
    seq_len: int,
    fim_rate: float,
    special: Special,
    rng: random.Random,
) -> torch.Tensor:
    """``batch_size`` random windows of ``stream``; a ``fim_rate`` share rearranged as FIM."""
    rows = []
    for _ in range(batch_size):
        start = rng.randrange(len(stream) - seq_len + 1)
        window = stream[start : start + seq_len]
        if rng.random() < fim_rate:
            window = as_fim(window[: seq_len - 4], special, rng)
        rows.append(window)
    return torch.stack(rows)


def as_fim(tokens: torch.Tensor, special: Special, rng: random.Random) -> torch.Tensor:
    """``tokens`` cut in prefix, middle, suffix and put in PSM order, the middle then ended
    (three FIM tokens and an end-of-text: four tokens longer)."""
    cut, end = sorted(rng.randrange(len(tokens) + 1) for _ in range(2))
    prefix, middle, suffix = tokens[:cut], tokens[cut:end], tokens[end:]
    parts = [special.prefix, prefix, special.suffix, suffix, special.middle, middle, special.end]
    return torch.cat(parts)


def lr_factor(step: int, progress: float, warmup_steps: int = 10, floor: float = 0.1) -> float:
    """Linear warmup over the first steps, then cosine decay to ``floor`` as ``progress`` (the
    spent share of the time or step budget, whichever is larger) goes from 0 to 1."""
    cosine = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return min(1.0, (step + 1) / warmup_steps) * cosine


@dataclass(frozen=True, slots=True)
class _Fit:
    steps: int
    seconds: float
    tokens: int
    losses: list[float]


def _fit(
    model: LlamaForCausalLM,
    next_batch: Callable[[], torch.Tensor],
    seconds: float,
    max_steps: int,
    learning_rate: float,
    bf16: bool,
) -> _Fit:
    """Train until ``seconds`` or ``max_steps`` run out, the learning rate following both."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.95))
    model.train()
    losses: list[float] = []
    tokens = 0
    start = last_log = time.monotonic()
    while (progress := max(len(losses) / max_steps, (time.monotonic() - start) / seconds)) < 1:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate * lr_factor(len(losses), progress)
        batch = next_batch()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        tokens += batch.numel()
        if (now := time.monotonic()) - last_log >= 10 or len(losses) == 1:
            last_log, spent = now, now - start
            _log(
                f"tiny: step {len(losses)}  loss {losses[-1]:.3f}  "
                f"{tokens / spent:,.0f} tokens/s  {spent:.0f}s"
            )
    model.train(False)
    return _Fit(len(losses), time.monotonic() - start, tokens, losses)


@contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """A fresh folder beside ``out_dir`` to write into; when the block ends without error it
    replaces ``out_dir`` in one rename, otherwise it is removed: ``out_dir`` is never half
    written."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield tmp
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
