"""The retraining controller's rules: what triggers a run, and what holds one back."""

from datetime import UTC, datetime

from common.events import DriftAlert
from common.settings import DriftSettings
from training.retrain import RetrainController, Situation

SETTINGS = DriftSettings(
    min_rows=50, volume_rows=1000, debounce_s=30, retrain_cooldown_s=600, schedule_s=0
)


def alert(kinds: list[str], version: str = "0.1.0") -> DriftAlert:
    return DriftAlert(
        alert_id="a1",
        report_id="r1",
        model_version=version,
        kinds=kinds,  # type: ignore[arg-type]
        drifted_features=["data.language", "data.camel_share"],
        raised_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def at(now: float, rows: int = 200, live: str | None = "0.1.0", **kw: object) -> Situation:
    return Situation(now=now, live_version=live, new_rows=rows, min_examples=100, **kw)  # type: ignore[arg-type]


def test_a_drift_alert_retrains_once_it_held_for_the_debounce() -> None:
    controller = RetrainController(SETTINGS)
    controller.note(alert(["data"]))
    first = controller.decide(at(0))
    assert not first.retrain and first.trigger == "drift" and "holds 30s more" in first.reason
    assert not controller.decide(at(29)).retrain
    go = controller.decide(at(30))
    assert go.retrain and go.trigger == "drift"
    assert "data drift on 0.1.0" in go.reason and "data.language" in go.reason


def test_no_second_run_within_the_cooldown() -> None:
    controller = RetrainController(SETTINGS)
    controller.started(now=100)
    controller.note(alert(["data"]))
    held = controller.decide(at(200))
    assert not held.retrain and "cooling down for 500s" in held.reason
    controller.decide(at(700))
    assert controller.decide(at(730)).retrain


def test_nothing_starts_while_training_or_while_a_version_rolls_out() -> None:
    controller = RetrainController(SETTINGS.model_copy(update={"debounce_s": 0}))
    controller.note(alert(["data"]))
    assert controller.decide(at(0, training=True)).reason == "a training run is in progress"
    waiting = controller.decide(at(0, rolling_out="0.2.0"))
    assert not waiting.retrain and "rollout of 0.2.0" in waiting.reason
    assert controller.decide(at(1)).retrain


def test_alerts_for_another_version_do_not_count() -> None:
    controller = RetrainController(SETTINGS.model_copy(update={"debounce_s": 0}))
    controller.note(alert(["data"], version="0.0.9"))
    decision = controller.decide(at(0))
    assert not decision.retrain and decision.trigger == "none"


def test_drift_with_too_few_new_rows_waits_for_data() -> None:
    controller = RetrainController(SETTINGS.model_copy(update={"debounce_s": 0}))
    controller.note(alert(["data"]))
    decision = controller.decide(at(0, rows=10))
    assert not decision.retrain and "fewer than 50" in decision.reason


def test_other_triggers_acceptance_volume_schedule_and_the_first_version() -> None:
    quick = SETTINGS.model_copy(update={"debounce_s": 0})
    controller = RetrainController(quick)
    controller.note(alert(["performance"]))
    assert controller.decide(at(0)).trigger == "acceptance"
    assert RetrainController(quick).decide(at(0, rows=1500)).trigger == "volume"
    scheduled = RetrainController(quick.model_copy(update={"schedule_s": 3600}))
    scheduled.started(now=0)
    assert scheduled.decide(at(3000)).trigger == "none"
    assert scheduled.decide(at(3600)).trigger == "schedule"
    first = RetrainController(quick).decide(at(0, rows=150, live=None))
    assert first.retrain and first.trigger == "first"
    assert not RetrainController(quick).decide(at(0, rows=50, live=None)).retrain


def test_a_trigger_that_goes_away_restarts_the_debounce() -> None:
    controller = RetrainController(SETTINGS)
    controller.note(alert(["data"]))
    controller.decide(at(0))
    controller.alerts.clear()
    assert controller.decide(at(20)).trigger == "none"
    controller.note(alert(["data"]))
    assert not controller.decide(at(40)).retrain  # held 0 s, not 40
    assert controller.decide(at(70)).retrain


def test_the_newest_version_counts_for_the_cooldown_and_its_data_is_not_trained_again() -> None:
    controller = RetrainController(SETTINGS.model_copy(update={"debounce_s": 0}))
    restarted = at(100, rows=150, live=None, newest="0.1.0", newest_at=0.0)
    cooling = controller.decide(restarted)
    assert not cooling.retrain and "cooling down for 500s" in cooling.reason
    same_data = at(
        900, rows=150, live=None, newest="0.1.0", newest_at=0.0, newest_data=7, current_data=7
    )
    seen = controller.decide(same_data)
    assert not seen.retrain and "no new data since 0.1.0 was trained" in seen.reason
    newer = at(
        900, rows=150, live=None, newest="0.1.0", newest_at=0.0, newest_data=7, current_data=9
    )
    assert controller.decide(newer).retrain


def test_a_restarted_controller_keeps_the_schedule_from_the_newest_version() -> None:
    scheduled = RetrainController(
        SETTINGS.model_copy(update={"debounce_s": 0, "schedule_s": 3600})
    )  # restarted: it started no run itself
    assert scheduled.decide(at(3000, newest="0.1.0", newest_at=0.0)).trigger == "none"
    assert scheduled.decide(at(3600, newest="0.1.0", newest_at=0.0)).trigger == "schedule"
