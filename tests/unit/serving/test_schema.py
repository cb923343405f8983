"""The API bodies: OpenAI-compatible completions (checked with the official client's own types),
4xx reasons for bad requests, and feedback."""

import pytest
from openai.types import Completion as OpenAICompletion
from pydantic import ValidationError

from serving.requests import Choice, Completion, Sampling
from serving.schema import (
    CompletionRequest,
    CompletionResponse,
    FeedbackRequest,
    in_line_ends,
    invalid_reason,
)


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
    with pytest.raises(ValidationError, match=field) as invalid:
        CompletionRequest.model_validate(body)
    reason = invalid_reason(invalid.value)
    assert reason.startswith(f"{field}: ")
    assert "Value error" not in reason


def test_a_windows_editors_text_reaches_the_model_with_the_line_ends_it_learned() -> None:
    """The model learned LF line ends (ingest stores no other); the client gets its own back."""
    body = {"prompt": "def a():\r\n    x = 1\r\n", "suffix": "\r\nprint(1)\r\n", "stop": "\r\n\r\n"}
    request = CompletionRequest.model_validate(body)
    [made] = request.engine_requests()
    assert (made.prompt, made.suffix) == ("def a():\n    x = 1\n", "\nprint(1)\n")
    assert made.sampling.stop == ("\n\n",)
    assert request.line_end() == "\r\n"
    assert CompletionRequest(prompt=["x\n", "y\r\n"]).line_end() == "\r\n"
    assert CompletionRequest(prompt="x\n", suffix="y\n").line_end() == "\n"
    done = [Completion([Choice("    return x\n\ndef b():", 0.9, "stop", 6)], 9, 1.0)]
    response = CompletionResponse.of("base", done, 1.0, request.line_end())
    assert response.choices[0].text == "    return x\r\n\r\ndef b():"
    assert in_line_ends("a\nb", "\n") == "a\nb"


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


def test_what_the_openai_client_sends_is_served_and_what_comes_back_parses() -> None:
    """The official client, on a transport that answers in process: its exact body and ours."""
    import httpx
    from openai import OpenAI

    def answer(http: httpx.Request) -> httpx.Response:
        made = CompletionRequest.model_validate_json(http.content).engine_requests()
        n = made[0].sampling.n
        done = [Completion([Choice(f"{r.prompt}!", 0.9, "stop", 2)] * n, 3, 1.0) for r in made]
        return httpx.Response(200, json=CompletionResponse.of("0.2.0", done, 1.0).model_dump())

    client = OpenAI(
        api_key="k",
        base_url="http://codemill/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )
    got = client.completions.create(
        model="0.2.0",
        prompt=["def a():", "def b():"],
        max_tokens=8,
        n=2,
        stop=["\n\n", "\nclass"],
        suffix=None,
        seed=7,
        user="dev-1",
        echo=False,
        logprobs=None,
        best_of=2,
        presence_penalty=0,
        frequency_penalty=0,
        logit_bias={},
        extra_body={"cache_prompt": True},  # a server's own field, which codemill ignores
    )
    assert [c.text for c in got.choices] == ["def a():!", "def a():!", "def b():!", "def b():!"]
    assert [c.index for c in got.choices] == [0, 1, 2, 3]
    assert got.usage is not None and got.usage.total_tokens == 6 + 8


@pytest.mark.parametrize("prompt", [[1, 2, 3], [[1, 2], [3]]])
def test_token_id_prompts_are_refused_naming_the_prompt(prompt: object) -> None:
    with pytest.raises(ValidationError) as refused:
        CompletionRequest.model_validate({"prompt": prompt})
    first = refused.value.errors()[0]
    assert first["loc"] == ("prompt",) and "token ids" in first["msg"]


def test_a_null_prompt_is_a_new_file_and_a_null_stream_is_no_stream() -> None:
    request = CompletionRequest.model_validate({"prompt": None, "stream": None, "echo": None})
    assert (request.prompts(), request.stream) == ([""], False)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("echo", True),
        ("logprobs", 0),  # OpenAI still answers the chosen tokens' log probabilities
        ("logprobs", 5),
        ("best_of", 3),
        ("presence_penalty", 0.5),
        ("frequency_penalty", -1.0),
        ("logit_bias", {"50256": -100}),
    ],
)
def test_a_setting_codemill_cannot_honour_is_refused_not_ignored(
    setting: str, value: object
) -> None:
    with pytest.raises(ValidationError, match=setting):
        CompletionRequest.model_validate({"prompt": "x", setting: value})


def test_their_no_op_values_and_hints_are_accepted() -> None:
    request = CompletionRequest.model_validate(
        {
            "prompt": "x",
            "n": 2,
            "best_of": 2,
            "echo": False,
            "logprobs": None,
            "presence_penalty": 0,
            "frequency_penalty": 0.0,
            "logit_bias": {},
            "seed": 7,  # OpenAI promises determinism only at best; greedy is deterministic
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    assert request.engine_requests()[0].sampling == Sampling(n=2)


def test_top_p_zero_keeps_only_the_likeliest_token_as_in_openai() -> None:
    request = CompletionRequest.model_validate({"prompt": "x", "temperature": 0.8, "top_p": 0})
    assert request.engine_requests()[0].sampling == Sampling()


def test_stream_options_come_with_a_stream() -> None:
    with pytest.raises(ValidationError) as invalid:
        CompletionRequest.model_validate({"prompt": "x", "stream_options": {"include_usage": True}})
    assert invalid_reason(invalid.value) == "stream_options: only with stream set to true"
    asked = {"prompt": "x", "stream": True, "stream_options": {"include_usage": True}}
    options = CompletionRequest.model_validate(asked).stream_options
    assert options is not None and options.include_usage
