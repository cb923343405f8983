"""The transformers inference engine on a small real model trained here to continue one pattern:
greedy and sampled choices, stop strings, batches equal to single requests, fill-in-the-middle
prompts, confidence, and an adapter merged into the weights answering as the adapter does."""

import copy
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from serving.decode import StaticDecoder
from serving.engine import TransformersEngine
from serving.requests import Request, Sampling
from tests.support.models import PATTERN, fitted_to_pattern, pattern_tokenizer, small_llama
from training.prompts import fim_prompt

START = "def add(a, b):\n    return"  # ends where the tokenizer cuts a token


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    return pattern_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    """A one-layer Llama fitted to repeat the pattern."""
    return fitted_to_pattern(small_llama(len(tokenizer), tokenizer), tokenizer)


@pytest.fixture(scope="module", params=["generate", "static cache"])
def engine(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, request: pytest.FixtureRequest
) -> TransformersEngine:
    """The engine as it runs on CPUs (``generate``) and as on GPUs (the static decoder, here
    without CUDA graphs)."""
    if request.param == "generate":
        return TransformersEngine(model, tokenizer, "test")
    decoder = StaticDecoder(model, tokenizer.eos_token_id, graphs=False)
    return TransformersEngine(model, tokenizer, "test", decoder=decoder)


def test_greedy_completion_continues_what_it_learned(engine: TransformersEngine) -> None:
    [done] = engine.complete([Request(START, sampling=Sampling(max_tokens=6))])
    [choice] = done.choices
    assert choice.text.startswith(" a + b")
    assert choice.finish_reason == "length" and choice.tokens == 6
    assert 0.5 < choice.confidence <= 1.0  # it knows this pattern well
    assert done.prompt_tokens > 0 and done.latency_ms > 0


def test_a_stop_string_ends_the_choice_before_it(engine: TransformersEngine) -> None:
    sampling = Sampling(max_tokens=20, stop=("\n\n",))
    [done] = engine.complete([Request(START, sampling=sampling)])
    assert done.choices[0].text == " a + b"
    assert done.choices[0].finish_reason == "stop"


def test_a_batch_answers_each_request_as_it_would_alone(engine: TransformersEngine) -> None:
    requests = [
        Request(START, sampling=Sampling(max_tokens=8)),
        Request(PATTERN * 2 + START, sampling=Sampling(max_tokens=8)),  # longer: padding
        Request(START, sampling=Sampling(max_tokens=3)),  # its own batch
    ]
    together = engine.complete(requests)
    alone = [engine.complete([r])[0] for r in requests]
    assert [c.choices[0].text for c in together] == [c.choices[0].text for c in alone]
    for one, other in zip(together, alone, strict=True):
        assert one.choices[0].confidence == pytest.approx(other.choices[0].confidence, abs=1e-4)
    assert together[2].choices[0].tokens == 3


def test_greedy_alternatives_are_the_one_greedy_answer_repeated(
    engine: TransformersEngine,
) -> None:
    [done] = engine.complete([Request(START, sampling=Sampling(max_tokens=4, n=3))])
    assert len(done.choices) == 3 and len(set(done.choices)) == 1


def test_sampling_gives_n_alternatives(engine: TransformersEngine) -> None:
    torch.manual_seed(1)
    sampling = Sampling(max_tokens=6, temperature=1.5, top_p=0.95, n=4)
    [done] = engine.complete([Request("def", sampling=sampling)])
    assert len(done.choices) == 4
    assert all(0 < c.confidence <= 1 and c.tokens <= 6 for c in done.choices)


def test_a_suffix_makes_a_fill_in_the_middle_prompt(
    engine: TransformersEngine, tokenizer: PreTrainedTokenizerFast
) -> None:
    [done] = engine.complete([Request("def add(a, b):\n", suffix="\n\ndef sub(a, b):\n")])
    expected = fim_prompt("def add(a, b):\n", "\n\ndef sub(a, b):\n")
    assert done.prompt_tokens == len(tokenizer(expected, add_special_tokens=False)["input_ids"])


def test_an_adapter_merged_into_the_weights_answers_as_the_adapter_does(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, tmp_path: Path
) -> None:
    torch.manual_seed(2)
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    adapted = get_peft_model(copy.deepcopy(model), config).eval()
    adapted.save_pretrained(str(tmp_path / "adapter"))
    request = Request(START, sampling=Sampling(max_tokens=8))
    unmerged = TransformersEngine(adapted, tokenizer, "peft").complete([request])[0]
    merged_model = PeftModel.from_pretrained(
        copy.deepcopy(model), str(tmp_path / "adapter")
    ).merge_and_unload()
    merged = TransformersEngine(merged_model, tokenizer, "merged").complete([request])[0]
    assert merged.choices[0].text == unmerged.choices[0].text
    plain = TransformersEngine(model, tokenizer, "base").complete([request])[0]
    assert merged.choices[0].confidence != pytest.approx(plain.choices[0].confidence, abs=1e-3)


def test_streamed_pieces_add_up_to_the_batched_completion(engine: TransformersEngine) -> None:
    sampling = Sampling(max_tokens=40)
    [done] = engine.complete([Request(START, sampling=sampling)])
    pieces = list(engine.stream(Request(START, sampling=sampling)))
    assert len(pieces) > 2 and all(p.finish_reason is None for p in pieces[:-1])
    assert "".join(p.text for p in pieces) == done.choices[0].text
    assert pieces[-1].finish_reason == done.choices[0].finish_reason
    assert pieces[-1].tokens == done.choices[0].tokens
    assert pieces[-1].prompt_tokens == done.prompt_tokens > 0
    short = list(engine.stream(Request(START, sampling=Sampling(max_tokens=3))))
    assert short[-1].finish_reason == "length" and short[-1].tokens == 3


def test_a_long_prompt_keeps_its_end_the_code_at_the_cursor(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast
) -> None:
    short = TransformersEngine(model, tokenizer, "test", max_prompt_tokens=6)
    long_prompt = "class Unrelated:\n    pass\n\n" * 5 + START
    end = tokenizer.decode(tokenizer(long_prompt, add_special_tokens=False)["input_ids"][-6:])
    [done] = short.complete([Request(long_prompt, sampling=Sampling(max_tokens=4))])
    [alone] = short.complete([Request(end, sampling=Sampling(max_tokens=4))])
    assert done.prompt_tokens == 6 and done.choices[0].text == alone.choices[0].text


def test_an_empty_prompt_starts_a_new_file(engine: TransformersEngine) -> None:
    [done] = engine.complete([Request("", sampling=Sampling(max_tokens=3))])
    assert done.prompt_tokens == 1 and done.choices[0].tokens > 0
    assert list(engine.stream(Request("", sampling=Sampling(max_tokens=3))))[-1].tokens > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_the_engine_runs_bfloat16_without_cudnn_attention(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, tmp_path: Path
) -> None:
    """cuDNN's attention plans each new shape on the CPU, a shape per generated token (a batch
    of 32 took 1.1 s instead of 0.16 s on an H200): loading for a GPU turns it off."""
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    engine = TransformersEngine.load(tmp_path, "test")
    weights = next(engine.model.parameters())
    assert weights.is_cuda and weights.dtype == torch.bfloat16
    assert not torch.backends.cuda.cudnn_sdp_enabled()
    assert engine.decoder is not None and engine.decoder.graphs  # each token a graph replay
    assert all(slot.graph is not None for slot in engine.decoder.slots.values())
    [done] = engine.complete([Request(START, sampling=Sampling(max_tokens=6))])
    assert done.choices[0].text.startswith(" a + b")
