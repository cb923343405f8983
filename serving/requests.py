"""What an inference engine is asked and answers, and the protocol every engine follows. Pure:
the router handles these without loading torch; :mod:`serving.engine` and
:mod:`serving.llamacpp` implement :class:`Engine`."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, slots=True)
class Sampling:
    """How to choose tokens: greedy at temperature 0, else sampled (nucleus ``top_p``)."""

    max_tokens: int = 16
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Request:
    prompt: str
    suffix: str = ""
    sampling: Sampling = Sampling()


@dataclass(frozen=True, slots=True)
class Choice:
    text: str
    confidence: float  # mean probability of the chosen tokens, the end-of-text one included
    finish_reason: FinishReason
    tokens: int  # tokens generated (up to the end-of-text token or a stop string)


@dataclass(frozen=True, slots=True)
class Completion:
    choices: list[Choice]
    prompt_tokens: int
    latency_ms: float  # of the batch it was completed in


@dataclass(frozen=True, slots=True)
class Piece:
    """A streamed completion's next text; the last piece carries how it ended."""

    text: str
    finish_reason: FinishReason | None = None
    tokens: int = 0  # on the last piece: tokens generated
    prompt_tokens: int = 0  # on the last piece: tokens of the prompt as the model read it


class ModelError(RuntimeError):
    """The model cannot answer (its weights or outputs are broken)."""


class Engine(Protocol):
    version: str

    def complete(self, requests: Sequence[Request]) -> list[Completion]: ...

    def stream(self, request: Request) -> Iterator[Piece]: ...
