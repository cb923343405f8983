"""The API bodies: OpenAI-compatible completions (checked with the official client's own types),
4xx reasons for bad requests, and feedback."""

import pytest
from openai.types import Completion as OpenAICompletion
from pydantic import ValidationError

from serving.requests import Choice, Completion, Sampling
from serving.schema import CompletionRequest, CompletionResponse, FeedbackRequest


def test_a_request_becomes_one_engine_request_per_prompt() -> None:
    request = CompletionRequest.model_validate(
        {
            "model": "0.2.0",
            "prompt": ["def a():\n", "def b():\n"],
            "suffix": "\nprint(1)\n",
            "max_tokens": 8,
            "temperature": 0.7,
            "top_p": 0.9,
            "n": 2,
            "stop": "\n\n",
            "logit_bias": {},  # OpenAI fields codemill does not use are ignored
        }
    )
    made = request.engine_requests()
    assert [r.prompt for r in made] == ["def a():\n", "def b():\n"]
    assert {r.suffix for r in made} == {"\nprint(1)\n"}
    assert {r.sampling for r in made} == {Sampling(8, 0.7, 0.9, 2, ("\n\n",))}
    assert CompletionRequest(prompt="x").engine_requests()[0].sampling == Sampling()


def test_null_settings_mean_the_defaults_as_in_openai() -> None:
    nulls = {"max_tokens": None, "temperature": None, "top_p": None, "n": None, "stop": None}
    request = CompletionRequest.model_validate({"prompt": "x", "suffix": None, **nulls})
    assert request.engine_requests()[0].sampling == Sampling()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "x", "temperature": 3}, "temperature"),
        ({"prompt": "x", "n": 9}, "n"),
        ({"prompt": "x", "max_tokens": 0}, "max_tokens"),
        ({"prompt": "x", "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"prompt": []}, "prompt"),
        ({}, "prompt"),
    ],
)
def test_a_bad_request_names_its_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        CompletionRequest.model_validate(body)


def test_the_response_is_an_openai_completion_with_codemill_fields() -> None:
    done = [
        Completion([Choice("a + b", 0.91, "stop", 3), Choice("a - b", 0.5, "length", 4)], 10, 7.0),
        Completion([Choice("x", 0.8, "stop", 1), Choice("y", 0.7, "stop", 1)], 6, 7.0),
    ]
    response = CompletionResponse.of("0.2.0", done, latency_ms=12.345)
    parsed = OpenAICompletion.model_validate(response.model_dump())
    assert [c.index for c in parsed.choices] == [0, 1, 2, 3]
    assert [c.text for c in parsed.choices] == ["a + b", "a - b", "x", "y"]
    assert parsed.usage is not None and parsed.usage.total_tokens == 16 + 9
    assert parsed.model == "0.2.0" and parsed.id.startswith("cmpl-")
    assert (response.model_version, response.confidence, response.latency_ms) == (
        "0.2.0",
        0.91,
        12.35,
    )


def test_feedback_kinds_carry_what_they_need() -> None:
    assert FeedbackRequest(completion_id="cmpl-1", kind="accept").kind == "accept"
    fixed = FeedbackRequest(completion_id="cmpl-1", kind="correction", corrected="return 0")
    assert fixed.corrected == "return 0"
    with pytest.raises(ValidationError, match="corrected"):
        FeedbackRequest(completion_id="cmpl-1", kind="correction")
    with pytest.raises(ValidationError, match="rating"):
        FeedbackRequest(completion_id="cmpl-1", kind="rating")
    with pytest.raises(ValidationError, match="rating"):
        FeedbackRequest(completion_id="cmpl-1", kind="rating", rating=9)
    with pytest.raises(ValidationError, match="extra"):
        FeedbackRequest.model_validate({"completion_id": "c", "kind": "accept", "secret": 1})
