"""The reference inference engine: a Hugging Face causal LM (a base, or a base with a version's
LoRA adapter merged into it) completing prompts with ``transformers``' ``generate``.

It runs any model ``transformers`` loads. Faster engines (a quantized CPU path, vLLM on GPUs)
plug in behind the same :class:`Engine` protocol. A request with a ``suffix`` asks for the middle
between prompt and suffix, in the fill-in-the-middle format the adapters were trained on.
Requests are completed in batches (left-padded), one batch per set of sampling parameters; every
choice carries its confidence, the mean probability the model gave the tokens it chose. On a GPU
a batch is decoded on a static cache with each token one CUDA graph replay
(:mod:`serving.decode`) where the model allows it; streams and other models use ``generate``.
"""

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers.generation.streamers import BaseStreamer

from serving.decode import StaticDecoder
from serving.requests import Choice, Completion, FinishReason, ModelError, Piece, Request, Sampling
from training.bases import load_base
from training.prompts import fim_prompt

CACHE_SHARE = 0.25  # of a replica's GPU memory, for the static decoder's caches


class TransformersEngine:
    """:class:`Engine` on ``transformers``: CPU in float32 (or int8 dynamic quantization), GPU in
    bfloat16."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        version: str,
        max_prompt_tokens: int = 2048,
        decoder: StaticDecoder | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"  # generation continues each prompt's last token
        self.tokenizer.truncation_side = "left"  # a long prompt keeps the code at the cursor
        self.version = version
        self.max_prompt_tokens = max_prompt_tokens
        self.device = next(model.parameters()).device
        self.eos = tokenizer.eos_token_id
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos
        self.decoder = decoder

    @classmethod
    def load(
        cls,
        base: str | Path,
        version: str,
        adapter: Path | None = None,
        quantize: bool = False,
        max_prompt_tokens: int = 2048,
        cuda_graphs: bool = True,
        max_batch_size: int = 16,
        gpu_share: float = 1.0,
    ) -> "TransformersEngine":
        """The base at ``base`` (a folder or hub id), with ``adapter`` merged into its weights
        (no adapter arithmetic left per token), on a GPU where there is one, decoding batches
        with CUDA graphs there unless ``cuda_graphs`` is off or the model does not allow it
        (the graphs of batches up to ``max_batch_size`` captured before it returns; their caches
        held to a quarter of the ``gpu_share`` of the GPU this replica has)."""
        model, tokenizer = load_base(base)
        if adapter is not None:
            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        if torch.cuda.is_available():
            # cuDNN's attention plans each new shape on the CPU (~8 ms a call, measured on an
            # H200), and generation makes a new shape every token: flash attention plans none.
            torch.backends.cuda.enable_cudnn_sdp(False)
            model = model.to(device="cuda", dtype=torch.bfloat16)  # type: ignore[call-arg]
            if cuda_graphs and StaticDecoder.supports(model):
                memory = torch.cuda.get_device_properties(model.device).total_memory
                budget = int(CACHE_SHARE * memory * min(1.0, gpu_share))
                decoder = StaticDecoder(model, tokenizer.eos_token_id, True, budget_bytes=budget)
                decoder.warm(max_batch_size)
                return cls(model, tokenizer, version, max_prompt_tokens, decoder)
        elif quantize:
            model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
        return cls(model, tokenizer, version, max_prompt_tokens)

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Each request's completion, in order."""
        groups: dict[Sampling, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            groups[request.sampling].append(index)
        done: dict[int, Completion] = {}
        for sampling, indices in groups.items():
            prompts = [self._text(requests[i]) for i in indices]
            done.update(zip(indices, self._batch(prompts, sampling), strict=True))
        return [done[i] for i in range(len(requests))]

    def stream(self, request: Request) -> Iterator[Piece]:
        """One choice of ``request``, its text as the tokens are made (greedy or sampled)."""
        encoded = self._encode([self._text(request)])
        tokens = _TokenQueue()
        options = self._options(request.sampling, 1) | {"streamer": tokens}
        options.update(output_scores=False, return_dict_in_generate=False)
        failed: list[Exception] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**encoded, **options)
            except Exception as error:  # handed to the consumer below
                failed.append(error)
            finally:
                tokens.end()

        threading.Thread(target=run, daemon=True).start()
        ids: list[int] = []
        sent, ended = "", False
        while (token := tokens.queue.get()) is not None:
            if token == self.eos:
                ended = True
                continue
            if ended:
                continue  # padding after the end
            ids.append(token)
            text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
            if not text.endswith("\ufffd"):  # not half a character
                yield Piece(text[len(sent) :])
                sent = text
        if failed:
            raise failed[0]
        text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
        width = int(encoded["input_ids"].shape[1])
        yield Piece(text[len(sent) :], "stop" if ended else "length", len(ids), width)

    def _text(self, request: Request) -> str:
        """What the model reads: the prompt (a fill-in-the-middle one with a suffix); an empty
        prompt starts from the beginning-of-text token, as a new file does."""
        return _prompt_text(request) or self.tokenizer.bos_token or self.tokenizer.eos_token

    def _encode(self, prompts: list[str]) -> Any:
        return self.tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_prompt_tokens,
            add_special_tokens=False,
        ).to(self.device)

    def _options(self, sampling: Sampling, generated: int) -> dict[str, Any]:
        sampled = sampling.temperature > 0
        options: dict[str, Any] = {
            "max_new_tokens": sampling.max_tokens,
            "do_sample": sampled,
            "num_return_sequences": generated,
            "output_scores": True,
            "return_dict_in_generate": True,
            "eos_token_id": self.eos,
            "pad_token_id": self.pad,
        }
        if sampled:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p)
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        if sampling.stop:
            options.update(stop_strings=list(sampling.stop), tokenizer=self.tokenizer)
        return options

    def _batch(self, prompts: list[str], sampling: Sampling) -> list[Completion]:
        encoded = self._encode(prompts)
        # Greedy choices are all the same: generate one and repeat it, as OpenAI's API does.
        generated = sampling.n if sampling.temperature > 0 else 1
        started = time.perf_counter()
        if self.decoder is not None:
            new_ids, probs, finite = self._decode(encoded, sampling, generated)
        else:
            new_ids, probs, finite = self._generate(encoded, sampling, generated)
        if not finite:
            raise ModelError(f"version {self.version} scored no token: its weights are not finite")
        latency_ms = (time.perf_counter() - started) * 1000
        prompt_tokens = encoded["attention_mask"].sum(1).tolist()
        completions = []
        for row, tokens in enumerate(prompt_tokens):
            choices = [
                self._choice(new_ids[k], probs[k], sampling)
                for k in range(row * generated, (row + 1) * generated)
            ] * (sampling.n // generated)
            completions.append(Completion(choices, int(tokens), latency_ms))
        return completions

    def _generate(
        self, encoded: Any, sampling: Sampling, generated: int
    ) -> tuple[list[list[int]], list[list[float]], bool]:
        """``generate``'s new tokens for each choice, their probabilities, and whether the
        first scores were finite."""
        with torch.inference_mode():
            out = self.model.generate(**encoded, **self._options(sampling, generated))
            chosen = self.model.compute_transition_scores(
                out.sequences, out.scores, normalize_logits=True
            )
        finite = bool(torch.isfinite(out.scores[0]).any(dim=-1).all())
        width = encoded["input_ids"].shape[1]
        return out.sequences[:, width:].tolist(), chosen.exp().tolist(), finite

    def _decode(
        self, encoded: Any, sampling: Sampling, generated: int
    ) -> tuple[list[list[int]], list[list[float]], bool]:
        """The same from the static decoder, each choice cut after the token that completes a
        stop string, where ``generate`` would have stopped."""
        assert self.decoder is not None
        ids, mask = (
            encoded[name].repeat_interleave(generated, 0)
            for name in ("input_ids", "attention_mask")
        )
        done = self.decoder.decode(
            ids, mask, sampling.max_tokens, sampling.temperature, sampling.top_p
        )
        kept = [self._until_stop(row, sampling.stop) for row in done.ids]
        return (
            [r[:k] for r, k in zip(done.ids, kept, strict=True)],
            [p[:k] for p, k in zip(done.probs, kept, strict=True)],
            done.finite,
        )

    def _until_stop(self, ids: list[int], stops: Sequence[str]) -> int:
        """How many of ``ids`` it takes for their text to hold one of ``stops`` (all if none)."""
        decode = self.tokenizer.decode
        if not stops or not any(s in decode(ids, skip_special_tokens=True) for s in stops):
            return len(ids)
        return next(
            k
            for k in range(1, len(ids) + 1)
            if any(s in decode(ids[:k], skip_special_tokens=True) for s in stops)
        )

    def _choice(self, ids: list[int], probs: list[float], sampling: Sampling) -> Choice:
        ended = self.eos in ids
        kept = ids.index(self.eos) if ended else len(ids)
        scored = probs[: kept + 1] if ended else probs[:kept]
        text = str(self.tokenizer.decode(ids[:kept], skip_special_tokens=True))
        cut = min((i for s in sampling.stop if (i := text.find(s)) >= 0), default=-1)
        if cut >= 0:
            text = text[:cut]
        reason: FinishReason = "stop" if ended or cut >= 0 else "length"
        confidence = sum(scored) / len(scored) if scored else 0.0
        return Choice(text, confidence, reason, kept)


class _TokenQueue(BaseStreamer):
    """What ``generate`` hands a streamer, as token ids on a queue (None at the end)."""

    def __init__(self) -> None:
        self.queue: queue.Queue[int | None] = queue.Queue()
        self.prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:  # generate first puts the prompt
            self.prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self.queue.put(int(token))

    def end(self) -> None:
        self.queue.put(None)


def _prompt_text(request: Request) -> str:
    return fim_prompt(request.prompt, request.suffix) if request.suffix else request.prompt
