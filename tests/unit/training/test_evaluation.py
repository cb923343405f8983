"""The evaluation on a real (tiny, randomly initialised) Llama and a tokenizer trained here."""

import copy
import math
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from tests.support.models import bpe_tokenizer, small_llama
from training.batches import encode, pad_batch
from training.evaluation import (
    GENERATION_KEYS,
    TOKEN_KEYS,
    QualityReport,
    RelatedTest,
    evaluate,
)
from training.prompts import TrainingText, fim_prompt

OPERATIONS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**"}
WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def _completion(name: str, op: str) -> TrainingText:
    target = (
        f"def {name}_values(left_value, right_value):\n    return left_value {op} right_value\n"
    )
    return TrainingText(f"# {name}\n", target, "completion", f"c-{name}", WHEN, "python")


TEXTS = [
    *(_completion(name, op) for name, op in OPERATIONS.items()),
    TrainingText(
        fim_prompt("def add_values(left_value, right_value):\n    return ", "\n"),
        "left_value + right_value",
        "completion",
        "fim-add",
        WHEN,
        "python",
    ),
    TrainingText("### Task: name this\n", "add_values", "naming", "n-add", WHEN, "python"),
]
ADD = TEXTS[0]
TESTS = {
    ADD.id: RelatedTest(
        files={
            "calc.py": f"import math\n\n\n{ADD.target}",
            "tests/test_calc.py": "from calc import add_values\n\n\n"
            "def test_add():\n    assert add_values(2, 3) == 5\n",
        },
        path="calc.py",
        test="tests/test_calc.py::test_add",
    )
}


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """A tiny model on a shared machine: a second intra-op thread only waits for the first."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    return bpe_tokenizer([t.prompt + t.target for t in TEXTS] * 4, vocab_size=320)


@pytest.fixture(scope="module")
def untrained(tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    return small_llama(len(tokenizer), tokenizer)


@pytest.fixture(scope="module")
def trained(untrained: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    """The same model after 60 full-batch steps on the held-out pattern itself."""
    model = copy.deepcopy(untrained).train()

    def tokenize(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    examples = [e for t in TEXTS if (e := encode(t, tokenize, tokenizer.eos_token_id, 256))]
    batch = pad_batch(examples, tokenizer.pad_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = model(
            input_ids=torch.tensor(batch.ids),
            attention_mask=torch.tensor(batch.mask),
            labels=torch.tensor(batch.labels),
        ).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval()


@pytest.fixture(scope="module")
def reports(
    untrained: LlamaForCausalLM, trained: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast
) -> tuple[QualityReport, QualityReport]:
    return (
        evaluate(untrained, tokenizer, TEXTS, tests=TESTS, batch_size=3),
        evaluate(trained, tokenizer, TEXTS, tests=TESTS, batch_size=3),
    )


def test_training_on_the_pattern_raises_the_scores(
    reports: tuple[QualityReport, QualityReport],
) -> None:
    before, after = reports
    assert after.next_token_accuracy > before.next_token_accuracy + 0.5
    assert after.perplexity < before.perplexity / 10
    assert after.next_line_exact_match == after.semantic_accuracy == 1.0
    assert before.next_line_exact_match == 0.0
    assert after.edit_similarity == 1.0 > before.edit_similarity
    assert after.syntax_correctness == 1.0
    assert before.syntax_correctness == 0.0
    assert after.test_pass_rate == 1.0
    assert before.test_pass_rate == 0.0
    assert after.style_consistency == 1.0  # the names it writes are the team's snake_case


def test_report_keeps_aligned_per_example_values(
    reports: tuple[QualityReport, QualityReport],
) -> None:
    report = reports[1]
    assert report.examples == len(TEXTS) == len(report.example_ids)
    assert report.generated == len(TEXTS) == len(report.generated_ids)
    assert report.generated_ids[0] == ADD.id  # the example with a test comes first
    assert report.generated_ids[-1] == "n-add"  # instruction pairs after completion rows
    assert all(len(report.per_example[k]) == report.examples for k in TOKEN_KEYS)
    assert all(len(report.per_example[k]) == report.generated for k in GENERATION_KEYS)
    syntax = dict(zip(report.generated_ids, report.per_example["syntax_correctness"], strict=True))
    assert math.isnan(syntax["fim-add"]) and math.isnan(syntax["n-add"])  # not judged
    tokens = report.per_example["target_tokens"]
    correct = sum(report.per_example["correct_tokens"])
    assert report.next_token_accuracy == pytest.approx(correct / sum(tokens))
    assert 0 < report.latency_ms_p50 <= report.latency_ms_p95
    assert sum(not math.isnan(v) for v in report.per_example["test_pass"]) == 1


def test_metrics_are_flat_floats_and_the_report_round_trips(
    reports: tuple[QualityReport, QualityReport],
) -> None:
    report = reports[1]
    figures = report.metrics()
    assert figures["next_token_accuracy"] == report.next_token_accuracy
    assert "per_example" not in figures and "example_ids" not in figures
    assert all(isinstance(v, float) for v in figures.values())
    again = QualityReport.model_validate_json(report.model_dump_json())
    assert again.metrics() == figures
    assert again.per_example.keys() == report.per_example.keys()


def test_conventions_given_override_those_observed(
    trained: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast
) -> None:
    camel = {"python": {"value": "camelCase"}}
    report = evaluate(trained, tokenizer, TEXTS[:2], conventions=camel, generate_examples=1)
    assert report.style_consistency == 0.0
    assert report.generated == 1 and report.test_pass_rate is None


def test_a_peft_model_is_evaluated_like_its_base(
    trained: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast
) -> None:
    # a new LoRA adapter starts as the identity, so the scores are the base's
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    wrapped = get_peft_model(copy.deepcopy(trained), lora)
    base = evaluate(trained, tokenizer, TEXTS[:3], generate_examples=2)
    adapted = evaluate(wrapped, tokenizer, TEXTS[:3], generate_examples=2)
    assert adapted.next_token_accuracy == base.next_token_accuracy
    assert adapted.per_example["edit_similarity"] == base.per_example["edit_similarity"]


def test_inputs_that_cannot_be_evaluated_are_refused(
    untrained: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast
) -> None:
    with pytest.raises(ValueError, match="no held-out example"):
        evaluate(untrained, tokenizer, [])
    with pytest.raises(ValueError, match="not held out"):
        evaluate(untrained, tokenizer, TEXTS[1:2], tests=TESTS)
    with pytest.raises(ValueError, match="generate at least one"):
        evaluate(untrained, tokenizer, TEXTS, generate_examples=0)
