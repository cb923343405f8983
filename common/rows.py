"""Rows of the Delta tables. Each model is the single definition of its table's schema.

Records bound for Delta travel on ``codemill.examples`` as JSON carrying a ``dataset`` field that
names their table; :data:`SinkRecord` parses any of them.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from common.events import SCHEMA_VERSION, PushEvent


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION


class Provenance(Row):
    """Where an example came from. Every example row carries it."""

    id: str
    repo: str
    commit: str
    path: str
    symbol: str
    language: str
    author_hash: str
    committed_at: datetime
    ingested_at: datetime
    findings: list[str] = Field(default_factory=list)


class CompletionExample(Provenance):
    """A function, method or class: context → code."""

    dataset: Literal["completion"] = "completion"
    kind: Literal["function", "method", "class"]
    signature: str
    body: str
    docstring: str = ""
    enclosing_class: str = ""
    imports: list[str] = Field(default_factory=list)
    context: str = ""
    start_line: int
    end_line: int


class Reject(Row):
    """An input that could not become an example, with the stage that refused it and why."""

    dataset: Literal["rejects"] = "rejects"
    id: str
    repo: str
    commit: str
    path: str
    stage: str
    reason: str
    input: str = ""
    recorded_at: datetime


CommitStatus = Literal["received", "ingested", "failed"]


class CommitRecord(Row):
    """One line of the ingest ledger. The latest status of (repo, sha) is the truth."""

    dataset: Literal["commits"] = "commits"
    repo: str
    sha: str
    status: CommitStatus
    event_id: str
    ref: str = ""
    clone_url: str = ""
    examples: int = 0
    rejects: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    reason: str = ""
    committed_at: datetime | None = None
    recorded_at: datetime

    @classmethod
    def of(
        cls, push: PushEvent, sha: str, status: CommitStatus, now: datetime, **details: Any
    ) -> "CommitRecord":
        """The ledger line for one commit of ``push``."""
        return cls(
            repo=push.repo,
            sha=sha,
            status=status,
            event_id=push.event_id,
            ref=push.ref,
            clone_url=push.clone_url,
            recorded_at=now,
            **details,
        )


SinkRecord = Annotated[CompletionExample | Reject | CommitRecord, Field(discriminator="dataset")]
SINK_RECORD = TypeAdapter(SinkRecord)

TABLE_MODELS: dict[str, type[Row]] = {
    "completion": CompletionExample,
    "rejects": Reject,
    "commits": CommitRecord,
}
