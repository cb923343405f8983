"""A developer's verdict on a completion, as stored: the feedback row. Pure."""

from dataclasses import dataclass
from datetime import UTC, datetime

from common.ids import example_id
from common.rows import FeedbackRecord
from serving.guard import clean_completion
from serving.schema import FeedbackRequest, lf_line_ends


@dataclass(frozen=True, slots=True)
class Shown:
    """A completion as the router served it, remembered by its id for the feedback on it."""

    version: str
    prompt: str
    suffix: str
    text: str
    confidence: float | None = None  # none for a streamed one


def feedback_record(body: FeedbackRequest, served: Shown, user: str) -> FeedbackRecord:
    """The stored verdict on a completion the router ``served``: texts redacted, the key known
    by its id ``user``, the same id for a client's retry.
    """
    version, prompt, suffix, shown = served.version, served.prompt, served.suffix, served.text

    def clean(text: str) -> str:
        return clean_completion(lf_line_ends(text))[0]

    return FeedbackRecord(
        id=example_id(user, body.completion_id, body.kind, body.corrected or str(body.rating)),
        completion_id=body.completion_id,
        model_version=version,
        kind=body.kind,
        prompt=clean(body.context or prompt),
        suffix=clean(body.suffix or suffix),
        original=clean(body.original or shown),
        corrected=clean(body.corrected),
        rating=body.rating,
        confidence=served.confidence,
        user_hash=user,
        received_at=datetime.now(UTC),
    )
