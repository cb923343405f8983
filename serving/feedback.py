"""A developer's verdict on a completion, as stored: the feedback row. Pure."""

from datetime import UTC, datetime

from common.ids import example_id
from common.rows import FeedbackRecord
from serving.guard import clean_completion
from serving.schema import FeedbackRequest


def feedback_record(
    body: FeedbackRequest, served: tuple[str, str, str, str], user: str
) -> FeedbackRecord:
    """The stored verdict on a completion the router ``served`` (version, prompt, suffix, text
    shown): texts redacted, the key known by its id ``user``, the same id for a client's retry.
    """
    version, prompt, suffix, shown = served

    def clean(text: str) -> str:
        return clean_completion(text)[0]

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
        user_hash=user,
        received_at=datetime.now(UTC),
    )
