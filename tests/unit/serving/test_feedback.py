"""The stored feedback row: tied to the served completion, redacted, the same id for a retry."""

from serving.feedback import Shown, feedback_record
from serving.schema import FeedbackRequest

SERVED = Shown("0.2.0", "def area(r):\n    ", "", "return r * r", 0.42)
PLANTED = "AKIAQ3EGRT7YV5NLK2ZD"


def test_a_correction_is_tied_to_what_was_served_and_redacted() -> None:
    body = FeedbackRequest(
        completion_id="cmpl-1", kind="correction", corrected=f'return "{PLANTED}"'
    )
    row = feedback_record(body, SERVED, "a1b2c3d4e5f6")
    assert (row.model_version, row.prompt, row.original) == ("0.2.0", SERVED.prompt, SERVED.text)
    assert row.confidence == 0.42
    assert PLANTED not in row.corrected and "<SECRET:" in row.corrected
    assert row.user_hash == "a1b2c3d4e5f6"
    again = feedback_record(body, SERVED, "a1b2c3d4e5f6")
    assert again.id == row.id  # a client's retry is the same row
    other = feedback_record(body, SERVED, "ffffffffffff")
    assert other.id != row.id  # another developer's verdict is another row


def test_what_the_tool_sends_wins_over_what_the_router_remembers() -> None:
    body = FeedbackRequest(
        completion_id="cmpl-1", kind="accept", context="import math\n", original="x"
    )
    row = feedback_record(body, SERVED, "u")
    assert (row.prompt, row.original, row.corrected) == ("import math\n", "x", "")


def test_a_windows_editors_texts_are_stored_with_the_line_ends_of_the_training_texts() -> None:
    served = Shown("0.2.0", "def area(r):\r\n    ", "\r\n", "return r * r\r\n", 0.42)
    body = FeedbackRequest(
        completion_id="cmpl-1", kind="correction", corrected="return 3.14 * r * r\r\n"
    )
    row = feedback_record(body, served, "u")
    assert (row.prompt, row.suffix) == ("def area(r):\n    ", "\n")
    assert (row.original, row.corrected) == ("return r * r\n", "return 3.14 * r * r\n")
