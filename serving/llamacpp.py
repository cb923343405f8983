"""An :class:`~serving.engine.Engine` on llama.cpp for CPUs: the version's model (its base with its
adapter merged) converted once to GGUF (:mod:`serving.gguf`) and run by ``llama-cpp-python``.

It answers as :class:`~serving.engine.TransformersEngine` does: prompts are tokenized and choices
decoded by the model's own Hugging Face tokenizer (so ids are those it was trained on), greedy at
temperature 0 (one answer repeated ``n`` times), else sampled (temperature, then top-k 50 as
``transformers`` does by default, then ``top_p``); a choice ends at the end-of-text token or a
stop string ("stop") or at ``max_tokens`` ("length"); its confidence is the mean probability of
the tokens chosen, end-of-text included. Unlike ``Llama``, which decodes one sequence at a time,
the requests of a batch are decoded together, one sequence each (``n`` for a sampled request,
sharing the prompt's cache), in as few waves as the context holds: a decoding step for 16
sequences costs about five for one (reading the prompts costs what it costs). The cache keeps
the last request's tokens, so a request that shares their start (a developer typing on) reads
only what is new. A prompt longer than ``max_prompt_tokens`` keeps its end (a fill-in-the-middle
prompt: the prefix's end and the suffix's start).
"""

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from peft import PeftModel
from transformers import PreTrainedTokenizerBase

from serving.gguf import WeightType, cached_gguf
from serving.requests import (
    Choice,
    Completion,
    FinishReason,
    ModelError,
    Piece,
    Request,
    Sampling,
)
from training.bases import fim_token_ids, load_base
from training.prompts import fim_prompt

TOP_K = 50  # transformers' default, which TransformersEngine's sampling applies too


class LlamaCppEngine:
    """:class:`~serving.engine.Engine` on a GGUF file; one caller at a time (a lock)."""

    def __init__(
        self,
        gguf_path: Path,
        tokenizer: PreTrainedTokenizerBase,
        version: str,
        threads: int | None = None,
        max_prompt_tokens: int = 2048,
        max_tokens: int = 256,
        parallel: int = 16,
        seed: int | None = None,
    ) -> None:
        self.version = version
        self.tokenizer = tokenizer
        self.max_prompt_tokens = max_prompt_tokens
        self.eos = tokenizer.eos_token_id
        self.fim_ids = fim_token_ids(tokenizer)
        self.rng = np.random.default_rng(seed)
        self.lock = threading.Lock()
        self.cached: list[int] = []  # the tokens in the cache's sequence 0
        # Room for the longest prompt with `parallel` answers of max_tokens: any one request.
        self.cells = max_prompt_tokens + parallel * max_tokens
        threads = threads or len(os.sched_getaffinity(0))
        self.runtime = _Runtime(gguf_path, threads, parallel, self.cells)

    @classmethod
    def load(
        cls,
        base: str | Path,
        version: str,
        adapter: Path | None,
        cache_dir: Path,
        *,
        threads: int | None = None,
        weight_type: WeightType = "q8_0",
        max_prompt_tokens: int = 2048,
        max_tokens: int = 256,
    ) -> "LlamaCppEngine":
        """The base at ``base`` with ``adapter`` merged, converted to GGUF in ``cache_dir`` (once
        per content) and opened with ``threads`` threads (all CPUs by default)."""
        model, tokenizer = load_base(base)
        if adapter is not None:
            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        path = cached_gguf(model, tokenizer, cache_dir, weight_type)
        del model  # the GGUF file holds the weights now
        return cls(path, tokenizer, version, threads, max_prompt_tokens, max_tokens)

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Each request's completion, in order; all decoded together."""
        with self.lock:
            started = time.perf_counter()
            jobs = [self._job(i, r) for i, r in enumerate(requests)]
            for wave in _waves(jobs, self.runtime.parallel, self.cells):
                for _ in self._run(wave):
                    pass
            latency_ms = (time.perf_counter() - started) * 1000
        done = [Completion([], len(job.prompt), latency_ms) for job in jobs]
        for job in jobs:
            choices = [self._choice(seq, job.sampling) for seq in job.seqs]
            repeat = 1 if job.sampled else job.sampling.n
            done[job.index].choices.extend(choices * repeat)
        return done

    def stream(self, request: Request) -> Iterator[Piece]:
        """One choice of ``request``, its text as the tokens are made (greedy or sampled); text
        that may be the start of a stop string is held back until it is not."""
        job = self._job(0, replace(request, sampling=replace(request.sampling, n=1)))
        seq = job.seqs[0]
        hold = max((len(stop) - 1 for stop in request.sampling.stop), default=0)
        sent = ""
        with self.lock:
            for _ in self._run([job]):
                text = self._decode(seq.ids)
                if not seq.live or text.endswith("\ufffd"):  # ended, or half a character
                    continue
                ready = text[: len(text) - hold]
                if len(ready) > len(sent):
                    yield Piece(ready[len(sent) :])
                    sent = ready
        choice = self._choice(seq, job.sampling)
        yield Piece(choice.text[len(sent) :], choice.finish_reason, choice.tokens, len(job.prompt))

    def close(self) -> None:
        self.runtime.close()

    def _job(self, index: int, request: Request) -> "_Job":
        sampling = request.sampling
        sampled = sampling.temperature > 0
        seqs = [_Seq() for _ in range(sampling.n if sampled else 1)]
        return _Job(index, self._prompt_ids(request), sampling, sampled, seqs)

    def _prompt_ids(self, request: Request) -> list[int]:
        text = fim_prompt(request.prompt, request.suffix) if request.suffix else request.prompt
        ids = self._encode(text)
        if not ids:  # nothing to continue: start from the start of a text
            bos = self.tokenizer.bos_token_id
            return [self.eos if bos is None else bos]
        if len(ids) <= self.max_prompt_tokens:
            return ids
        if not request.suffix:
            return ids[-self.max_prompt_tokens :]
        prefix, suffix = self._encode(request.prompt), self._encode(request.suffix)
        keep_prefix, keep_suffix = _fim_shares(len(prefix), len(suffix), self.max_prompt_tokens - 3)
        pre, suf, mid = self.fim_ids
        return [pre, *prefix[len(prefix) - keep_prefix :], suf, *suffix[:keep_suffix], mid]

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _run(self, wave: list["_Job"]) -> Iterator[None]:
        """Decode the wave's jobs, pausing after each step: their prompts together, then one
        token per live sequence until every sequence has ended. The first job's first sequence
        reuses what the cache holds of its prompt (a developer's next request shares most of
        the last one's)."""
        try:
            yield from self._steps(wave)
        except BaseException:  # an error, or a stream left unfinished: the cache is unknown
            self.cached = []
            self.runtime.clear()
            raise
        head = wave[0].seqs[0]
        self.cached = wave[0].prompt + head.ids[: head.fed]

    def _steps(self, wave: list["_Job"]) -> Iterator[None]:
        runtime, first = self.runtime, wave[0]
        reused = _common_prefix(self.cached, first.prompt[:-1])  # the last is fed for its logits
        runtime.keep(reused)
        entries, next_seq = [], 0
        for job in wave:
            job.seq_ids = list(range(next_seq, next_seq + len(job.seqs)))
            next_seq += len(job.seqs)
            start = reused if job is first else 0
            for pos in range(start, len(job.prompt)):
                entries.append((job.prompt[pos], pos, job.seq_ids, pos == len(job.prompt) - 1))
        runtime.share(first.seq_ids, reused)
        for job, logits in zip(wave, runtime.decode(entries), strict=True):
            if not np.isfinite(logits).any():
                raise ModelError(
                    f"version {self.version} scored no token: its weights are not finite"
                )
            for seq in job.seqs:
                self._advance(seq, logits, job)
        yield
        while live := [(job, k) for job in wave for k, seq in enumerate(job.seqs) if seq.live]:
            entries = []
            for job, k in live:
                seq = job.seqs[k]
                entries.append(
                    (seq.ids[-1], len(job.prompt) + len(seq.ids) - 1, [job.seq_ids[k]], True)
                )
            for (job, k), logits in zip(live, runtime.decode(entries), strict=True):
                job.seqs[k].fed = len(job.seqs[k].ids)
                self._advance(job.seqs[k], logits, job)
            yield

    def _advance(self, seq: "_Seq", logits: np.ndarray[Any, Any], job: "_Job") -> None:
        """Choose the sequence's next token from ``logits`` and note whether it has ended."""
        token, prob = _choose(logits, job.sampling, self.rng)
        seq.probs.append(prob)
        if token == self.eos:
            seq.live, seq.ended = False, True
            return
        seq.ids.append(token)
        stops = job.sampling.stop
        full = len(seq.ids) >= job.sampling.max_tokens
        seq.live = not (full or (stops and _cut(self._decode(seq.ids), stops) >= 0))

    def _choice(self, seq: "_Seq", sampling: Sampling) -> Choice:
        text = self._decode(seq.ids)
        cut = _cut(text, sampling.stop)
        if cut >= 0:
            text = text[:cut]
        reason: FinishReason = "stop" if seq.ended or cut >= 0 else "length"
        confidence = sum(seq.probs) / len(seq.probs) if seq.probs else 0.0
        return Choice(text, confidence, reason, len(seq.ids))

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))


@dataclass
class _Seq:
    """One sequence being generated: its tokens and the probability of each choice."""

    ids: list[int] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    fed: int = 0  # of ids, those in the cache
    live: bool = True
    ended: bool = False  # by the end-of-text token


@dataclass
class _Job:
    """One request: its prompt and its sequences (llama.cpp sequence ids ``seq_ids``)."""

    index: int
    prompt: list[int]
    sampling: Sampling
    sampled: bool
    seqs: list[_Seq]
    seq_ids: list[int] = field(default_factory=list)


def _waves(jobs: list[_Job], parallel: int, cells: int) -> list[list[_Job]]:
    """The jobs in order, grouped so that a group's sequences and cache cells fit."""
    waves: list[list[_Job]] = []
    seqs = used = 0
    for job in jobs:
        need = len(job.prompt) + len(job.seqs) * job.sampling.max_tokens
        if not waves or seqs + len(job.seqs) > parallel or used + need > cells:
            waves.append([])
            seqs = used = 0
        waves[-1].append(job)
        seqs, used = seqs + len(job.seqs), used + need
    return waves


def _choose(
    logits: np.ndarray[Any, Any], sampling: Sampling, rng: np.random.Generator
) -> tuple[int, float]:
    """The next token and its probability: greedy at temperature 0, else sampled from the
    temperature-scaled distribution cut to its top-k then its top-p (the probability is under
    that distribution, as ``transformers`` scores a sampled token)."""
    if sampling.temperature <= 0:
        token = int(np.argmax(logits))
        return token, float(np.exp(logits[token] - _logsumexp(logits)))
    scaled = logits.astype(np.float64) / sampling.temperature
    top = (
        np.argpartition(-scaled, TOP_K - 1)[:TOP_K]
        if len(scaled) > TOP_K
        else np.arange(len(scaled))
    )
    top = top[np.argsort(-scaled[top], kind="stable")]
    probs = np.exp(scaled[top] - _logsumexp(scaled[top]))
    # Keep the most likely tokens whose mass reaches top_p (at least one), as transformers does.
    keep = int(np.searchsorted(np.cumsum(probs), sampling.top_p - 1e-9)) + 1
    keep = min(keep, len(probs))
    probs = probs[:keep] / probs[:keep].sum()
    pick = int(rng.choice(keep, p=probs))
    return int(top[pick]), float(probs[pick])


def _logsumexp(values: np.ndarray[Any, Any]) -> float:
    peak = float(values.max())
    return peak + float(np.log(np.exp(values - peak).sum()))


def _common_prefix(one: list[int], other: list[int]) -> int:
    for n, (a, b) in enumerate(zip(one, other, strict=False)):
        if a != b:
            return n
    return min(len(one), len(other))


def _cut(text: str, stops: Sequence[str]) -> int:
    """Where the first stop string starts in ``text``; -1 if none is in it."""
    return min((i for s in stops if (i := text.find(s)) >= 0), default=-1)


def _fim_shares(prefix: int, suffix: int, budget: int) -> tuple[int, int]:
    """Tokens kept of a FIM prompt's prefix and suffix: the suffix up to a quarter of the
    budget (more where the prefix is short), the prefix the rest."""
    keep_suffix = min(suffix, max(budget // 4, budget - prefix))
    return min(prefix, budget - keep_suffix), keep_suffix


class _Runtime:
    """A llama.cpp model and context (a unified cache of ``cells`` cells shared by up to
    ``parallel`` sequences), through llama-cpp-python's bindings of the C API."""

    def __init__(self, path: Path, threads: int, parallel: int, cells: int) -> None:
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # as Llama(verbose=False)
        llama_cpp.llama_backend_init()
        self.model = llama_cpp.llama_model_load_from_file(
            str(path).encode(), llama_cpp.llama_model_default_params()
        )
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {path}; delete it to convert again")
        params = llama_cpp.llama_context_default_params()
        params.n_ctx, params.n_seq_max, params.kv_unified = cells, parallel, True
        params.n_batch = params.n_ubatch = 512
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)
        if not self.ctx:
            llama_cpp.llama_model_free(self.model)
            raise RuntimeError(f"llama.cpp could not make a context of {cells} cells")
        self.parallel, self.n_batch = parallel, params.n_batch
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(self.model))
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, parallel)
        self.closed = False

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)

    def keep(self, tokens: int) -> None:
        """Empty the cache but for sequence 0's first ``tokens`` tokens."""
        memory = llama_cpp.llama_get_memory(self.ctx)
        llama_cpp.llama_memory_seq_keep(memory, 0)
        llama_cpp.llama_memory_seq_rm(memory, 0, tokens, -1)

    def share(self, seq_ids: list[int], tokens: int) -> None:
        """Give the first sequence's first ``tokens`` tokens to the others of ``seq_ids``."""
        memory = llama_cpp.llama_get_memory(self.ctx)
        for seq in seq_ids[1:]:
            llama_cpp.llama_memory_seq_cp(memory, seq_ids[0], seq, 0, tokens)

    def decode(self, entries: list[tuple[int, int, list[int], bool]]) -> list[np.ndarray[Any, Any]]:
        """Feed (token, position, sequence ids, wants logits) entries, in chunks of a batch;
        the logits of the entries that want them, in order."""
        out = []
        for start in range(0, len(entries), self.n_batch):
            chunk = entries[start : start + self.n_batch]
            batch = self.batch
            batch.n_tokens = len(chunk)
            for i, (token, pos, seqs, wants) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.logits[i] = token, pos, wants
                batch.n_seq_id[i] = len(seqs)
                for j, seq in enumerate(seqs):
                    batch.seq_id[i][j] = seq
            status = llama_cpp.llama_decode(self.ctx, batch)
            if status != 0:
                raise RuntimeError(f"llama.cpp could not decode a batch (status {status})")
            for i, (*_, wants) in enumerate(chunk):
                if wants:
                    row = llama_cpp.llama_get_logits_ith(self.ctx, i)
                    out.append(np.ctypeslib.as_array(row, shape=(self.n_vocab,)).copy())
        return out

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            llama_cpp.llama_batch_free(self.batch)
            llama_cpp.llama_free(self.ctx)
            llama_cpp.llama_model_free(self.model)

    def __del__(self) -> None:
        if getattr(self, "closed", True) is False:
            self.close()
