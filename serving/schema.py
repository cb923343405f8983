"""The HTTP API's bodies: OpenAI's completions request and response (so the ``openai`` client and
IDE tools that speak it work unchanged) plus codemill's own fields, and feedback. Pure.

A response carries ``model_version``, ``confidence`` (mean token probability of the first
choice) and ``latency_ms`` beside OpenAI's fields: the product document's ``Prediction``.
Validation errors become 4xx answers with the field and the reason. An OpenAI setting codemill
cannot honour (``echo``, ``logprobs``, ``best_of`` above ``n``, penalties, ``logit_bias``, a
prompt of token ids) is refused by name rather than ignored, as ignoring it would change the
answer silently; its no-op value (null, false, 0, ``{}``) is accepted. ``seed`` is accepted and
unused (OpenAI promises determinism only at best; greedy is deterministic).
``stream_options.include_usage`` adds OpenAI's last chunk with the usage and no choices.
"""

import time
import uuid
from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from serving.requests import Completion, Request, Sampling

MAX_STOP = 4


class StreamOptions(BaseModel):
    include_usage: bool = False


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI clients send fields codemill ignores

    model: str = ""  # a version, or empty for the router's choice
    prompt: str | list[str]
    suffix: str | None = None
    max_tokens: int = Field(16, ge=1)
    temperature: float = Field(0.0, ge=0, le=2)
    top_p: float = Field(1.0, ge=0, le=1)  # 0: the likeliest token only, i.e. greedy
    n: int = Field(1, ge=1, le=8)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    # OpenAI's settings codemill cannot honour: only their no-op values pass (see above).
    echo: bool | None = None
    logprobs: int | None = None
    best_of: int | None = Field(None, ge=1)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _text_prompt(cls, value: object) -> object:
        """A null prompt starts a new file, as in OpenAI; token ids are the model's own, which a
        client cannot know (each version may have its own tokenizer), so they are refused."""
        if value is None:
            return ""
        if isinstance(value, list) and any(isinstance(p, int | list) for p in value):
            raise ValueError("token ids are not supported: send the prompt as text")
        return value

    @field_validator("echo", "logprobs", "presence_penalty", "frequency_penalty", "logit_bias")
    @classmethod
    def _no_op(cls, value: object, info: ValidationInfo) -> object:
        # logprobs 0 still asks for the chosen tokens' log probabilities: only null is a no-op
        if value is None or (not value and info.field_name != "logprobs"):
            return value
        raise ValueError(f"codemill does not support {info.field_name}: leave it out or null")

    @field_validator("max_tokens", "temperature", "top_p", "n", "stream", mode="before")
    @classmethod
    def _null_is_default(cls, value: object, info: ValidationInfo) -> object:
        """OpenAI takes ``null`` for these as "the default", and some tools send it."""
        return cls.model_fields[str(info.field_name)].default if value is None else value

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if isinstance(self.prompt, list) and not 1 <= len(self.prompt) <= 16:
            raise ValueError("prompt: a list holds 1 to 16 prompts")
        if len(self.stops()) > MAX_STOP:
            raise ValueError(f"stop: at most {MAX_STOP} sequences")
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options: only with stream set to true")
        if self.best_of is not None and self.best_of > self.n:
            raise ValueError("best_of: codemill does not rank candidates; ask for n instead")
        return self

    def prompts(self) -> list[str]:
        return [self.prompt] if isinstance(self.prompt, str) else list(self.prompt)

    def stops(self) -> tuple[str, ...]:
        found = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        return tuple(s for s in found if s)

    def line_end(self) -> str:
        """How the client's text ends its lines: ``\r\n`` where its prompt or suffix does (an
        editor on a Windows file), else ``\n``."""
        texts = [*self.prompts(), self.suffix or ""]
        return "\r\n" if any("\r\n" in text for text in texts) else "\n"

    def engine_requests(self) -> list[Request]:
        """The requests for a model, their texts with ``\n`` line ends as it learned them (the
        answer gets the client's back: :func:`in_line_ends`)."""
        greedy = self.top_p == 0
        temperature, top_p = (0.0, 1.0) if greedy else (self.temperature, self.top_p)
        stops = tuple(lf_line_ends(stop) for stop in self.stops())
        sampling = Sampling(self.max_tokens, temperature, top_p, self.n, stops)
        return [
            Request(lf_line_ends(p), lf_line_ends(self.suffix or ""), sampling)
            for p in self.prompts()
        ]


def lf_line_ends(text: str) -> str:
    """``text`` with ``\\n`` line ends, as the models learned them."""
    return text.replace("\r\n", "\n")


def in_line_ends(text: str, line_end: str) -> str:
    """A model's text (``\n`` line ends) with the client's ``line_end``."""
    return text if line_end == "\n" else text.replace("\n", line_end)


class CompletionChoice(BaseModel):
    text: str
    index: int
    logprobs: None = None
    finish_reason: Literal["stop", "length"]
    confidence: float


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class CompletionResponse(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    model_version: str
    confidence: float
    latency_ms: float

    @classmethod
    def of(
        cls, version: str, completions: list[Completion], latency_ms: float, line_end: str = "\n"
    ) -> Self:
        """OpenAI numbers choices across prompts: prompt i's k-th choice is i * n + k. Texts
        end their lines with ``line_end``, the client's."""
        choices = [
            CompletionChoice(
                text=in_line_ends(c.text, line_end),
                index=len(done.choices) * i + k,
                finish_reason=c.finish_reason,
                confidence=round(c.confidence, 4),
            )
            for i, done in enumerate(completions)
            for k, c in enumerate(done.choices)
        ]
        prompt_tokens = sum(c.prompt_tokens for c in completions)
        completion_tokens = sum(c.tokens for done in completions for c in done.choices)
        return cls(
            id=f"cmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=version,
            choices=choices,
            usage=Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
            model_version=version,
            confidence=choices[0].confidence if choices else 0.0,
            latency_ms=round(latency_ms, 2),
        )


class FeedbackRequest(BaseModel):
    """What a tool says about a completion it got: accepted, rejected, corrected or rated."""

    model_config = ConfigDict(extra="forbid")

    completion_id: str = Field(min_length=1, max_length=100)
    kind: Literal["accept", "reject", "correction", "rating"]
    original: str = ""  # the completion as shown
    corrected: str = ""  # what the developer kept instead (a correction)
    context: str = ""  # the code before the cursor, when the tool has it
    suffix: str = ""  # and after it
    rating: float | None = Field(None, ge=1, le=5)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == "correction" and not self.corrected:
            raise ValueError("corrected: a correction carries the text the developer kept")
        if self.kind == "rating" and self.rating is None:
            raise ValueError("rating: a rating carries a value from 1 to 5")
        return self


def invalid_reason(invalid: ValidationError) -> str:
    """The first fault of a request, for a person: where it is and why (a check across fields
    names its field in its message; pydantic's "Value error, " prefix is dropped)."""
    first = invalid.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {message}" if where else message
