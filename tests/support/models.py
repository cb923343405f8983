"""Small real models for unit tests: a byte-level BPE tokenizer trained on given text and a
Llama of a few thousand parameters (random weights unless a test trains it)."""

from collections.abc import Sequence

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from training.prompts import FIM_TOKENS


def bpe_tokenizer(
    corpus: Sequence[str],
    vocab_size: int,
    special_tokens: Sequence[str] = ("<pad>", "<s>", "</s>"),
    **roles: str,
) -> PreTrainedTokenizerFast:
    """A tokenizer learned from ``corpus``; ``roles`` name its special tokens (``eos_token=``…),
    by default ``<pad>``, ``<s>`` and ``</s>``."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(list(corpus), trainer)
    roles = roles or {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"}
    return PreTrainedTokenizerFast(tokenizer_object=bpe, **roles)


def small_llama(
    vocab_size: int,
    tokenizer: PreTrainedTokenizerFast | None = None,
    hidden_size: int = 64,
    layers: int = 1,
    heads: int = 4,
    positions: int = 256,
    seed: int = 0,
) -> LlamaForCausalLM:
    """A Llama with random weights (seeded), in eval mode; ``tokenizer`` gives its special ids."""
    torch.manual_seed(seed)
    special = {}
    if tokenizer is not None:
        special = {
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=positions,
        **special,
    )
    return LlamaForCausalLM(config).eval()  # type: ignore[no-untyped-call]


PATTERN = "def add(a, b):\n    return a + b\n\n"


def pattern_tokenizer() -> PreTrainedTokenizerFast:
    """A tokenizer learned from :data:`PATTERN`, with a pad token and the FIM tokens."""
    corpus = [PATTERN * 4, "def sub(a, b):\n    return a - b\n"]
    return bpe_tokenizer(corpus, 300, ["<pad>", "<s>", "</s>", *FIM_TOKENS])


def fitted_to_pattern(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, steps: int = 80
) -> LlamaForCausalLM:
    """``model`` trained to repeat :data:`PATTERN` (ending it with </s> after four), in eval mode;
    on one thread, which a model this small trains fastest on (and, on a busy CPU, by far)."""
    model.train()
    ids = tokenizer(PATTERN * 4 + "</s>", return_tensors="pt", add_special_tokens=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            loss = model(**ids, labels=ids["input_ids"]).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    return model.eval()
