"""The drift commands: ``drift`` (a check now) and the hidden ``loop`` (the loop worker)."""

from typing import Annotated, Any

import typer

from codemill.output import Format, emit, fail
from common.errors import CodemillError
from common.runfiles import live_record, loop_file
from common.settings import Settings
from infra.stack import running_bootstrap


def register(app: typer.Typer) -> None:
    app.command()(drift)
    app.command(hidden=True)(loop)


def drift(
    fail_on_drift: Annotated[
        bool, typer.Option(help="exit with code 1 when something drifted (for CI and cron)")
    ] = False,
    fmt: Format = "text",
) -> None:
    """Check drift now: the live model's training data against what came since, its
    predictions and its acceptance. Writes a drift_reports row, an HTML report and a run in the
    Evidently workspace; alerts (Kafka, webhook) when something drifted."""
    from training.alerts import announce  # Evidently and pandas: only for this command
    from training.monitor import check
    from training.registry import Registry

    settings = Settings()
    bootstrap = settings.kafka.bootstrap or running_bootstrap(settings)
    if bootstrap:
        settings = settings.with_bootstrap(bootstrap)
    try:
        result = check(settings, Registry(settings).live())
        alerted = announce(settings, result.alert)
    except CodemillError as exc:
        fail(exc)
    report = result.report
    data: dict[str, Any] = {
        "model_version": report.model_version,
        "verdict": report.verdict,
        "drifted": report.drifted or "nothing",
        "shares": report.shares,
        "drifted_features": report.drifted_features,
        "reference_rows": report.reference_rows,
        "new_rows": report.current_rows,
        "feedback": f"{report.reference_feedback} baseline, {report.current_feedback} recent",
        "report": report.report_path or "none (no window to compare)",
        "workspace": f"evidently ui --workspace {settings.home / 'evidently'}",
        "alert": alerted,
        "seconds": report.seconds,
    }
    emit(data, fmt, "codemill drift")
    if fail_on_drift and report.drifted:
        raise typer.Exit(1)


def loop() -> None:
    """Run the loop worker alone (for cluster deployments; needs CODEMILL_KAFKA_BOOTSTRAP)."""
    from training.loop_worker import main

    main()


def loop_state(settings: Settings) -> dict[str, Any] | str:
    """What the loop worker of a ``codemill up`` on this home last checked and decided."""
    info = live_record(loop_file(settings.home))
    if info is None:
        return "not running"
    decisions = info.get("decisions", [])
    return {
        "last_check": info.get("last_check") or "none yet",
        "training": info.get("training", False),
        "decisions": [
            f"{d['at'][:19]} {d.get('outcome') or ('retrain' if d['retrain'] else 'wait')}"
            + (f" ({d['trigger']}): {d['reason']}" if "reason" in d else "")
            for d in decisions[-5:]
        ],
    }
