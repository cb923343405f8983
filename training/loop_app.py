"""The closed loop as a Faust app (``codemill loop``, started by ``codemill up``).

- every ``drift.interval_s`` a timer checks drift (:func:`training.monitor.check`), except while
  a training run is in progress (the run comes first: the controller waits for it, and its
  evaluation runs in this process); a check that found drift sends a
  :class:`~common.events.DriftAlert` to ``codemill.drift.alerts`` and to the webhook, at most
  once per version, kinds and cooldown;
- an agent consumes ``codemill.drift.alerts`` (from this monitor, ``codemill drift`` or any
  other producer) into the :class:`~training.retrain.RetrainController`;
- a second timer asks the controller, and when it says so runs the incremental fine-tune
  (:func:`training.train.train`), which evaluates the candidate against the live version and
  blesses it or not. Serving rolls a blessed version out as a canary by itself and promotes it
  or rolls it back on live figures;
- a third timer compacts ``drift_reports`` (one small file a check otherwise).

Every decision is logged in one line and kept in ``$CODEMILL_HOME/loop.json`` for
``codemill status``. Blocking work (Evidently, Delta, Ray Train) runs in threads, so the worker
keeps consuming and answering its web page meanwhile.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import StreamT
from pydantic import ValidationError

from common.events import DriftAlert
from common.faust_apps import new_app
from common.lake import compact, vacuum
from common.names import Table, Topic
from common.rows import ModelRecord
from common.runfiles import loop_file, write_record
from common.settings import Settings
from training import drift_metrics
from training.alerts import announce
from training.monitor import check
from training.registry import Registry, kafka_publisher
from training.retrain import Decision, RetrainController, Situation

log = logging.getLogger("codemill.loop")
LOOP_GROUP = "codemill-loop"
COMPLETION = str(Table.COMPLETION)
DECIDE_EVERY_S = 2.0
KEPT_DECISIONS = 20


class Loop:
    """The loop's state and steps, outside Faust's decorators so that they read plainly."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = Registry(settings, publisher=kafka_publisher(settings))
        self.controller = RetrainController(settings.drift)
        self.new_rows = 0
        self.current_data: int | None = None  # the completion table's version at the last check
        self.training = False
        self.decisions: list[dict[str, Any]] = []
        self.last_check: dict[str, Any] = {}

    async def check_drift(self) -> None:
        if self.training:  # the controller waits for the run, whose evaluation shares this
            return  # process: a check would only slow it; the next tick after it checks
        live = await asyncio.to_thread(self.registry.live)
        result = await asyncio.to_thread(check, self.settings, live)
        report = result.report
        self.new_rows = report.current_rows
        self.current_data = report.current_versions.get(COMPLETION)
        self.last_check = {
            "at": report.checked_at.isoformat(),
            "model_version": report.model_version,
            "drifted": report.drifted,
            "verdict": report.verdict,
            "report": report.report_path,
            "new_rows": report.current_rows,
        }
        log.warning("drift check on %s: %s", report.model_version, report.verdict)
        if result.alert is not None:
            went = await asyncio.to_thread(announce, self.settings, result.alert)
            log.warning("drift alert %s: %s", result.alert.alert_id, went)
        self.save()

    def note(self, alert: DriftAlert) -> None:
        self.controller.note(alert)

    async def decide(self) -> None:
        records = await asyncio.to_thread(self.registry.list)  # newest first
        newest = records[0] if records else None
        situation = Situation(
            now=time.time(),
            live_version=next((r.version for r in records if r.status == "live"), None),
            new_rows=self.new_rows,
            rolling_out=self._rolling_out(records),
            training=self.training,
            min_examples=self.settings.training.min_examples,
            newest=newest.version if newest else None,
            newest_at=newest.created_at.timestamp() if newest else None,
            newest_data=newest.data_versions.get(COMPLETION) if newest else None,
            current_data=self.current_data,
        )
        decision = self.controller.decide(situation)
        self._record(decision)
        if decision.retrain:
            self.controller.started(situation.now)
            self.training = True
            asyncio.get_running_loop().create_task(self.retrain(decision, situation))

    async def retrain(self, decision: Decision, situation: Situation) -> None:
        from training.train import train  # torch and Ray, only once a run is due

        incremental = situation.live_version is not None
        reason = f"retrained on {decision.trigger}: {decision.reason}"
        try:
            outcome = await asyncio.to_thread(
                train, self.settings, self.registry, incremental=incremental, reason=reason
            )
        except Exception as exc:  # a failed run is reported and the loop goes on
            drift_metrics.TRAINING_RUNS.labels("failed").inc()
            self._log_outcome(f"the {decision.trigger} run failed: {exc}")
            return
        finally:
            self.training = False
        record = outcome.record
        blessed = record.status == "blessed"
        drift_metrics.TRAINING_RUNS.labels("blessed" if blessed else "rejected").inc()
        reasons = "; ".join(outcome.verdict.comparison.reasons)
        what = "blessed, to be rolled out as a canary" if blessed else "not blessed"
        self._log_outcome(
            f"{record.version} trained on {record.examples} (data {record.data_versions}) "
            f"against {outcome.verdict.baseline_name}: {what} ({reasons})"
        )

    def _rolling_out(self, records: list[ModelRecord]) -> str | None:
        canary = next((r.version for r in records if r.status == "canary"), None)
        if canary or not self.settings.rollout.auto_canary:
            return canary
        return next((r.version for r in records if r.status == "blessed"), None)

    def _record(self, decision: Decision) -> None:
        last = self.decisions[-1] if self.decisions else None
        if last is None or last.get("reason") != decision.reason or decision.retrain:
            verb = "retrain" if decision.retrain else "wait"
            log.warning("retrain decision: %s (%s): %s", verb, decision.trigger, decision.reason)
            drift_metrics.RETRAIN_DECISIONS.labels(verb, decision.trigger).inc()
            self._remember(
                retrain=decision.retrain, trigger=decision.trigger, reason=decision.reason
            )

    def _log_outcome(self, line: str) -> None:
        log.warning("retrain outcome: %s", line)
        self._remember(outcome=line, retrain=False)

    def _remember(self, **entry: Any) -> None:
        """A decision or an outcome, kept (the newest ``KEPT_DECISIONS``) for status."""
        self.decisions = [*self.decisions, {"at": datetime.now(UTC).isoformat(), **entry}]
        self.decisions = self.decisions[-KEPT_DECISIONS:]
        self.save()

    def save(self) -> None:
        write_record(
            loop_file(self.settings.home),
            {
                "decisions": self.decisions,
                "last_check": self.last_check,
                "training": self.training,
            },
        )


def create_loop_app(settings: Settings) -> faust.App:
    kafka = settings.kafka
    app = new_app(
        LOOP_GROUP, settings, "faust-loop", settings.drift.port, consumer_auto_offset_reset="latest"
    )
    loop = Loop(settings)
    alerts = app.topic(Topic.DRIFT_ALERTS, value_serializer="raw", partitions=kafka.partitions)

    @app.agent(alerts)
    async def consume_alerts(stream: StreamT[bytes]) -> None:
        async for value in stream:
            try:
                loop.note(DriftAlert.model_validate_json(value))
            except ValidationError as exc:
                log.error("an invalid drift alert is ignored: %s", exc)

    @app.timer(interval=settings.drift.interval_s)  # type: ignore[untyped-decorator]
    async def check_drift() -> None:
        try:
            await loop.check_drift()
        except Exception:  # one failed check must not stop the schedule
            log.exception("the drift check failed")

    @app.timer(interval=DECIDE_EVERY_S)  # type: ignore[untyped-decorator]
    async def decide() -> None:
        if settings.drift.retrain:
            await loop.decide()

    @app.timer(interval=settings.lake.compact_every_seconds)  # type: ignore[untyped-decorator]
    async def compact_reports() -> None:  # a row a check: many small files otherwise
        uri, options = settings.table_uri(Table.DRIFT_REPORTS), settings.lake.storage_options
        await asyncio.to_thread(compact, uri, options)
        await asyncio.to_thread(vacuum, uri, options)

    @app.page("/healthz")
    async def healthz(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.json({"status": "ok", "training": loop.training, **loop.last_check})

    return app
