"""Events that travel on Kafka topics. The JSON on the wire is ``model_dump_json()`` of these."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    model_validator,
)

SCHEMA_VERSION = 1
ZERO_SHA = "0" * 40

PushSource = Literal["github", "gitlab", "generic", "backfill", "recovery"]


class PushCommit(BaseModel):
    """One commit named by a push. File lists are hints: the processor diffs the commit itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    message: str = ""
    author_name: str = ""
    author_email: str = ""
    timestamp: datetime | None = None
    added: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


class PushEvent(BaseModel):
    """A push normalised from any source (GitHub, GitLab, generic JSON, backfill, recovery).

    Keyed on Kafka by ``repo``, so all pushes of one repository are processed in order.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    event_id: str = Field(min_length=1)
    source: PushSource
    repo: str = Field(min_length=1)
    clone_url: str = Field(min_length=1)
    ref: str = ""
    before: str = ZERO_SHA
    after: str = ZERO_SHA
    commits: list[PushCommit] = Field(default_factory=list)
    received_at: datetime

    @property
    def is_branch(self) -> bool:
        return self.ref.startswith("refs/heads/")

    @property
    def is_deletion(self) -> bool:
        return self.after == ZERO_SHA


ReviewSource = Literal["github", "gitlab"]
ReviewSide = Literal["LEFT", "RIGHT"]


class ReviewComment(BaseModel):
    """A code-review comment on lines of a pull or merge request's diff, from GitHub or GitLab.

    Lines are 1-based and inclusive, on the file version named by ``side``: ``RIGHT`` is the file
    at ``commit`` (the new side), ``LEFT`` the version before the change. ``start_line`` is None
    for a comment on one line. ``diff_hunk`` is the provider's hunk ending at ``line`` (GitHub
    sends one, GitLab does not: read the file at ``commit`` instead). The author is kept only as a
    pseudonym (``common.ids.author_hash`` of the login), never as the login itself.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    event: Literal["review"] = "review"
    event_id: str = Field(min_length=1)
    source: ReviewSource
    repo: str = Field(min_length=1)
    clone_url: str = Field(min_length=1)
    pull_request: int = Field(ge=1)
    commit: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    path: str = Field(min_length=1)
    start_line: int | None = Field(default=None, ge=1)
    line: int = Field(ge=1)
    side: ReviewSide = "RIGHT"
    body: str = ""
    diff_hunk: str = ""
    author_hash: str = Field(pattern=r"^[0-9a-f]{16,64}$")
    created_at: datetime
    url: str = ""

    @model_validator(mode="after")
    def _range_is_ordered(self) -> "ReviewComment":
        if self.start_line is not None and self.start_line > self.line:
            raise ValueError(
                f"start_line {self.start_line} is after line {self.line}: a range runs forwards"
            )
        return self


def _git_event_kind(value: Any) -> str:
    """``review`` for a review comment, ``push`` for anything else (pushes carry no tag)."""
    if isinstance(value, dict):
        return "review" if value.get("event") == "review" else "push"
    return "review" if isinstance(value, ReviewComment) else "push"


GitEvent = Annotated[
    Annotated[PushEvent, Tag("push")] | Annotated[ReviewComment, Tag("review")],
    Discriminator(_git_event_kind),
]
GIT_EVENT: TypeAdapter[PushEvent | ReviewComment] = TypeAdapter(GitEvent)
"""Parses a record of ``codemill.git.push``: pushes and code-review comments share the topic."""


class DriftAlert(BaseModel):
    """A drift check found drift (``codemill.drift.alerts``, keyed by model version): what
    drifted and where its report is. The retraining controller consumes these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    alert_id: str = Field(min_length=1)
    report_id: str = Field(min_length=1)
    model_version: str
    kinds: list[Literal["data", "prediction", "performance"]] = Field(min_length=1)
    drifted_features: list[str] = Field(default_factory=list)
    shares: dict[str, float] = Field(default_factory=dict)
    new_rows: int = 0
    summary: str = ""
    report_url: str = ""
    raised_at: datetime
