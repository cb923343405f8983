"""The llama.cpp engine against the transformers engine on the same small real model (trained here
to continue one pattern), converted to GGUF: the same greedy tokens and text, for plain and
fill-in-the-middle prompts, a base with an adapter merged included; stop strings, ``n``,
``max_tokens``, confidence, prompt truncation, batches; and the GGUF cache converting once."""

import copy
from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, LlamaForCausalLM, PreTrainedTokenizerFast

from serving.engine import TransformersEngine
from serving.gguf import cached_gguf, write_gguf
from serving.llamacpp import LlamaCppEngine, _choose, _fim_shares
from serving.requests import Completion, ModelError, Request, Sampling
from tests.support.models import PATTERN, fitted_to_pattern, pattern_tokenizer, small_llama
from training.prompts import FIM_TOKENS

START = "def add(a, b):\n    return"
PROMPTS = [START, PATTERN * 2 + START, "def sub(a, b):\n", "def", "return a"]
FIM = Request("def add(a, b):\n", suffix="\n\ndef sub(a, b):\n", sampling=Sampling(max_tokens=8))


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    return pattern_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    """A one-layer Llama with grouped-query attention fitted to repeat the pattern."""
    config = small_llama(len(tokenizer), tokenizer).config
    config.num_key_value_heads = 2  # GQA: k_proj's rows are permuted per kv head
    config.tie_word_embeddings = True  # as SmolLM2's: no output matrix of its own
    return fitted_to_pattern(LlamaForCausalLM(config), tokenizer)  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def gguf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gguf")


@pytest.fixture(scope="module")
def reference(model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast) -> TransformersEngine:
    return TransformersEngine(model, tokenizer, "reference")


@pytest.fixture(scope="module")
def engine(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, gguf_dir: Path
) -> LlamaCppEngine:
    path = cached_gguf(model, tokenizer, gguf_dir, "f32")
    return LlamaCppEngine(
        path, tokenizer, "test", threads=1, max_prompt_tokens=64, max_tokens=32, seed=0
    )


def _same(ours: Completion, theirs: Completion) -> None:
    for one, other in zip(ours.choices, theirs.choices, strict=True):
        assert (one.text, one.tokens, one.finish_reason) == (
            other.text,
            other.tokens,
            other.finish_reason,
        )
        assert one.confidence == pytest.approx(other.confidence, abs=1e-3)
    assert ours.prompt_tokens == theirs.prompt_tokens


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_answers_are_the_transformers_engines(
    engine: LlamaCppEngine, reference: TransformersEngine, prompt: str
) -> None:
    request = Request(prompt, sampling=Sampling(max_tokens=12))
    _same(engine.complete([request])[0], reference.complete([request])[0])


def test_a_fill_in_the_middle_request_is_answered_as_the_transformers_engine_does(
    engine: LlamaCppEngine, reference: TransformersEngine
) -> None:
    _same(engine.complete([FIM])[0], reference.complete([FIM])[0])


def test_a_batch_answers_each_request_as_it_would_alone(
    engine: LlamaCppEngine,
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    gguf_dir: Path,
) -> None:
    requests = [Request(p, sampling=Sampling(max_tokens=10)) for p in PROMPTS] + [FIM]
    together = engine.complete(requests)
    for request, completion in zip(requests, together, strict=True):
        _same(completion, engine.complete([request])[0])
    path = cached_gguf(model, tokenizer, gguf_dir, "f32")
    narrow = LlamaCppEngine(path, tokenizer, "two", threads=1, parallel=2)  # in waves of two
    for one, other in zip(narrow.complete(requests), together, strict=True):
        _same(one, other)


def test_a_request_sharing_the_last_ones_prefix_reuses_it_and_answers_the_same(
    engine: LlamaCppEngine, reference: TransformersEngine
) -> None:
    prompts = [PATTERN * 2 + START, PATTERN * 2 + "def sub(a, b):\n", PATTERN * 2 + START]
    for prompt in [*prompts, PATTERN + "def"]:
        request = Request(prompt, sampling=Sampling(max_tokens=6))
        [done] = engine.complete([request])
        _same(done, reference.complete([request])[0])
        assert engine.cached[: done.prompt_tokens] == engine.tokenizer(prompt)["input_ids"]
    sampled = Sampling(max_tokens=6, temperature=1.0, n=3)
    [done] = engine.complete([Request(PATTERN + "def", sampling=sampled)])
    assert all(c.text.startswith(" add(a, b):") for c in done.choices)


@pytest.mark.parametrize("prompt", [PATTERN * 3, PATTERN * 3 + "def add(a, b):\n"])
def test_the_end_of_text_token_ends_a_choice(
    engine: LlamaCppEngine, reference: TransformersEngine, prompt: str
) -> None:
    request = Request(prompt, sampling=Sampling(max_tokens=32))
    [done] = engine.complete([request])
    [choice] = done.choices
    assert choice.finish_reason == "stop" and choice.tokens < 32
    assert 0 < choice.confidence <= 1  # the end-of-text token's probability counts
    _same(done, reference.complete([request])[0])


def test_max_tokens_ends_a_choice_with_length(engine: LlamaCppEngine) -> None:
    [done] = engine.complete([Request(START, sampling=Sampling(max_tokens=3))])
    assert done.choices[0].finish_reason == "length" and done.choices[0].tokens == 3
    assert 0.5 < done.choices[0].confidence <= 1.0
    assert done.latency_ms > 0


def test_a_stop_string_ends_the_choice_before_it(
    engine: LlamaCppEngine, reference: TransformersEngine
) -> None:
    request = Request(START, sampling=Sampling(max_tokens=20, stop=("\n\n", "zzz")))
    [done] = engine.complete([request])
    assert done.choices[0].text == " a + b"
    assert done.choices[0].finish_reason == "stop"
    _same(done, reference.complete([request])[0])


def test_greedy_alternatives_are_the_one_greedy_answer_repeated(engine: LlamaCppEngine) -> None:
    [done] = engine.complete([Request(START, sampling=Sampling(max_tokens=4, n=3))])
    assert len(done.choices) == 3 and len(set(done.choices)) == 1


def test_sampling_gives_n_alternatives_with_their_confidence(engine: LlamaCppEngine) -> None:
    sampling = Sampling(max_tokens=6, temperature=3.0, top_p=0.95, n=4)
    done = engine.complete([Request("def", sampling=sampling), Request(START, sampling=sampling)])
    for completion in done:
        assert len(completion.choices) == 4
        assert all(0 < c.confidence <= 1 and c.tokens <= 6 for c in completion.choices)
    texts = {c.text for c in done[0].choices}
    assert len(texts) > 1  # at a high temperature, the alternatives differ


def test_a_long_prompt_keeps_its_end(engine: LlamaCppEngine) -> None:
    [done] = engine.complete([Request(PATTERN * 20 + START, sampling=Sampling(max_tokens=6))])
    assert done.prompt_tokens == 64
    assert done.choices[0].text.startswith(" a + b")  # the end, where the answer starts, kept
    [fim] = engine.complete([Request(PATTERN * 20, suffix=PATTERN * 20)])
    assert fim.prompt_tokens == 64


def test_an_empty_prompt_starts_from_the_start_of_a_text(engine: LlamaCppEngine) -> None:
    [done] = engine.complete([Request("", sampling=Sampling(max_tokens=4))])
    assert done.prompt_tokens == 1 and done.choices[0].tokens <= 4


def test_a_long_fim_prompt_shares_the_budget_the_prefix_first() -> None:
    assert _fim_shares(10, 5, 100) == (10, 5)
    assert _fim_shares(200, 200, 100) == (75, 25)
    assert _fim_shares(20, 200, 100) == (20, 80)
    assert _fim_shares(200, 10, 100) == (90, 10)


def test_an_adapter_merged_by_load_answers_as_the_transformers_engine(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, tmp_path: Path
) -> None:
    model.save_pretrained(tmp_path / "base")
    tokenizer.save_pretrained(tmp_path / "base")
    torch.manual_seed(2)
    fim_ids = tokenizer.convert_tokens_to_ids(list(FIM_TOKENS))
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules="all-linear",
        init_lora_weights=False,
        trainable_token_indices=fim_ids,  # as training.lora's adapters: the FIM rows train
    )
    adapted = get_peft_model(copy.deepcopy(model), config)
    with torch.no_grad():
        for name, weights in adapted.named_parameters():
            if "trainable_tokens_delta" in name:
                weights.add_(torch.randn_like(weights))
    adapted.save_pretrained(str(tmp_path / "adapter"))
    args = (tmp_path / "base", "v2", tmp_path / "adapter")
    ours = LlamaCppEngine.load(*args, tmp_path / "gguf", threads=1, weight_type="f32")
    theirs = TransformersEngine.load(*args)
    requests = [Request(p, sampling=Sampling(max_tokens=8)) for p in PROMPTS[:3]] + [FIM]
    for one, other in zip(ours.complete(requests), theirs.complete(requests), strict=True):
        _same(one, other)
    plain = LlamaCppEngine.load(tmp_path / "base", "v1", None, tmp_path / "gguf", threads=1)
    assert len(list((tmp_path / "gguf").glob("*.gguf"))) == 2  # a file per version
    assert plain.complete(requests[:1])[0] != ours.complete(requests[:1])[0]


def test_q8_0_weights_keep_the_greedy_answer(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, gguf_dir: Path
) -> None:
    path = cached_gguf(model, tokenizer, gguf_dir, "q8_0")
    quantized = LlamaCppEngine(path, tokenizer, "q8", threads=1)
    [done] = quantized.complete([Request(START, sampling=Sampling(max_tokens=6))])
    assert done.choices[0].text.startswith(" a + b")


def test_the_cache_converts_a_model_once(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, tmp_path: Path
) -> None:
    first = cached_gguf(model, tokenizer, tmp_path, "f16")
    written = first.stat().st_mtime_ns
    again = cached_gguf(copy.deepcopy(model), tokenizer, tmp_path, "f16")
    assert again == first and again.stat().st_mtime_ns == written
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # nothing half-written left
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.model.norm.weight.add_(0.01)
    assert cached_gguf(changed, tokenizer, tmp_path, "f16") != first
    assert cached_gguf(model, tokenizer, tmp_path, "q8_0") != first


@pytest.mark.parametrize("tied", [True, False])
def test_the_gguf_file_reads_back_as_the_same_model(
    tokenizer: PreTrainedTokenizerFast, tmp_path: Path, tied: bool
) -> None:
    """transformers' GGUF reader undoes llama.cpp's conventions: the weights come back equal."""
    model = small_llama(len(tokenizer), tokenizer, layers=2)
    model.config.tie_word_embeddings = tied
    model = LlamaForCausalLM(model.config).eval()  # type: ignore[no-untyped-call]
    write_gguf(model, tokenizer, tmp_path / "m.gguf", "f32")
    back = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="m.gguf")
    theirs = back.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, theirs[name]), name
    fields = gguf.GGUFReader(tmp_path / "m.gguf").fields
    assert fields["tokenizer.ggml.pre"].contents() == "gpt-2"
    assert fields["tokenizer.ggml.tokens"].contents() == [
        tokenizer.convert_ids_to_tokens(i) for i in range(len(tokenizer))
    ]
    fim_ids = [fields[f"tokenizer.ggml.fim_{k}_token_id"].contents() for k in ("pre", "suf", "mid")]
    assert fim_ids == tokenizer.convert_tokens_to_ids(list(FIM_TOKENS))
    assert fields["tokenizer.ggml.eos_token_id"].contents() == tokenizer.eos_token_id


def test_sampling_keeps_the_fewest_likeliest_tokens_reaching_top_p() -> None:
    logits = np.log(np.array([0.1, 0.6, 0.3], dtype=np.float32))
    rng = np.random.default_rng(0)
    only = [_choose(logits, Sampling(temperature=1.0, top_p=0.5), rng) for _ in range(20)]
    assert {token for token, _ in only} == {1}
    assert all(prob == pytest.approx(1.0) for _, prob in only)
    two = dict(_choose(logits, Sampling(temperature=1.0, top_p=0.8), rng) for _ in range(50))
    assert two == {1: pytest.approx(2 / 3), 2: pytest.approx(1 / 3)}


def test_a_stream_gives_the_completions_text_piece_by_piece(
    engine: LlamaCppEngine, reference: TransformersEngine
) -> None:
    request = Request(START, sampling=Sampling(max_tokens=12))
    pieces = list(engine.stream(request))
    [choice] = engine.complete([request])[0].choices
    assert len(pieces) > 2 and "".join(p.text for p in pieces) == choice.text
    assert all(p.finish_reason is None for p in pieces[:-1])
    assert (pieces[-1].finish_reason, pieces[-1].tokens) == (choice.finish_reason, choice.tokens)
    assert pieces[-1].prompt_tokens == engine.complete([request])[0].prompt_tokens > 0
    theirs = list(reference.stream(request))
    assert "".join(p.text for p in theirs) == choice.text


def test_a_stream_never_shows_a_stop_string(engine: LlamaCppEngine) -> None:
    request = Request(START, sampling=Sampling(max_tokens=20, stop=("\n\ndef",)))
    pieces = list(engine.stream(request))
    assert "".join(p.text for p in pieces) == " a + b"
    assert pieces[-1].finish_reason == "stop"
    assert not any("\n" in p.text for p in pieces)


def test_weights_that_are_not_finite_raise_a_model_error(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, tmp_path: Path
) -> None:
    broken = copy.deepcopy(model)
    with torch.no_grad():
        broken.model.norm.weight.fill_(float("nan"))
    path = cached_gguf(broken, tokenizer, tmp_path, "f32")
    with pytest.raises(ModelError, match="not finite"):
        LlamaCppEngine(path, tokenizer, "broken", threads=1).complete([Request(START)])
