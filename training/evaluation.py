"""Judge a causal language model (a ``transformers`` model, or a peft one) on held-out examples.

Two passes, every value kept per example so :mod:`training.compare` can resample them:

* **Teacher forcing** over every example, encoded as training encodes it
  (:func:`training.batches.encode`: the target and an end-of-text token given the prompt, a long
  prompt keeping its end): *next-token accuracy* (argmax right, over all scored tokens) and
  *perplexity* (exp of the mean negative log-likelihood per scored token).
* **Greedy generation** on ``generate_examples`` examples: those with a related test first, then
  completion rows, then the other tables, each group in an order ``seed`` fixes (it depends on
  the data only, so two models are judged on the same ones). A generation runs for as many
  tokens as the target has, at most ``max_new_tokens`` (all of them for an example with a test).
  *Next-line exact match*: the first non-blank lines of generation and target agree.
  *Edit similarity*: of the generation and the target cut to the same number of tokens.
  The *candidate* is the generation cut to the target's line count: it stands for the target.
  *Syntax correctness* is judged on left-to-right completion rows (not fill-in-the-middle) of a
  known language whose whole target fit the budget and parses standalone: does the candidate
  parse standalone into the same kind of definition (:func:`training.metrics.syntax_correct`)?
  *Style consistency* (:func:`training.metrics.style_consistency`) is of the candidate against
  the team's conventions (given, or observed in the examples' targets). *Test pass rate*: the
  candidate replaces the target in its file and the related test runs. *Latency*: each
  generation's wall time.

``semantic_accuracy`` (the product document's "correct intent rate") is the next-line exact
match: a per-example yes or no on what the developer typed next, where edit similarity is a
degree. A rate with no example judged is None. Example weights do not count: every held-out
example weighs the same.
"""

import math
import random
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict
from transformers import PreTrainedTokenizerBase

from streams.languages import LANGUAGES
from training import metrics
from training.batches import IGNORE, encode, pad_batch
from training.prompts import FIM_MIDDLE, TrainingText

TOKEN_KEYS = ("correct_tokens", "target_tokens", "nll")  # per held-out example
GENERATION_KEYS = (  # per generated example; NaN where not judged
    "next_line_exact_match",
    "edit_similarity",
    "syntax_correctness",
    "style_consistency",
    "test_pass",
    "latency_ms",
)


@dataclass(frozen=True, slots=True)
class RelatedTest:
    """A test of a held-out definition: the repository ``files`` it needs (relative path →
    text), the ``path`` of the file holding the definition, and the pytest node id ``test``."""

    files: Mapping[str, str]
    path: str
    test: str

    def command(self) -> list[str]:
        return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", self.test]


class QualityReport(BaseModel):
    """The product document's quality report plus the figures it is made of.

    ``per_example`` holds the values each figure is computed from (keys :data:`TOKEN_KEYS`, in
    the order of ``example_ids``, and :data:`GENERATION_KEYS`, in the order of
    ``generated_ids``); it is not a metric.
    """

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")

    syntax_correctness: float | None
    semantic_accuracy: float
    style_consistency: float | None
    test_pass_rate: float | None
    next_token_accuracy: float
    perplexity: float
    next_line_exact_match: float
    edit_similarity: float
    latency_ms_p50: float
    latency_ms_p95: float
    examples: int
    generated: int
    example_ids: list[str]
    generated_ids: list[str]
    per_example: dict[str, list[float]]

    def metrics(self) -> dict[str, float]:
        """The figures as one flat mapping (those that are None left out), for the registry."""
        skip = {"example_ids", "generated_ids", "per_example"}
        return {k: float(v) for k, v in self.model_dump(exclude=skip).items() if v is not None}


def evaluate(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[TrainingText],
    *,
    max_new_tokens: int = 64,
    generate_examples: int = 32,
    conventions: Mapping[str, Mapping[str, str]] | None = None,
    tests: Mapping[str, RelatedTest] | None = None,
    seed: int = 0,
    max_length: int = 1024,
    batch_size: int = 8,
    test_timeout: float = 60.0,
) -> QualityReport:
    """The quality of ``model`` (with its ``tokenizer``) on the held-out ``texts``.

    ``model`` is a ``transformers`` causal LM or a peft model around one (the two share no base
    class); it is put in eval mode. ``conventions`` maps a language to its kind of identifier →
    naming convention (default: :func:`training.metrics.observe_conventions` over the completion
    targets); ``tests`` maps an example id to its :class:`RelatedTest`. Prompts keep their last
    ``max_length`` tokens.
    """
    tests = tests or {}
    _check(texts, tests, generate_examples, tokenizer)
    torch.manual_seed(seed)
    model.eval()
    with torch.no_grad():
        scores = _teacher_forced(model, tokenizer, texts, max_length, batch_size)
        chosen = generation_order(texts, tests, seed)[:generate_examples]
        observed = conventions if conventions is not None else _observed(texts)
        rows = [
            _generated(
                model,
                tokenizer,
                texts[i],
                max_new_tokens,
                max_length,
                observed,
                tests.get(texts[i].id),
                test_timeout,
            )
            for i in chosen
        ]
    per_example = {**scores, **{k: [r[k] for r in rows] for k in GENERATION_KEYS}}
    tokens = sum(scores["target_tokens"])
    if not tokens:
        raise ValueError("every held-out target is empty: there is no token to score")
    exact = float(np.mean(per_example["next_line_exact_match"]))
    latency = per_example["latency_ms"]
    return QualityReport(
        syntax_correctness=_mean(per_example["syntax_correctness"]),
        semantic_accuracy=exact,
        style_consistency=_mean(per_example["style_consistency"]),
        test_pass_rate=_mean(per_example["test_pass"]),
        next_token_accuracy=sum(scores["correct_tokens"]) / tokens,
        perplexity=_exp(sum(scores["nll"]) / tokens),
        next_line_exact_match=exact,
        edit_similarity=float(np.mean(per_example["edit_similarity"])),
        latency_ms_p50=float(np.percentile(latency, 50)),
        latency_ms_p95=float(np.percentile(latency, 95)),
        examples=len(texts),
        generated=len(rows),
        example_ids=[t.id for t in texts],
        generated_ids=[texts[i].id for i in chosen],
        per_example=per_example,
    )


def generation_order(
    texts: Sequence[TrainingText], tests: Mapping[str, RelatedTest], seed: int
) -> list[int]:
    """Indices of ``texts`` in the order generation takes them (see the module doc)."""
    draw = random.Random(seed)
    keys = [draw.random() for _ in texts]
    return sorted(
        range(len(texts)),
        key=lambda i: (texts[i].id not in tests, texts[i].table != "completion", keys[i]),
    )


def _check(
    texts: Sequence[TrainingText],
    tests: Mapping[str, RelatedTest],
    generate_examples: int,
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    if not texts:
        raise ValueError("no held-out example to evaluate on: hold out some examples first")
    if generate_examples < 1:
        raise ValueError(f"generate_examples is {generate_examples}; generate at least one")
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no end-of-text token; set its eos_token")
    unknown = sorted(set(tests) - {t.id for t in texts})
    if unknown:
        raise ValueError(f"tests name examples that are not held out: {', '.join(unknown)}")


def _tokenize(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _teacher_forced(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[TrainingText],
    max_length: int,
    batch_size: int,
) -> dict[str, list[float]]:
    """Per example: target tokens predicted right, scored, and their summed negative
    log-likelihood (all 0 for an empty target)."""
    scores: dict[str, list[float]] = {k: [0.0] * len(texts) for k in TOKEN_KEYS}
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    encoded = [
        (i, e)
        for i, t in enumerate(texts)
        if (e := encode(t, lambda s: _tokenize(tokenizer, s), eos, max_length)) is not None
    ]
    encoded.sort(key=lambda pair: len(pair[1].ids))  # batches of similar length pad little
    device = next(model.parameters()).device
    for start in range(0, len(encoded), batch_size):
        group = encoded[start : start + batch_size]
        batch = pad_batch([e for _, e in group], pad if pad is not None else eos)
        ids = torch.tensor(batch.ids, device=device)
        logits = model(input_ids=ids, attention_mask=torch.tensor(batch.mask, device=device))
        logits = logits.logits[:, :-1].float()
        labels = torch.tensor(batch.labels, device=device)[:, 1:]
        scored = labels != IGNORE
        nll = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), labels, ignore_index=IGNORE, reduction="none"
        )
        correct = (logits.argmax(-1) == labels) & scored
        for row, (i, _) in enumerate(group):
            scores["correct_tokens"][i] = float(correct[row].sum())
            scores["target_tokens"][i] = float(scored[row].sum())
            scores["nll"][i] = float(nll[row].sum())
    return scores


def _generated(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    text: TrainingText,
    max_new_tokens: int,
    max_length: int,
    conventions: Mapping[str, Mapping[str, str]],
    test: RelatedTest | None,
    test_timeout: float,
) -> dict[str, float]:
    """The generation metrics of one example (see the module doc)."""
    target_ids = _tokenize(tokenizer, text.target)
    budget = max(1, len(target_ids) if test else min(max_new_tokens, len(target_ids)))
    prompt_ids = _tokenize(tokenizer, text.prompt)[-max(1, max_length - budget) :]
    if not prompt_ids:
        start = tokenizer.bos_token_id
        prompt_ids = [start if start is not None else tokenizer.eos_token_id]
    generation, latency_ms = _generate(model, tokenizer, prompt_ids, budget)
    whole = budget >= len(target_ids)
    window = text.target if whole else str(tokenizer.decode(target_ids[:budget]))
    candidate = metrics.head_lines(generation, metrics.line_count(text.target))
    known = text.language in LANGUAGES
    syntax = (
        metrics.syntax_correct(candidate, text.target, text.language)
        if whole and known and text.table == "completion" and FIM_MIDDLE not in text.prompt
        else None
    )
    style = conventions.get(text.language) if known else None
    return {
        "next_line_exact_match": float(metrics.next_line_exact_match(generation, text.target)),
        "edit_similarity": metrics.edit_similarity(generation, window),
        "syntax_correctness": _or_nan(None if syntax is None else float(syntax)),
        "style_consistency": _or_nan(
            metrics.style_consistency(candidate, text.language, style, text.prompt)
            if style
            else None
        ),
        "test_pass": (
            float(_test_passed(text, candidate, test, test_timeout)) if test else math.nan
        ),
        "latency_ms": latency_ms,
    }


def _test_passed(text: TrainingText, candidate: str, test: RelatedTest, timeout: float) -> bool:
    """Whether the related test passes with ``candidate`` in the place of the target."""
    files = dict(test.files)
    if text.target not in files.get(test.path, ""):
        raise ValueError(
            f"example {text.id}: its target is not in the test's file {test.path!r}; give the "
            "file as it was at the example's commit"
        )
    files[test.path] = files[test.path].replace(text.target, candidate, 1)
    return metrics.run_tests(files, test.command(), timeout)


def _generate(
    model: Any, tokenizer: PreTrainedTokenizerBase, prompt_ids: list[int], budget: int
) -> tuple[str, float]:
    """The greedy continuation of ``prompt_ids`` (at most ``budget`` tokens) and its wall time
    in milliseconds."""
    device = next(model.parameters()).device
    ids = torch.tensor([prompt_ids], device=device)
    eos = tokenizer.eos_token_id
    started = time.perf_counter()
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=budget,
        do_sample=False,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos,
    )
    new = out[0, len(prompt_ids) :].tolist()  # .tolist() waits for the device
    latency_ms = (time.perf_counter() - started) * 1000
    return str(tokenizer.decode(new, skip_special_tokens=True)), latency_ms


def _observed(texts: Sequence[TrainingText]) -> dict[str, dict[str, str]]:
    return metrics.observe_conventions(
        (t.language, t.target) for t in texts if t.table == "completion" and t.language in LANGUAGES
    )


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _mean(values: Sequence[float]) -> float | None:
    judged = [v for v in values if not math.isnan(v)]
    return sum(judged) / len(judged) if judged else None


def _exp(x: float) -> float:
    return math.exp(min(x, 700.0))  # a finite stand-in for "hopeless", as JSON wants
