"""Drift alerts: made from a drift report, de-duplicated, announced on Kafka and to a webhook.

:func:`alert_of`, :func:`slack_message` and :class:`AlertGate` are pure; :func:`announce`
sends an alert through the gate, and :func:`send` does the I/O (``codemill.drift.alerts``, then
the configured webhook in Slack's incoming-webhook shape, which Mattermost, Rocket.Chat, Teams
workflows and most chat tools accept).
"""

import json
import logging
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.delivery import deliver
from common.events import DriftAlert
from common.ids import example_id
from common.names import Topic
from common.rows import DriftReport
from common.settings import Settings
from training.drift_metrics import DRIFT_ALERTS

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 10.0


def alert_of(report: DriftReport, report_url: str = "") -> DriftAlert | None:
    """The alert a report raises, None when nothing drifted."""
    if not report.drifted:
        return None
    return DriftAlert(
        alert_id=example_id("alert", report.model_version, "+".join(report.drifted), report.id),
        report_id=report.id,
        model_version=report.model_version,
        kinds=list(report.drifted),
        drifted_features=list(report.drifted_features),
        shares={kind: report.shares[kind] for kind in report.drifted if kind in report.shares},
        new_rows=report.current_rows,
        summary=report.verdict,
        report_url=report_url or report.report_path,
        raised_at=report.checked_at,
    )


def slack_message(alert: DriftAlert) -> dict[str, Any]:
    """An incoming-webhook message: a text line for any client, blocks for Slack."""
    kinds = ", ".join(alert.kinds)
    features = ", ".join(alert.drifted_features[:12]) or "-"
    shares = ", ".join(f"{kind} {share:.0%}" for kind, share in alert.shares.items())
    text = (
        f":warning: codemill drift on model {alert.model_version}: {kinds} drift "
        f"({shares}); features: {features}; {alert.new_rows} new rows. Report: {alert.report_url}"
    )
    return {
        "text": text,
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": f"Drift on model {alert.model_version}"},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": alert.summary or text}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Kinds*\n{kinds}"},
                    {"type": "mrkdwn", "text": f"*Drift share*\n{shares}"},
                    {"type": "mrkdwn", "text": f"*Features*\n{features}"},
                    {"type": "mrkdwn", "text": f"*New rows*\n{alert.new_rows}"},
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{alert.report_url}|Evidently report>"}],
            },
        ],
    }


@dataclass
class AlertGate:
    """Lets an alert through once per (version, kinds) and cooldown, and at most ``per_hour``
    alerts an hour in all; remembers what it sent in ``path`` (across restarts) when given."""

    cooldown_s: float
    per_hour: int = 6
    path: Path | None = None
    sent: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.path is not None and self.path.exists():
            self.sent = {k: float(v) for k, v in json.loads(self.path.read_text()).items()}

    @staticmethod
    def key(alert: DriftAlert) -> str:
        return f"{alert.model_version}:{'+'.join(sorted(alert.kinds))}"

    def admit(self, alert: DriftAlert, now: float | None = None) -> bool:
        at = time.time() if now is None else now
        last = self.sent.get(self.key(alert))
        if last is not None and at - last < self.cooldown_s:
            return False
        if sum(1 for t in self.sent.values() if at - t < 3600) >= self.per_hour:
            return False
        self.sent[self.key(alert)] = at
        self.sent = {k: t for k, t in self.sent.items() if at - t < max(self.cooldown_s, 3600)}
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.sent))
        return True


def gate_for(settings: Settings) -> AlertGate:
    return AlertGate(settings.drift.alert_cooldown_s, path=settings.home / "drift" / "sent.json")


def announce(settings: Settings, alert: DriftAlert | None) -> list[str] | str:
    """Send ``alert`` unless the gate holds it back: where it went, or why it did not go."""
    if alert is None:
        return "nothing drifted"
    if not gate_for(settings).admit(alert):
        return "sent before (cooldown)"
    sent = send(settings, alert)
    for kind in alert.kinds:
        DRIFT_ALERTS.labels(kind).inc()
    return sent


def send(settings: Settings, alert: DriftAlert) -> list[str]:
    """Announce ``alert`` on ``codemill.drift.alerts`` and to the webhook; where it went."""
    sent: list[str] = []
    if settings.kafka.bootstrap:
        deliver(
            str(Topic.DRIFT_ALERTS),
            [(alert.model_version, alert.model_dump_json().encode())],
            settings.kafka.client_config(),
        )
        sent.append(str(Topic.DRIFT_ALERTS))
    if settings.drift.webhook_url:
        try:
            post_json(settings.drift.webhook_url, slack_message(alert))
            sent.append("webhook")
        except OSError as exc:  # a chat tool being down must not stop the loop
            log.error("the drift alert webhook %s failed: %s", settings.drift.webhook_url, exc)
    return sent


def post_json(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
        response.read()
