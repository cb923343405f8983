"""Drift alerts: made only when something drifted, in Slack's webhook shape, de-duplicated."""

import json
from datetime import UTC, datetime
from pathlib import Path

from common.events import DriftAlert
from common.rows import DriftReport
from training.alerts import AlertGate, alert_of, slack_message


def report(drifted: list[str]) -> DriftReport:
    return DriftReport(
        id="r-1",
        model_version="0.2.0",
        current_rows=420,
        drifted=drifted,  # type: ignore[arg-type]
        shares={"data": 0.6, "prediction": 0.1},
        drifted_features=["data.language", "data.camel_share"],
        verdict="data DRIFT, 2 of 16 features: language, camel_share",
        report_path="/home/x/drift/reports/r.html",
        checked_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_no_alert_without_drift_and_an_alert_says_what_drifted() -> None:
    assert alert_of(report([])) is None
    alert = alert_of(report(["data"]), "https://reports.example/r.html")
    assert alert is not None
    assert alert.kinds == ["data"] and alert.shares == {"data": 0.6}
    assert alert.new_rows == 420 and alert.report_url == "https://reports.example/r.html"
    assert alert_of(report(["data"])).report_url == "/home/x/drift/reports/r.html"  # type: ignore[union-attr]
    again = alert_of(report(["data"]))
    assert again is not None and again.alert_id == alert.alert_id  # the same report, the same id


def test_the_webhook_message_is_slack_shaped_with_a_plain_text_fallback() -> None:
    alert = alert_of(report(["data"]), "https://reports.example/r.html")
    assert alert is not None
    message = slack_message(alert)
    assert "0.2.0" in message["text"] and "data.language" in message["text"]
    assert "https://reports.example/r.html" in message["text"]
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "section", "context"]
    json.dumps(message)  # what is POSTed


def alert(version: str = "0.2.0", kinds: list[str] | None = None) -> DriftAlert:
    made = alert_of(report(kinds or ["data"]))
    assert made is not None
    return made.model_copy(update={"model_version": version})


def test_the_gate_lets_the_same_alert_through_once_per_cooldown(tmp_path: Path) -> None:
    gate = AlertGate(cooldown_s=600, path=tmp_path / "sent.json")
    assert gate.admit(alert(), now=0)
    assert not gate.admit(alert(), now=300)
    assert gate.admit(alert(kinds=["data", "prediction"]), now=300)  # something else drifted
    assert not AlertGate(600, path=tmp_path / "sent.json").admit(alert(), now=400)  # restarts
    assert gate.admit(alert(), now=601)


def test_the_gate_caps_alerts_an_hour() -> None:
    gate = AlertGate(cooldown_s=0, per_hour=3)
    assert [gate.admit(alert(f"0.{i}.0"), now=i) for i in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert gate.admit(alert("0.9.0"), now=3700)
