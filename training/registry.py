"""The model registry: versions, their lifecycle and their artefacts (Delta table ``models``).

Each status change appends a row; the latest row of a version (by ``recorded_at``) is its truth,
so the table is also the version's history. Statuses move only along :data:`TRANSITIONS`:

    candidate   → blessed, retired       (evaluation passed it, or it was not good enough)
    blessed     → canary, live, retired  (rolled out gradually, at once, or never)
    canary      → live, rolled_back      (the canary is promoted, or it is pulled)
    live        → retired, rolled_back   (superseded, or pulled after promotion)
    rolled_back → retired                (kept for the record, then retired)
    retired     → nothing

At most one version is live: promoting one retires the previous live version in the same Delta
commit. Every change is announced on ``codemill.models`` as a :class:`ModelEvent` (keyed by
version) through the registry's publisher, when it has one. ``export`` writes a version as a
standard peft adapter directory with a model card.
"""

import functools
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from common.delivery import deliver
from common.errors import CodemillError
from common.events import SCHEMA_VERSION
from common.lake import append_rows, read_rows
from common.names import Table, Topic
from common.rows import ModelRecord, ModelStatus
from common.schema import from_arrow
from common.settings import Settings
from training.model_card import render_model_card

Bump = Literal["major", "minor", "patch"]
EventKind = Literal["trained", "blessed", "canary", "promoted", "rolled_back", "retired"]

FIRST_VERSION = "0.1.0"
TRANSITIONS: dict[ModelStatus, frozenset[ModelStatus]] = {
    "candidate": frozenset({"blessed", "retired"}),
    "blessed": frozenset({"canary", "live", "retired"}),
    "canary": frozenset({"live", "rolled_back"}),
    "live": frozenset({"retired", "rolled_back"}),
    "rolled_back": frozenset({"retired"}),
    "retired": frozenset(),
}
EVENT_OF_STATUS: dict[ModelStatus, EventKind] = {
    "candidate": "trained",
    "blessed": "blessed",
    "canary": "canary",
    "live": "promoted",
    "rolled_back": "rolled_back",
    "retired": "retired",
}
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
)
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


class RegistryError(CodemillError):
    """A registry request was refused: unknown version, bad version, forbidden status change."""


class ModelEvent(BaseModel):
    """A lifecycle event on ``codemill.models``, keyed by ``version``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    version: str
    event: EventKind
    status: ModelStatus
    reason: str = ""
    at: datetime

    @classmethod
    def of(cls, record: ModelRecord) -> "ModelEvent":
        """The event announcing the row ``record`` (a registration or a status change)."""
        return cls(
            version=record.version,
            event=EVENT_OF_STATUS[record.status],
            status=record.status,
            reason=record.reason,
            at=record.recorded_at,
        )


Publisher = Callable[[Sequence[ModelEvent]], None]


def parse_version(version: str) -> tuple[int, int, int]:
    match = _SEMVER.match(version)
    if match is None:
        raise RegistryError(f"{version!r} is not a semantic version: use MAJOR.MINOR.PATCH, 0.3.0")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def next_version(existing: Sequence[str], bump: Bump = "minor") -> str:
    """The version after the highest of ``existing``; the first one is 0.1.0."""
    if not existing:
        return FIRST_VERSION
    major, minor, patch = max(parse_version(v) for v in existing)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def allowed_transition(old: ModelStatus, new: ModelStatus) -> bool:
    """Whether a version may go from ``old`` to ``new`` (see :data:`TRANSITIONS`)."""
    return new in TRANSITIONS[old]


def transition(
    current: ModelRecord,
    status: ModelStatus,
    reason: str,
    now: datetime,
    live: ModelRecord | None = None,
) -> list[ModelRecord]:
    """The rows that move ``current`` to ``status``: its own first, then the retired live one.

    ``live`` is the version live now; promoting another version retires it. Each row is recorded
    after the one it supersedes even when clocks tie, so "latest row" is never ambiguous.
    """
    if not allowed_transition(current.status, status):
        allowed = ", ".join(sorted(TRANSITIONS[current.status])) or "nothing (it is final)"
        raise RegistryError(
            f"version {current.version} is {current.status} and cannot become {status}; "
            f"from {current.status} it may become: {allowed}"
        )
    rows = [_restated(current, status, reason, now)]
    if status == "live" and live is not None and live.version != current.version:
        rows.append(_restated(live, "retired", f"superseded by {current.version}", now))
    return rows


def _restated(record: ModelRecord, status: ModelStatus, reason: str, now: datetime) -> ModelRecord:
    at = max(now, record.recorded_at + timedelta(microseconds=1))
    return record.model_copy(update={"status": status, "reason": reason, "recorded_at": at})


def latest_rows(rows: Sequence[ModelRecord]) -> list[ModelRecord]:
    """The latest row of each version, highest version first."""
    latest: dict[str, ModelRecord] = {}
    for row in rows:
        current = latest.get(row.version)
        if current is None or row.recorded_at >= current.recorded_at:
            latest[row.version] = row
    return sorted(latest.values(), key=lambda r: parse_version(r.version), reverse=True)


def publish(
    events: Sequence[ModelEvent],
    producer_config: Mapping[str, str | int | float | bool],
    timeout: float = 30.0,
) -> None:
    """Send ``events`` as JSON to ``codemill.models``, keyed by version; returns once acked."""
    records = [(event.version, event.model_dump_json().encode()) for event in events]
    deliver(str(Topic.MODELS), records, producer_config, timeout)


def kafka_publisher(settings: Settings) -> Publisher:
    """A publisher sending to the Kafka cluster of ``settings``."""
    return functools.partial(publish, producer_config=settings.kafka.client_config())


def adapter_dir(settings: Settings, version: str) -> Path:
    """Where a version's adapter is saved: ``$CODEMILL_HOME/models/adapters/<version>``."""
    return settings.models_dir / "adapters" / version


class Registry:
    """The registry of one deployment (its Delta table ``models``), bound to its settings."""

    def __init__(
        self,
        settings: Settings,
        publisher: Publisher | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.uri = settings.table_uri(Table.MODELS)
        self.publisher = publisher
        self.clock = clock

    def rows(self) -> list[ModelRecord]:
        """Every row ever written: each version's whole history."""
        data = read_rows(self.uri, ModelRecord, storage_options=self.settings.lake.storage_options)
        return from_arrow(ModelRecord, data)

    def history(self, version: str) -> list[ModelRecord]:
        """Every row of ``version``, oldest first."""
        found = [row for row in self.rows() if row.version == version]
        if not found:
            raise self._unknown(version)
        return sorted(found, key=lambda r: r.recorded_at)

    # Defined after the methods annotated ``list[...]``: below here ``list`` names this method.
    def list(self) -> list[ModelRecord]:
        """The latest row of every version, newest (highest) version first."""
        return latest_rows(self.rows())

    def get(self, version: str) -> ModelRecord:
        for record in self.list():
            if record.version == version:
                return record
        raise self._unknown(version)

    def latest(self, status: ModelStatus | None = None) -> ModelRecord | None:
        """The newest version (whose status is ``status``, when given), None if there is none."""
        return next((r for r in self.list() if status is None or r.status == status), None)

    def live(self) -> ModelRecord | None:
        return self.latest("live")

    def next_version(self, bump: Bump = "minor") -> str:
        return next_version([r.version for r in self.list()], bump)

    def register(self, record: ModelRecord) -> ModelRecord:
        """Record a newly trained version; it starts as a candidate and its version is new."""
        parse_version(record.version)
        if record.status != "candidate":
            raise RegistryError(
                f"version {record.version} is registered as {record.status}: a new version starts "
                "as candidate; use set_status to move it on"
            )
        if any(r.version == record.version for r in self.list()):
            raise RegistryError(
                f"version {record.version} is already registered; take Registry.next_version()"
            )
        self._write([record])
        return record

    def set_status(self, version: str, status: ModelStatus, reason: str = "") -> ModelRecord:
        """Move ``version`` to ``status`` (promoting to live retires the live one); its new row."""
        current = self.get(version)
        rows = transition(current, status, reason, self.clock(), self.live())
        self._write(rows)
        return rows[0]

    def export(self, version: str, out_dir: Path) -> Path:
        """Write ``version`` as a plain peft adapter directory with a ``README.md`` model card.

        ``PeftModel.from_pretrained(base, out_dir)`` loads it; no codemill is needed.
        """
        record = self.get(version)
        source = (
            Path(record.adapter_path)
            if record.adapter_path
            else adapter_dir(self.settings, version)
        )
        missing = [name for name in ADAPTER_FILES if not (source / name).is_file()]
        if missing:
            raise RegistryError(
                f"version {version}'s adapter at {source} lacks {', '.join(missing)}; "
                "it was never saved there or has been deleted: train it again or export another"
            )
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise RegistryError(f"{out_dir} is not empty: export into a new or empty directory")
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ADAPTER_FILES + TOKENIZER_FILES:
            if (source / name).is_file():
                shutil.copy2(source / name, out_dir / name)
        (out_dir / "README.md").write_text(render_model_card(record), encoding="utf-8")
        return out_dir

    def _write(self, rows: Sequence[ModelRecord]) -> None:
        dumped = [row.model_dump() for row in rows]
        append_rows(self.uri, ModelRecord, dumped, self.settings.lake.storage_options)
        # The table is the truth, so it is written first; an event that cannot be sent raises
        # (BrokerError) but leaves the committed rows in place.
        if self.publisher is not None:
            self.publisher([ModelEvent.of(row) for row in rows])

    def _unknown(self, version: str) -> RegistryError:
        known = ", ".join(r.version for r in self.list()) or "none yet"
        return RegistryError(
            f"no model version {version!r} in the registry (known: {known}); see `codemill models`"
        )
