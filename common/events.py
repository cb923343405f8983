"""Events that travel on Kafka topics. The JSON on the wire is ``model_dump_json()`` of these."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
