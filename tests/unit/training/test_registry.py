"""The registry on real Delta tables: versions, status changes, events, and a real peft export."""

import copy
import itertools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import pytest

from common.rows import ModelRecord, ModelStatus
from common.settings import Settings
from training.registry import (
    TRANSITIONS,
    Bump,
    ModelEvent,
    Registry,
    RegistryError,
    adapter_dir,
    allowed_transition,
    next_version,
    transition,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def record(version: str, **fields: object) -> ModelRecord:
    values: dict[str, object] = {
        "version": version,
        "status": "candidate",
        "base_model": "tiny",
        "base_path": "/models/base/tiny",
        "created_at": T0,
        "recorded_at": T0,
    }
    return ModelRecord.model_validate(values | fields)


def ticking_clock() -> Callable[[], datetime]:
    ticks = itertools.count()
    return lambda: T0 + timedelta(seconds=next(ticks))


@pytest.fixture
def events() -> list[ModelEvent]:
    return []


@pytest.fixture
def registry(tmp_path: Path, events: list[ModelEvent]) -> Registry:
    def collect(batch: Sequence[ModelEvent]) -> None:
        events.extend(batch)

    return Registry(Settings(home=tmp_path), publisher=collect, clock=ticking_clock())


# --- versions --------------------------------------------------------------------------------


def test_the_first_version_is_0_1_0_whatever_the_bump() -> None:
    assert next_version([]) == "0.1.0"
    assert next_version([], "major") == "0.1.0"


@pytest.mark.parametrize(
    ("bump", "expected"), [("major", "1.0.0"), ("minor", "0.10.0"), ("patch", "0.9.3")]
)
def test_next_version_bumps_the_highest(bump: Bump, expected: str) -> None:
    assert next_version(["0.2.0", "0.9.2", "0.9.0"], bump) == expected


def test_versions_compare_as_numbers_not_text() -> None:
    assert next_version(["0.9.9", "0.10.0"]) == "0.11.0"


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "01.2.3", "1.2.3-rc1", ""])
def test_a_malformed_version_is_refused(bad: str) -> None:
    with pytest.raises(RegistryError, match=r"MAJOR\.MINOR\.PATCH"):
        next_version(["0.1.0", bad])


# --- the state machine -----------------------------------------------------------------------

ALLOWED = {
    ("candidate", "blessed"),
    ("candidate", "retired"),
    ("blessed", "canary"),
    ("blessed", "live"),
    ("blessed", "retired"),
    ("canary", "live"),
    ("canary", "rolled_back"),
    ("live", "retired"),
    ("live", "rolled_back"),
    ("rolled_back", "retired"),
}
STATUSES: tuple[ModelStatus, ...] = get_args(ModelStatus)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(STATUSES, STATUSES)))
def test_allowed_transitions_are_exactly_the_documented_ones(
    old: ModelStatus, new: ModelStatus
) -> None:
    assert allowed_transition(old, new) == ((old, new) in ALLOWED)


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert TRANSITIONS["retired"] == frozenset()


def test_promoting_retires_the_live_version_after_it_in_time() -> None:
    live = record("0.1.0", status="live", recorded_at=T0 + timedelta(hours=1))
    rows = transition(record("0.2.0", status="canary"), "live", "canary held", T0, live)
    assert [(r.version, r.status) for r in rows] == [("0.2.0", "live"), ("0.1.0", "retired")]
    assert rows[1].reason == "superseded by 0.2.0"
    assert rows[1].recorded_at > live.recorded_at  # a tied clock cannot make the old row win
    assert rows[0].base_path == "/models/base/tiny"  # everything else is carried over


def test_a_refused_transition_says_what_is_allowed() -> None:
    with pytest.raises(RegistryError, match=r"candidate and cannot become live.*blessed, retired"):
        transition(record("0.1.0"), "live", "", T0)
    with pytest.raises(RegistryError, match="nothing"):
        transition(record("0.1.0", status="retired"), "candidate", "", T0)


# --- the registry on Delta -------------------------------------------------------------------


def test_an_empty_registry(registry: Registry) -> None:
    assert registry.list() == []
    assert registry.live() is None
    assert registry.latest() is None
    assert registry.next_version() == "0.1.0"
    with pytest.raises(RegistryError, match=r"no model version '0.1.0'.*none yet"):
        registry.get("0.1.0")


def test_register_and_read_back_every_field(registry: Registry, events: list[ModelEvent]) -> None:
    stored = record(
        "0.1.0",
        data_versions={"completion": 7, "naming": 3},
        examples={"completion": 120},
        metrics={"accuracy": 0.61, "perplexity": 3.5},
        training_config='{"lora_r": 4}',
        parent_version="",
    )
    registry.register(stored)
    assert registry.get("0.1.0") == stored
    assert [(e.version, e.event, e.status) for e in events] == [("0.1.0", "trained", "candidate")]


def test_register_refuses_a_duplicate_or_a_non_candidate(registry: Registry) -> None:
    registry.register(record("0.1.0"))
    with pytest.raises(RegistryError, match="already registered"):
        registry.register(record("0.1.0"))
    with pytest.raises(RegistryError, match="starts as candidate"):
        registry.register(record("0.2.0", status="live"))
    with pytest.raises(RegistryError, match="semantic version"):
        registry.register(record("latest"))


def test_the_lifecycle_with_a_promotion_retiring_the_live_version(
    registry: Registry, events: list[ModelEvent]
) -> None:
    for version in ("0.1.0", "0.2.0", "0.3.0"):
        registry.register(record(version))
    registry.set_status("0.1.0", "blessed", "beat the base")
    registry.set_status("0.1.0", "live", "first model")
    registry.set_status("0.2.0", "blessed", "beat 0.1.0")
    registry.set_status("0.2.0", "canary", "10% of traffic")
    promoted = registry.set_status("0.2.0", "live", "canary held")
    registry.set_status("0.3.0", "retired", "worse than live")

    assert promoted.status == "live" and promoted.reason == "canary held"
    assert registry.live() == registry.get("0.2.0")
    assert [(r.version, r.status) for r in registry.list()] == [
        ("0.3.0", "retired"),
        ("0.2.0", "live"),
        ("0.1.0", "retired"),
    ]
    assert registry.get("0.1.0").reason == "superseded by 0.2.0"
    assert registry.latest("retired") == registry.get("0.3.0")
    assert registry.latest("canary") is None
    assert registry.latest() == registry.get("0.3.0")
    assert registry.next_version("patch") == "0.3.1"
    assert [r.status for r in registry.history("0.2.0")] == [
        "candidate",
        "blessed",
        "canary",
        "live",
    ]
    assert [(e.version, e.event) for e in events][-4:] == [
        ("0.2.0", "canary"),
        ("0.2.0", "promoted"),
        ("0.1.0", "retired"),
        ("0.3.0", "retired"),
    ]


def test_a_refused_change_writes_and_announces_nothing(
    registry: Registry, events: list[ModelEvent]
) -> None:
    registry.register(record("0.1.0"))
    with pytest.raises(RegistryError, match="cannot become canary"):
        registry.set_status("0.1.0", "canary")
    with pytest.raises(RegistryError, match=r"no model version '0.9.0'.*known: 0.1.0"):
        registry.set_status("0.9.0", "blessed")
    assert len(registry.rows()) == 1 and len(events) == 1


def test_a_registry_without_a_publisher_still_records(tmp_path: Path) -> None:
    registry = Registry(Settings(home=tmp_path))
    registry.register(record("0.1.0"))
    assert registry.set_status("0.1.0", "blessed").status == "blessed"
    assert registry.get("0.1.0").status == "blessed"


def test_events_round_trip_as_json() -> None:
    event = ModelEvent.of(record("0.2.0", status="live", reason="canary held"))
    assert event.event == "promoted"
    assert ModelEvent.model_validate_json(event.model_dump_json()) == event
    assert json.loads(event.model_dump_json())["schema_version"] == 1


# --- export ----------------------------------------------------------------------------------


def test_export_is_a_plain_peft_adapter_with_a_model_card(
    registry: Registry, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    from peft import LoraConfig, PeftModel, get_peft_model

    from tests.support.models import small_llama

    base = small_llama(64, hidden_size=32, positions=64)
    pristine = copy.deepcopy(base)
    # Random B matrices (not peft's zeros), so the adapter visibly changes the outputs.
    lora = LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False)
    tuned = get_peft_model(base, lora).eval()
    saved = adapter_dir(registry.settings, "0.1.0")
    tuned.save_pretrained(saved)
    (saved / "tokenizer.json").write_text("{}")  # tokenizer files travel with the adapter

    registry.register(
        record(
            "0.1.0",
            base_model="tiny",
            adapter_path=str(saved),
            data_versions={"completion": 4},
            examples={"completion": 256},
            metrics={"accuracy": 0.42},
            training_config='{"lora_r": 4}',
            parent_version="0.0.9",
        )
    )
    out = registry.export("0.1.0", tmp_path / "export")

    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
        "tokenizer.json",
    ]
    card = (out / "README.md").read_text()
    for expected in ("library_name: peft", "`tiny`", "| completion | 4 | 256 |", "accuracy"):
        assert expected in card
    assert '"lora_r": 4' in card and "`0.0.9`" in card and "License" in card

    tokens = torch.tensor([[1, 5, 9, 13, 2]])
    with torch.no_grad():
        expected = tuned(tokens).logits
        plain = pristine(tokens).logits
        loaded = PeftModel.from_pretrained(pristine, out).eval()
        got = loaded(tokens).logits
    assert not torch.allclose(plain, expected)
    assert torch.allclose(got, expected)


def test_export_refuses_a_missing_version_adapter_or_a_busy_directory(
    registry: Registry, tmp_path: Path
) -> None:
    with pytest.raises(RegistryError, match="no model version"):
        registry.export("0.1.0", tmp_path / "out")
    registry.register(record("0.1.0"))  # no adapter_path: the default place, which is empty
    with pytest.raises(RegistryError, match=r"adapters/0.1.0 lacks adapter_config.json"):
        registry.export("0.1.0", tmp_path / "out")
    saved = adapter_dir(registry.settings, "0.1.0")
    saved.mkdir(parents=True)
    (saved / "adapter_config.json").write_text("{}")
    (saved / "adapter_model.safetensors").write_bytes(b"")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(RegistryError, match="not empty"):
        registry.export("0.1.0", busy)
    assert not (tmp_path / "out").exists()
