"""When to retrain, unattended: the controller's rules. Pure (the caller passes the clock).

Triggers, in order: the first version (no fine-tuned version yet and enough rows), a drift alert
(data or predictions), an acceptance drop (performance drift), the volume of rows since the live
model's data, and a schedule. A trigger must hold ``debounce_s`` before a run starts (one noisy
check does not retrain); no run starts within ``retrain_cooldown_s`` of the last (the
registry's newest version counts, so a restarted controller remembers), on data the newest
version already saw, while one runs, or while a version is being rolled out (its verdict comes
first, and it holds the CPUs).
"""

from dataclasses import dataclass, field

from common.events import DriftAlert
from common.settings import DriftSettings


@dataclass(frozen=True)
class Situation:
    """What the controller knows at one moment."""

    now: float
    live_version: str | None  # None: no fine-tuned version is live
    new_rows: int  # example rows since the live model's data (all rows when none is live)
    rolling_out: str | None = None  # a version in canary (or blessed, about to be)
    training: bool = False
    min_examples: int = 1  # what a first run needs (training.min_examples)
    newest: str | None = None  # the newest trained version (any status) ...
    newest_at: float | None = None  # ... when it was trained ...
    newest_data: int | None = None  # ... and the completion table's version it saw
    current_data: int | None = None  # the completion table's version now


@dataclass(frozen=True)
class Decision:
    retrain: bool
    trigger: str  # first, drift, acceptance, volume, schedule, or none
    reason: str  # one line, for the log and `codemill status`


@dataclass
class RetrainController:
    settings: DriftSettings
    alerts: list[DriftAlert] = field(default_factory=list)
    last_run_at: float | None = None
    pending: str | None = None  # the trigger being debounced ...
    pending_since: float = 0.0  # ... since when

    def note(self, alert: DriftAlert) -> None:
        """An alert from ``codemill.drift.alerts`` (only the live version's count)."""
        self.alerts = [a for a in self.alerts if a.model_version == alert.model_version]
        self.alerts.append(alert)

    def started(self, now: float) -> None:
        self.last_run_at = now
        self.alerts.clear()
        self.pending = None

    def decide(self, at: Situation) -> Decision:
        if at.training:
            return Decision(False, "none", "a training run is in progress")
        trigger, why = self._trigger(at)
        if trigger == "none":
            self.pending = None
            return Decision(False, "none", why)
        if at.rolling_out:
            return Decision(
                False, trigger, f"{why}; waiting for the rollout of {at.rolling_out} to end"
            )
        seen = at.newest_data if at.newest else None
        if seen is not None and at.current_data is not None and at.current_data <= seen:
            return Decision(False, trigger, f"{why}; no new data since {at.newest} was trained")
        last = self._last_run(at)
        if last is not None:
            left = self.settings.retrain_cooldown_s - (at.now - last)
            if left > 0:
                return Decision(False, trigger, f"{why}; cooling down for {left:.0f}s more")
        if self.pending != trigger:
            self.pending, self.pending_since = trigger, at.now
        held = at.now - self.pending_since
        if held < self.settings.debounce_s:
            wait = self.settings.debounce_s - held
            return Decision(False, trigger, f"{why}; retraining if it holds {wait:.0f}s more")
        return Decision(True, trigger, why)

    def _last_run(self, at: Situation) -> float | None:
        """When the last run started here, or the newest version was trained (a restarted
        controller knows only the latter)."""
        runs = [t for t in (self.last_run_at, at.newest_at) if t is not None]
        return max(runs) if runs else None

    def _trigger(self, at: Situation) -> tuple[str, str]:
        rows = f"{at.new_rows} new rows"
        if at.live_version is None:
            if at.new_rows >= at.min_examples:
                return "first", f"no fine-tuned version is live and the lake holds {rows}"
            return "none", f"waiting for data: {rows}, the first run needs {at.min_examples}"
        if at.new_rows < self.settings.min_rows:
            least = self.settings.min_rows
            return "none", f"{rows} since {at.live_version}'s data (fewer than {least})"
        mine = [a for a in self.alerts if a.model_version == at.live_version]
        kinds = {kind for a in mine for kind in a.kinds}
        if kinds & {"data", "prediction"}:
            latest = mine[-1]
            features = ", ".join(latest.drifted_features[:6])
            return "drift", (
                f"{'+'.join(sorted(kinds & {'data', 'prediction'}))} drift on "
                f"{at.live_version} ({features}); {rows}"
            )
        if "performance" in kinds:
            return "acceptance", f"acceptance dropped on {at.live_version}; {rows}"
        if at.new_rows >= self.settings.volume_rows:
            volume = self.settings.volume_rows
            return "volume", f"{rows} since {at.live_version}'s data (≥ {volume})"
        schedule = self.settings.schedule_s
        last = self._last_run(at)
        if schedule and (last is None or at.now - last >= schedule):
            return "schedule", f"scheduled every {schedule:.0f}s; {rows}"
        return "none", f"no drift, {rows} since {at.live_version}'s data"
