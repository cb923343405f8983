"""The static-cache decoder against ``transformers``' own ``generate`` on small real Llamas with
random weights: the same greedy tokens and probabilities for a left-padded batch, whatever the
attention (SDPA or eager), batch padding and cache reuse; on a GPU, CUDA graph replays give what
eager steps give."""

import pytest
import torch
from transformers import LlamaForCausalLM

from serving.decode import CACHE_STEP, StaticDecoder
from tests.support.models import small_llama

EOS = 2


def llama(attention: str = "sdpa", layers: int = 2) -> LlamaForCausalLM:
    model = small_llama(97, layers=layers, positions=512)
    model.config.eos_token_id = model.config.pad_token_id = EOS
    model.generation_config.eos_token_id = None  # generate runs to max_new_tokens, as below
    model.config._attn_implementation = attention
    return model


def left_padded(lengths: list[int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random prompts of these lengths (no EOS in them), padded on the left."""
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.full((len(lengths), width), EOS)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, length in enumerate(lengths):
        ids[row, width - length :] = torch.randint(3, 97, (length,), generator=generator)
        mask[row, width - length :] = 1
    return ids, mask


def generated(
    model: LlamaForCausalLM, ids: torch.Tensor, mask: torch.Tensor, tokens: int
) -> tuple[list[list[int]], torch.Tensor]:
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=tokens,
            do_sample=False,
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=EOS,
        )
        probs = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
    return out.sequences[:, ids.shape[1] :].tolist(), probs.exp()


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_greedy_tokens_and_probabilities_are_generates(attention: str) -> None:
    model = llama(attention)
    ids, mask = left_padded([5, 11, 1, 8])
    expected, expected_probs = generated(model, ids, mask, 12)
    decoder = StaticDecoder(model, eos=-1, graphs=False)  # never ends: 12 tokens each
    done = decoder.decode(ids, mask, 12)
    assert done.ids == expected
    assert torch.tensor(done.probs) == pytest.approx(expected_probs, abs=1e-5)
    assert done.finite


def test_a_reused_cache_forgets_the_last_batch() -> None:
    model = llama()
    decoder = StaticDecoder(model, eos=-1, graphs=False)
    long_ids, long_mask = left_padded([30, 20, 25], seed=1)
    decoder.decode(long_ids, long_mask, 8)  # fills more of the cache than the next batch
    ids, mask = left_padded([4, 6, 3], seed=2)
    assert decoder.decode(ids, mask, 8).ids == generated(model, ids, mask, 8)[0]
    assert list(decoder.slots) == [(4, CACHE_STEP)]  # 3 rows padded to 4, one cache for both


def test_warming_makes_the_caches_of_every_batch_size_up_to_the_largest() -> None:
    decoder = StaticDecoder(llama(), eos=-1, graphs=False, keep=9)
    decoder.warm(5)  # 1, 2, 4, 8 rows at 128 and 256 tokens, 8 caches
    shapes = [(b, n) for n in (CACHE_STEP, 2 * CACHE_STEP) for b in (1, 2, 4, 8)]
    assert list(decoder.slots) == shapes
    ids, mask = left_padded([CACHE_STEP])  # 128 + 8 tokens: the 256-token cache of 1 row
    decoder.decode(ids, mask, 8)
    assert list(decoder.slots) == [*shapes[:4], *shapes[5:], (1, 2 * CACHE_STEP)]


def test_decoding_stops_once_every_row_ended() -> None:
    model = llama()
    ids, mask = left_padded([6, 9])
    first = StaticDecoder(model, eos=-1, graphs=False).decode(ids, mask, 1).ids
    stopping = StaticDecoder(model, eos=first[0][0], graphs=False)
    # Row 0 ends at once; row 1 ends when it makes that token too, or runs to 40.
    done = stopping.decode(ids[:1], mask[:1], 40)
    assert done.ids[0][0] == first[0][0] and len(done.ids[0]) < 40


def test_sampling_draws_from_transformers_warped_distribution() -> None:
    model = llama()
    ids, mask = left_padded([7, 3, 9, 5])
    decoder = StaticDecoder(model, eos=-1, graphs=False)
    greedy = decoder.decode(ids, mask, 6)
    # top_p this small keeps the likeliest token alone: the greedy tokens, each certain
    narrow = decoder.decode(ids, mask, 6, temperature=0.7, top_p=1e-6)
    assert narrow.ids == greedy.ids
    assert all(p == pytest.approx(1.0) for row in narrow.probs for p in row)
    torch.manual_seed(0)
    wide = decoder.decode(ids, mask, 6, temperature=5.0, top_p=1.0)
    assert wide.ids != greedy.ids  # random weights, hot: not the greedy path
    assert all(0 < p < 1 for row in wide.probs for p in row)


def test_caches_past_the_byte_budget_go_least_recently_used_first() -> None:
    model = llama()
    probe = StaticDecoder(model, eos=-1, graphs=False)
    probe.warm(1, lengths=(CACHE_STEP,))
    one = probe.cache_bytes()  # 1 row x 128 positions
    decoder = StaticDecoder(model, eos=-1, graphs=False, budget_bytes=6 * one)
    decoder.warm(4, lengths=(CACHE_STEP,))  # 1 + 2 + 4 rows: 7 of the budget's 6
    assert list(decoder.slots) == [(2, CACHE_STEP), (4, CACHE_STEP)]
    assert decoder.cache_bytes() == 6 * one
    ids, mask = left_padded([5] * 8)
    decoder.decode(ids, mask, 4)  # 8 rows: over the budget alone, kept alone
    assert list(decoder.slots) == [(8, CACHE_STEP)] and decoder.cache_bytes() == 8 * one


def test_where_no_graph_can_be_captured_the_decoder_steps_eagerly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = llama()
    ids, mask = left_padded([6, 3])
    decoder = StaticDecoder(model, eos=-1, graphs=True)  # no CUDA here: capturing fails
    assert decoder.decode(ids, mask, 8).ids == generated(model, ids, mask, 8)[0]
    assert not decoder.graphs and "capturing one failed" in caplog.text


def test_llamas_qualify_and_a_sliding_window_model_does_not() -> None:
    assert StaticDecoder.supports(llama())
    windowed = llama()
    windowed.config.sliding_window = 16
    windowed.config.layer_types = ["sliding_attention"] * 2
    assert not StaticDecoder.supports(windowed)
    flash = llama()
    flash.config._attn_implementation = "flash_attention_2"
    assert not StaticDecoder.supports(flash)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_graph_replays_give_the_eager_steps_tokens() -> None:
    model = llama(layers=4).to(device="cuda", dtype=torch.bfloat16)
    ids, mask = (t.cuda() for t in left_padded([5, 40, 17, 9, 23]))
    eager = StaticDecoder(model, eos=-1, graphs=False).decode(ids, mask, 16)
    graphed = StaticDecoder(model, eos=-1, graphs=True)
    first = graphed.decode(ids, mask, 16)
    fewer = graphed.decode(ids[:3], mask[:3], 16)  # 4 rows: a graph of its own
    again = graphed.decode(ids, mask, 16)  # the first graph, its cache reused
    assert all(slot.graph is not None for slot in graphed.slots.values())
    assert list(graphed.slots) == [(8, CACHE_STEP), (4, CACHE_STEP)]
    assert first.ids == again.ids == eager.ids
    assert fewer.ids == eager.ids[:3]
    graphed.warm(8)  # the warm-up's own check agrees
    assert graphed.graphs and all(slot.graph is not None for slot in graphed.slots.values())
