"""Server-sent events for ``"stream": true``, in OpenAI's chunk format. Pure.

Text is released a line at a time, each line through the sanitizer first, so a secret the model
writes is redacted as a whole even when its tokens arrive one by one; a private-key block is held
back until it ends, as its lines alone look harmless.
"""

import json
import time
from dataclasses import dataclass

_BLOCK_START = "-----BEGIN"
_BLOCK_END = "-----END"


def releasable(pending: str) -> tuple[str, str]:
    """(text that may be sent now, text to hold): whole lines, none inside an open key block."""
    cut = pending.rfind("\n") + 1
    ready = pending[:cut]
    opened = ready.rfind(_BLOCK_START)
    if opened >= 0 and ready.find(_BLOCK_END, opened) < 0:
        cut = ready.rfind("\n", 0, opened) + 1
    return pending[:cut], pending[cut:]


def stop_at(text: str, stops: tuple[str, ...]) -> int:
    """Where the first stop string starts in ``text``, -1 if none does."""
    return min((i for s in stops if (i := text.find(s)) >= 0), default=-1)


@dataclass(frozen=True, slots=True)
class ChunkWriter:
    """Formats one completion's events."""

    id: str
    version: str
    created: int

    @classmethod
    def new(cls, id: str, version: str) -> "ChunkWriter":
        return cls(id, version, int(time.time()))

    def text(self, text: str, finish_reason: str | None = None, **extra: object) -> str:
        choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}
        return self._event([choice], **extra)

    def usage(self, prompt_tokens: int, completion_tokens: int) -> str:
        """OpenAI's last chunk for ``stream_options.include_usage``: no choices, the usage."""
        total = prompt_tokens + completion_tokens
        return self._event(
            [],
            usage={
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": total,
            },
        )

    def _event(self, choices: list[dict[str, object]], **extra: object) -> str:
        body = {
            "id": self.id,
            "object": "text_completion",
            "created": self.created,
            "model": self.version,
            "choices": choices,
            "model_version": self.version,
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    @staticmethod
    def done() -> str:
        return "data: [DONE]\n\n"
