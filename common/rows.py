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


class Annotations(BaseModel):
    """What the annotate stage says about a snippet (:mod:`streams.annotate` documents each)."""

    category: str = ""
    intent: str = ""
    technologies: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    cyclomatic: int = 1
    nesting_depth: int = 0
    lines: int = 0
    quality: float = 0.0
    quality_components: dict[str, float] = Field(default_factory=dict)


class Deduplicated(BaseModel):
    """What the validate stage computes for de-duplication across a whole table.

    ``content_hash`` identifies the text up to whitespace; ``lsh_bands`` are the MinHash LSH band
    hashes (a row sharing any band with a stored row is a near-duplicate of it).
    """

    content_hash: str = ""
    lsh_bands: list[int] = Field(default_factory=list)


class CompletionExample(Deduplicated, Annotations, Provenance):
    """A function, method or class: context → code, with fill-in-the-middle spans.

    ``fim_spans`` are ``[start, end)`` character offsets into ``body``: each marks a middle that a
    fill-in-the-middle example leaves out. An augmented row (``augmentation`` names how: rename,
    comments, reformat) is a variant of the row ``source_id``.
    """

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
    start_column: int = 0
    fim_spans: list[list[int]] = Field(default_factory=list)
    related_tests: list[str] = Field(default_factory=list)
    augmentation: str = ""
    source_id: str = ""


class NamingExample(Deduplicated, Annotations, Provenance):
    """Concept → name: a definition's docstring and body with its own name masked as ``<NAME>``."""

    dataset: Literal["naming"] = "naming"
    kind: Literal["function", "method", "class"]
    concept: str
    name: str
    convention: str
    source_id: str


class ErrorFixExample(Deduplicated, Annotations, Provenance):
    """Buggy → fixed: an error injected into a real snippet, with its type and explanation."""

    dataset: Literal["error_fix"] = "error_fix"
    kind: Literal["function", "method", "class"]
    buggy: str
    fixed: str
    error_type: str
    explanation: str
    source_id: str


class RefactoringExample(Deduplicated, Provenance):
    """Before → after of one symbol: from a commit and its parent, or a review suggestion.

    ``change`` is the primary classification, ``changes`` every one that applies; ``message`` is
    the commit message or the reviewer's comment (sanitized like the code).
    """

    dataset: Literal["refactoring"] = "refactoring"
    source: Literal["history", "review"]
    kind: str
    before_symbol: str
    before: str
    after: str
    change: str
    changes: list[str] = Field(default_factory=list)
    message: str = ""
    diff: str = ""
    url: str = ""


class ArchitectureExample(Deduplicated, Provenance):
    """Requirements → design for one module: its docstrings and README sections → its skeleton."""

    dataset: Literal["architecture"] = "architecture"
    requirements: str
    design: str
    symbols: int
    idioms: list[str] = Field(default_factory=list)
    imports: list[str] = Field(default_factory=list)


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
    redacted: dict[str, int] = Field(default_factory=dict)
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


ModelStatus = Literal["candidate", "blessed", "canary", "live", "retired", "rolled_back"]


class ModelRecord(Row):
    """One model version in the registry (Delta table ``models``); the latest row of a version
    is its truth, as status changes append a new row."""

    dataset: Literal["models"] = "models"
    version: str  # semantic version, e.g. 0.3.0
    status: ModelStatus
    base_model: str  # the base's name (smollm2, tiny, an HF id) ...
    base_path: str  # ... and where its weights are
    adapter_path: str = ""
    adapter_bytes: int = 0
    parent_version: str = ""  # the adapter an incremental run started from
    training_config: str = "{}"  # JSON of the TrainingSettings used
    data_versions: dict[str, int] = Field(default_factory=dict)  # table -> Delta version
    examples: dict[str, int] = Field(default_factory=dict)  # table -> rows trained on
    metrics: dict[str, float] = Field(default_factory=dict)
    reason: str = ""  # why the status changed
    created_at: datetime
    recorded_at: datetime


FeedbackKind = Literal["accept", "reject", "correction", "rating"]


class FeedbackRecord(Row):
    """What a developer's tool said about one completion (Delta table ``feedback``).

    ``prompt``/``suffix`` are the completion's request and ``original`` its answer; a
    ``correction`` carries what the developer kept instead (``corrected``), which the training
    mix turns into an example weighted up. Texts are sanitized before they are stored.
    """

    dataset: Literal["feedback"] = "feedback"
    id: str
    completion_id: str
    model_version: str
    kind: FeedbackKind
    prompt: str = ""
    suffix: str = ""
    original: str = ""
    corrected: str = ""
    rating: float | None = None
    confidence: float | None = None  # the completion's mean token probability, as served
    language: str = ""
    user_hash: str = ""  # of the API key, never the key
    received_at: datetime


DriftKind = Literal["data", "prediction", "performance"]


class DriftReport(Row):
    """One drift check (Delta table ``drift_reports``): the live model's training data (its
    recorded Delta versions) against what came since, with each feature's drift score."""

    dataset: Literal["drift_reports"] = "drift_reports"
    id: str
    model_version: str  # the live version (or "base") the windows were judged for
    reference_versions: dict[str, int] = Field(default_factory=dict)  # table -> Delta version
    current_versions: dict[str, int] = Field(default_factory=dict)
    reference_rows: int = 0
    current_rows: int = 0  # rows added since the reference (the volume trigger reads this)
    reference_feedback: int = 0
    current_feedback: int = 0
    drifted: list[DriftKind] = Field(default_factory=list)  # kinds that drifted
    shares: dict[str, float] = Field(default_factory=dict)  # kind -> share of drifted features
    scores: dict[str, float] = Field(default_factory=dict)  # feature -> drift score
    drifted_features: list[str] = Field(default_factory=list)
    figures: dict[str, float] = Field(default_factory=dict)  # acceptance, corrections, ...
    verdict: str = ""  # one line: what drifted, or why there is no verdict yet
    report_path: str = ""  # Evidently's HTML report
    snapshot_id: str = ""  # the run in the Evidently workspace
    checked_at: datetime
    seconds: float = 0.0


class Bundle(Row):
    """A source row with the rows derived from it (augmented variants, naming, error_fix).

    They travel as one record keyed by the source's id and live or die together: when the sink
    finds the source a duplicate of a stored row, the derived rows are dropped with it.
    """

    dataset: Literal["bundle"] = "bundle"
    id: str
    source: CompletionExample
    derived: list[
        Annotated[
            CompletionExample | NamingExample | ErrorFixExample, Field(discriminator="dataset")
        ]
    ] = Field(default_factory=list)


SinkRecord = Annotated[
    CompletionExample
    | NamingExample
    | ErrorFixExample
    | RefactoringExample
    | ArchitectureExample
    | Bundle
    | Reject
    | CommitRecord
    | FeedbackRecord,
    Field(discriminator="dataset"),
]
SINK_RECORD: TypeAdapter[SinkRecord] = TypeAdapter(SinkRecord)

TABLE_MODELS: dict[str, type[Row]] = {
    "completion": CompletionExample,
    "refactoring": RefactoringExample,
    "naming": NamingExample,
    "architecture": ArchitectureExample,
    "error_fix": ErrorFixExample,
    "rejects": Reject,
    "commits": CommitRecord,
    "models": ModelRecord,
    "feedback": FeedbackRecord,
    "drift_reports": DriftReport,
}
EXAMPLE_TABLES = ("completion", "refactoring", "naming", "architecture", "error_fix")
