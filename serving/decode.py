"""Decoding on a static KV cache, each next token one replay of a CUDA graph.

Eager PyTorch launches every kernel of every layer from Python, token after token: on an H200,
16 tokens of the tiny base were 3,033 launches and took 64 ms while the GPU worked for about
5 ms. Here a batch's prompts are read eagerly once (the prefill); each next token then replays
a graph of the model's decode step, captured once per batch size and cache length and kept, as
vLLM does for decoding. The cache, the step's inputs and its logits live at fixed addresses; the
attention mask is built here, 4D, so the model's own mask code (which reads tensors back to the
host) never runs inside the graph. Without CUDA (``graphs=False``) the same steps run eagerly.

Batches are padded up to a power of two and cache lengths to a power of two from 128, so a few
graphs serve every request; past a count or a byte budget the least recently used go first.
:meth:`StaticDecoder.warm` captures the common ones before the first request, which would
otherwise wait for its capture, and checks on a probe batch that replays give the eager steps'
tokens. Where a capture fails or that check does not hold, the decoder logs why and goes on with
eager steps. Any causal LM whose cache ``transformers`` builds from plain static layers (Llama,
Mistral, Qwen, SmolLM2, ...) qualifies; :meth:`StaticDecoder.supports` says which.
"""

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch
from transformers import StaticCache
from transformers.cache_utils import StaticLayer
from transformers.generation.logits_process import (
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopPLogitsWarper,
)

log = logging.getLogger("ray.serve")

CACHE_STEP = 128  # the shortest cache; longer ones are powers of two
EOS_CHECK_EVERY = 4  # steps between looks at whether every row ended (each look waits on the GPU)


@dataclass
class Decoded:
    """What a batch generated: each row's new token ids and the probability of each under the
    distribution it was drawn from, and whether the model's first scores were finite."""

    ids: list[list[int]]
    probs: list[list[float]]
    finite: bool


@dataclass
class _Slot:
    """A cache and the decode step's inputs and output, at fixed addresses, for one
    (batch size, cache length); ``graph`` replays the step on them."""

    cache: StaticCache
    ids: torch.Tensor  # (batch, 1) the token each row reads next
    positions: torch.Tensor  # (batch, 1) its position in its row
    mask: torch.Tensor  # (batch, 1, 1, length) the cache entries each row sees
    logits: torch.Tensor | None = None  # (batch, vocab) the step's output
    graph: torch.cuda.CUDAGraph | None = None
    bytes: int = 0  # what its cache holds

    def measure(self) -> None:
        layers: list[Any] = list(self.cache.layers)  # plain static layers (supports)
        tensors = [t for layer in layers for t in (layer.keys, layer.values)]
        self.bytes = sum(int(t.numel()) * int(t.element_size()) for t in tensors)


class StaticDecoder:
    """Greedy or sampled decoding of left-padded batches on ``model``'s static cache, the
    decode step replayed as a CUDA graph where ``graphs``; at most ``keep`` caches are kept,
    holding at most ``budget_bytes`` together (the newest is kept whatever its size)."""

    def __init__(
        self,
        model: Any,
        eos: int,
        graphs: bool,
        keep: int = 16,
        budget_bytes: int | None = None,
    ) -> None:
        self.model = model
        self.eos = eos
        self.graphs = graphs
        self.keep = keep
        self.budget_bytes = budget_bytes
        self.device = next(model.parameters()).device
        self.slots: OrderedDict[tuple[int, int], _Slot] = OrderedDict()
        self.lock = threading.Lock()  # one batch at a time on the shared caches
        self.boolean_mask = model.config._attn_implementation == "sdpa"

    @staticmethod
    def supports(model: Any) -> bool:
        """Whether ``model`` attends through SDPA or eager attention and caches every layer in
        a plain static layer (no sliding window, no linear attention)."""
        if getattr(model.config, "_attn_implementation", None) not in ("sdpa", "eager"):
            return False
        try:
            cache = StaticCache(config=model.config, max_cache_len=CACHE_STEP)
        except (ValueError, TypeError, KeyError, NotImplementedError):
            return False
        return all(type(layer) is StaticLayer for layer in cache.layers)

    def decode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
    ) -> Decoded:
        """``max_new_tokens`` (or up to every row's end) after each left-padded row."""
        rows, width = input_ids.shape
        batch = _power_of_two(rows)
        length = max(CACHE_STEP, _power_of_two(width + max_new_tokens))
        choose = _chooser(temperature, top_p)
        with self.lock, torch.inference_mode():
            slot = self._slot(batch, length)
            valid = torch.zeros(batch, width, dtype=torch.bool, device=self.device)
            valid[:rows] = attention_mask.bool()
            ids = torch.zeros(batch, width, dtype=torch.long, device=self.device)  # rows to pad
            ids[:rows] = input_ids
            logits = self._prefill(slot, ids, valid)
            finite = bool(torch.isfinite(logits[:rows]).any(dim=-1).all())
            new = torch.empty(batch, max_new_tokens, dtype=torch.long, device=self.device)
            probs = torch.empty(batch, max_new_tokens, dtype=torch.float32, device=self.device)
            ended = torch.zeros(batch, dtype=torch.bool, device=self.device)
            ended[rows:] = True
            made = 0
            for step in range(max_new_tokens):
                token, prob = choose(logits)
                new[:, step], probs[:, step] = token, prob
                made = step + 1
                ended |= token == self.eos
                if made == max_new_tokens:
                    break
                if made % EOS_CHECK_EVERY == 0 and bool(ended.all()):
                    break
                slot.ids.copy_(token[:, None])
                slot.positions.add_(1)
                slot.mask[:, :, :, width + step] = True
                logits = self._step(slot)
            return Decoded(new[:rows, :made].tolist(), probs[:rows, :made].tolist(), finite)

    def warm(self, most_rows: int, lengths: tuple[int, ...] = (CACHE_STEP, 2 * CACHE_STEP)) -> None:
        """Makes the caches (and captures the steps) of every batch size up to ``most_rows``
        at each of ``lengths``, as many as are kept."""
        sizes = [1 << k for k in range(_power_of_two(most_rows).bit_length())]
        shapes = [(batch, length) for length in lengths for batch in sizes][: self.keep]
        with self.lock, torch.inference_mode():
            for batch, length in shapes:
                self._slot(batch, length)
        if self.graphs and not self._replays_agree():
            log.warning("CUDA graph replays differ from eager steps: decoding without graphs")
            self._drop_graphs()

    def _replays_agree(self) -> bool:
        """Whether a probe batch decodes to the same tokens with graphs as without."""
        generator = torch.Generator().manual_seed(0)
        vocab = int(self.model.config.vocab_size)
        ids = torch.randint(vocab, (2, 24), generator=generator).to(self.device)
        mask = torch.ones_like(ids)
        mask[1, :10] = 0  # a left-padded row too
        eager = StaticDecoder(self.model, self.eos, graphs=False, keep=1)
        return self.decode(ids, mask, 16).ids == eager.decode(ids, mask, 16).ids

    def _drop_graphs(self) -> None:
        self.graphs = False
        for slot in self.slots.values():
            slot.graph = None

    def _slot(self, batch: int, length: int) -> _Slot:
        """The cache for this shape, made (and its step captured) on first use."""
        key = (batch, length)
        if key in self.slots:
            self.slots.move_to_end(key)
            return self.slots[key]
        while len(self.slots) >= self.keep:
            self.slots.popitem(last=False)
        slot = _Slot(
            cache=StaticCache(config=self.model.config, max_cache_len=length),
            ids=torch.zeros(batch, 1, dtype=torch.long, device=self.device),
            positions=torch.zeros(batch, 1, dtype=torch.long, device=self.device),
            mask=torch.zeros(batch, 1, 1, length, dtype=torch.bool, device=self.device),
        )
        # A one-token prefill makes the cache's tensors, which the graph then holds.
        self._prefill(slot, slot.ids, torch.ones(batch, 1, dtype=torch.bool, device=self.device))
        slot.measure()
        self.slots[key] = slot
        budget = self.budget_bytes
        while budget is not None and len(self.slots) > 1 and self.cache_bytes() > budget:
            self.slots.popitem(last=False)
        if self.graphs:
            try:
                slot.graph = self._capture(slot)
            except RuntimeError as error:  # no CUDA, or an operation a graph cannot hold
                log.warning("decoding without CUDA graphs: capturing one failed (%s)", error)
                self._drop_graphs()
        return slot

    def cache_bytes(self) -> int:
        """What the kept caches hold together."""
        return sum(slot.bytes for slot in self.slots.values())

    def _capture(self, slot: _Slot) -> torch.cuda.CUDAGraph:
        """The decode step recorded on ``slot``'s tensors (warmed up on a side stream first,
        as PyTorch asks); the cache position it advanced is reset by the next prefill."""
        side = torch.cuda.Stream()  # type: ignore[no-untyped-call]
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                self._forward(slot)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            slot.logits = self._forward(slot)
        return graph

    def _prefill(self, slot: _Slot, ids: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Reads the prompts ``ids`` (``valid`` marks real tokens, padding on the left) into a
        reset cache and sets the step's position and mask after them; the last logits."""
        batch, width = ids.shape
        length = slot.mask.shape[-1]
        # Back to the cache's start: what the last batch left past the prompts is masked until
        # the new tokens overwrite it.
        for layer in slot.cache.layers:
            layer.cumulative_length.zero_()  # type: ignore[union-attr]  # plain static layers
        positions = valid.long().cumsum(-1) - 1
        positions.masked_fill_(~valid, 1)
        keys = torch.arange(length, device=self.device)
        queries = torch.arange(width, device=self.device)
        seen = torch.zeros(batch, length, dtype=torch.bool, device=self.device)
        seen[:, :width] = valid
        # A padding position sees itself alone (a row that sees nothing would make NaNs).
        mask = (keys[None, None, :] <= queries[None, :, None]) & seen[:, None, :]
        mask |= keys[None, None, :] == queries[None, :, None]
        out = self.model(
            input_ids=ids,
            attention_mask=self._mask(mask[:, None]),
            position_ids=positions,
            past_key_values=slot.cache,
            use_cache=True,
            logits_to_keep=1,
        )
        slot.positions.copy_(positions[:, -1:])
        slot.mask.copy_(seen[:, None, None, :])
        logits: torch.Tensor = out.logits[:, -1].float()
        return logits

    def _step(self, slot: _Slot) -> torch.Tensor:
        if slot.graph is None:
            return self._forward(slot)
        slot.graph.replay()
        assert slot.logits is not None
        return slot.logits

    def _forward(self, slot: _Slot) -> torch.Tensor:
        out = self.model(
            input_ids=slot.ids,
            attention_mask=self._mask(slot.mask),
            position_ids=slot.positions,
            past_key_values=slot.cache,
            use_cache=True,
        )
        logits: torch.Tensor = out.logits[:, -1].float()
        return logits

    def _mask(self, allowed: torch.Tensor) -> torch.Tensor:
        """``allowed`` as the model's attention takes it: boolean for SDPA, else additive."""
        if self.boolean_mask:
            return allowed
        dtype = self.model.dtype
        return torch.zeros_like(allowed, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)


def _power_of_two(number: int) -> int:
    """The smallest power of two at least ``number``."""
    return 1 << (number - 1).bit_length()


def _chooser(temperature: float, top_p: float) -> Any:
    """The next token of each row and its probability: the most likely one when greedy, else
    one drawn after transformers' own temperature and top-p warpers."""
    if temperature <= 0:

        def greedy(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            best, token = logits.log_softmax(-1).max(-1)
            return token, best.exp()

        return greedy
    warpers = LogitsProcessorList([TemperatureLogitsWarper(temperature)])
    if top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))

    def sampled(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probs = warpers(None, logits).softmax(-1)  # type: ignore[arg-type]
        token = torch.multinomial(probs, 1)
        return token[:, 0], probs.gather(-1, token)[:, 0]

    return sampled
