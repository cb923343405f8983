"""The ``codemill`` command line: each command parses, calls one function, and prints."""

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pygit2
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from codemill import report
from codemill.drift_commands import loop_state
from codemill.drift_commands import register as register_drift_commands
from codemill.output import Format, console, emit, fail, stdout_kept_for_results
from codemill.serving_commands import register as register_serving_commands
from codemill.serving_commands import serving, serving_health
from codemill.serving_commands import summary as commands_summary
from codemill.training_commands import register as register_training_commands
from codemill.training_commands import registry_for
from common.errors import CodemillError
from common.names import CONSUMER_GROUP
from common.settings import Settings
from infra.stack import Stack, local_stack, running_bootstrap, start_loop, supervise
from streams.backfill import BackfillPlan, clone_source, plan_backfill, progress, publish
from streams.kafka import AsyncProducer
from streams.topics import consumer_lag
from training.runs import current_run

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
register_training_commands(app)
register_serving_commands(app)
register_drift_commands(app)


def _own_repository() -> str:
    found = pygit2.discover_repository(str(Path.cwd()))
    if found is None:
        raise CodemillError("the working directory is not in a git repository: pass --repo")
    return str(Path(found).parent if Path(found).name == ".git" else Path(found))


def _ingest(
    settings: Settings, plan: BackfillPlan, fmt: str, timeout: float, stack: Stack | None = None
) -> dict[str, Any]:
    """Publish a backfill plan and wait until the ledger has every commit; returns figures."""
    started = time.perf_counter()
    before = report.table_counts(settings).get("completion", 0)
    producer = AsyncProducer(settings.kafka.client_config())
    try:
        events = asyncio.run(publish(settings, producer, plan))
    finally:
        producer.close()
    shas = [c.sha for c in plan.pending]
    state = progress(settings, plan.repo, shas)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=fmt == "json",
    ) as bar:
        commits = bar.add_task("commits", total=len(shas))
        examples = bar.add_task("examples", total=None)
        deadline = time.monotonic() + timeout
        while state.done + state.failed < len(shas):
            if time.monotonic() > deadline:
                raise CodemillError(
                    f"backfill of {plan.repo} did not finish within {timeout:.0f}s "
                    f"({state.done}/{len(shas)} commits): see {settings.home / 'logs'}"
                )
            time.sleep(0.25)
            if stack is not None and stack.worker is not None and stack.worker.poll() is not None:
                raise CodemillError(
                    f"the Faust worker died (exit code {stack.worker.returncode}): "
                    f"see {settings.home / 'logs' / 'worker.log'}"
                )
            state = progress(settings, plan.repo, shas)
            bar.update(commits, completed=state.done + state.failed)
            bar.update(examples, completed=state.examples)
    seconds = time.perf_counter() - started
    return {
        "repository": plan.repo,
        "commits_in_history": len(plan.commits),
        "commits_already_ingested": len(plan.commits) - len(plan.pending),
        "commits_ingested": state.done,
        "commits_failed": state.failed,
        "push_events": events,
        "examples_extracted": state.examples,
        "examples_new": (landed := report.table_counts(settings).get("completion", 0) - before),
        "rejects": state.rejects,
        "seconds": round(seconds, 2),
        "extracted_per_second": round(state.examples / seconds, 1),
        "new_per_second": round(landed / seconds, 1),
    }


@app.command()
def demo(
    repo: Annotated[
        str | None, typer.Option(help="repository path or URL (default: this one)")
    ] = None,
    max_commits: Annotated[int | None, typer.Option(help="only the most recent N commits")] = None,
    train: Annotated[
        bool, typer.Option(help="fine-tune, evaluate and roll the result out as a canary")
    ] = True,
    train_steps: Annotated[int, typer.Option(help="optimizer steps of the demo's fine-tune")] = 16,
    serve: Annotated[
        bool, typer.Option(help="serve completions and take developers' feedback")
    ] = True,
    completions: Annotated[int, typer.Option(help="completions the developers ask for")] = 40,
    fmt: Format = "text",
) -> None:
    """The main job, end to end, then exit: start the embedded stack, ingest a repository's
    history (all but its newest commits), fine-tune on it, evaluate, roll the new version out
    as a canary, complete code as developers would and record their feedback, push the newest
    commits and check drift on them, as the loop worker does; print what happened, with the
    timeline."""
    try:
        with stdout_kept_for_results():
            try:
                figures = _demo(repo, max_commits, train, train_steps, serve, completions, fmt)
            finally:
                _stop_ray()
    except CodemillError as exc:
        fail(exc)
    emit(figures, fmt, "codemill demo")


def _demo(
    repo: str | None,
    max_commits: int | None,
    train: bool,
    train_steps: int,
    serve: bool,
    completions: int,
    fmt: str,
) -> dict[str, Any]:
    from codemill import demo as steps

    settings = steps.demo_settings(Settings(), train_steps)
    source = repo or _own_repository()
    timeline = steps.Timeline()
    console.print(f"codemill demo: ingesting [bold]{source}[/bold]")
    with local_stack(settings) as stack:
        live = stack.settings
        timeline.mark(f"stack up: broker {live.kafka.bootstrap}, lake {settings.lake_uri}")
        plan = plan_backfill(live, source, max_commits=max_commits)
        later = steps.held_back(len(plan.pending)) if train else 0
        held = {c.sha for c in plan.pending[len(plan.pending) - later :]}
        first = replace(  # the history as it was before the newest commits
            plan,
            commits=[c for c in plan.commits if c.sha not in held],
            pending=plan.pending[: len(plan.pending) - later],
        )
        figures = _ingest(live, first, fmt, timeout=3600, stack=stack)
        timeline.mark(f"ingested {len(first.pending)} commits")
        registry = registry_for(live)
        record = None
        if train:
            record, trained = steps.fine_tune(live, registry, console.print)
            figures["training"] = trained
            timeline.mark(f"fine-tuned and evaluated {trained.get('trained')}")
        if serve:
            figures["serving"] = _demo_serving(live, registry, record, completions)
            timeline.mark("served completions and stored the developers' feedback")
        if later:
            newest = replace(plan, pending=plan.pending[-later:])
            figures["pushed_later"] = _ingest(live, newest, fmt, timeout=3600, stack=stack)
            timeline.mark(f"pushed the newest {later} commits")
            figures["loop"] = steps.drift_step(live, registry, record)
            timeline.mark("checked drift on them and decided whether to retrain")
        figures["tables"] = report.table_counts(settings)
        figures["rejects_by_reason"] = report.reject_reasons(settings, plan.repo)
        figures["skipped_files"] = report.skipped_reasons(settings, plan.repo)
        figures["timeline"] = timeline.figures()
    return figures


def _demo_serving(
    settings: Settings, registry: Any, record: Any, completions: int
) -> dict[str, Any]:
    """Serve the live version (or the base), roll ``record`` out as a canary when it was
    blessed, let the developers work, and report what they got and what the lake kept."""
    from codemill import demo as steps
    from serving.deploy import deploy, rollout_state

    tasks = steps.tasks_from_lake(settings, completions)
    before = steps.feedback_rows(settings)
    with serving(settings, watch=False) as api:
        console.print(f"inference API at {api['url']}, serving {api['plan']['stable']}")
        if record is not None and record.status == "blessed":
            deploy(settings, registry, record.version, "canary")
            console.print(f"canary: {record.version} for half of the developers")
        session = steps.developers(api["url"].removesuffix("/v1"), steps.demo_key(settings), tasks)
        sent = sum(sum(kinds.values()) for kinds in session["feedback"].values())
        session["feedback_rows_in_delta"] = steps.wait_feedback(settings, before + sent) - before
        state = rollout_state()
        session["rollout"] = commands_summary(state)
    return session


def _stop_ray() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


@app.command()
def up(
    serve: Annotated[
        bool, typer.Option(help="also serve the inference API (Ray Serve, :8000)")
    ] = True,
    loop: Annotated[
        bool, typer.Option(help="also run the loop worker: drift checks, alerts, retraining")
    ] = True,
) -> None:
    """Run the whole local stack until interrupted: broker, Faust worker, webhook receiver
    (:8080), the inference API (:8000) with its rollout controller, and the loop worker that
    checks drift and retrains."""
    try:
        settings = Settings()
        with local_stack(settings) as stack, contextlib.ExitStack() as api:
            if serve:
                served = api.enter_context(serving(stack.settings))
                console.print(
                    f"inference API: {served['url']} serving {served['plan']['stable']} "
                    f"(API keys: {served['keys']})"
                )
                ray_address = {"ray_address": served["ray_address"]}
                stack.settings = stack.settings.model_copy(update=ray_address)
            if loop:
                stack.loop = start_loop(stack.settings)
                console.print(
                    f"loop worker: drift checked every {settings.drift.interval_s:.0f}s, "
                    f"retraining {'on' if settings.drift.retrain else 'off'} "
                    f"(log: {settings.home / 'logs' / 'loop.log'})"
                )
            if stack.broker is not None:
                console.print(
                    f"embedded broker at {stack.broker.bootstrap} (its log is in memory: on "
                    "restart, pushes not yet ingested are re-derived from the commits ledger)"
                )
            if stack.replayed:
                console.print(f"replayed {stack.replayed} push events owed by the ledger")
            hook = stack.settings.webhook
            console.print(
                f"webhooks: http://{hook.host}:{hook.port}/webhooks/{{github,gitlab,generic}}; "
                f"lake: {settings.lake_uri}; Ctrl-C stops"
            )
            stop = threading.Event()
            watcher = threading.Thread(target=supervise, args=(stack, stop), daemon=True)
            watcher.start()
            try:
                _serve_webhooks(stack.settings)
            finally:
                stop.set()
                watcher.join()
    except CodemillError as exc:
        fail(exc)


@app.command()
def backfill(
    repo: Annotated[str, typer.Argument(help="local path or URL of a git repository")],
    branch: Annotated[str | None, typer.Option(help="branch (default: HEAD)")] = None,
    since: Annotated[datetime | None, typer.Option(help="only commits from this date")] = None,
    max_commits: Annotated[int | None, typer.Option(help="only the most recent N commits")] = None,
    name: Annotated[
        str | None, typer.Option(help="repository name (default: from the URL)")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for ingestion")] = 3600,
    fmt: Format = "text",
) -> None:
    """Replay a repository's history as push events and wait until it is in Delta."""
    try:
        settings = Settings()
        if since is not None and since.tzinfo is None:
            since = since.astimezone()
        clone_source(repo)  # a mistyped path fails here, before a stack starts
        bootstrap = settings.kafka.bootstrap or running_bootstrap(settings)
        if bootstrap:
            live = settings.with_bootstrap(bootstrap)
            plan = plan_backfill(live, repo, branch, since, max_commits, name)
            figures = _ingest(live, plan, fmt, timeout)
        else:
            with local_stack(settings) as stack:
                plan = plan_backfill(stack.settings, repo, branch, since, max_commits, name)
                figures = _ingest(stack.settings, plan, fmt, timeout, stack)
    except CodemillError as exc:
        fail(exc)
    emit(figures, fmt, "codemill backfill")


@app.command()
def status(fmt: Format = "text") -> None:
    """Stack state, ledger and table counts."""
    settings = Settings()
    bootstrap = settings.kafka.bootstrap or running_bootstrap(settings)
    lag: dict[str, int] | str = "no broker to ask"
    if bootstrap:
        try:
            lag = consumer_lag(settings.with_bootstrap(bootstrap).kafka, CONSUMER_GROUP)
        except Exception as exc:  # an unreachable broker is a status, not a crash
            lag = f"unavailable: {exc}"
    data: dict[str, Any] = {
        "stack": bootstrap or "not running",
        "lag": lag,
        "lake": settings.lake_uri,
        "tables": report.table_counts(settings),
        **report.ledger_summary(settings),
        "training": current_run(settings) or "no fine-tune running",
        "serving": serving_health(settings),
        "loop": loop_state(settings),
        "drift": report.last_drift(settings),
    }
    emit(data, fmt, "codemill status")


@app.command()
def datasets(fmt: Format = "text") -> None:
    """Row counts of every table; per dataset its language, category or change mix and a
    sample; what the sanitizer redacted; rejects by reason and skipped files."""
    settings = Settings()
    mixes = {
        str(table): {column: report.column_mix(settings, table, column) for column in columns}
        for table, columns in report.MIXES.items()
    }
    data: dict[str, Any] = {
        "tables": report.table_counts(settings),
        "languages": report.language_mix(settings),
        "mix": mixes,
        "redacted": report.redactions(settings),
        "rejects": report.reject_reasons(settings),
        "skipped_files": report.skipped_reasons(settings),
    }
    sample = {str(table): report.samples(settings, table) for table in report.MIXES}
    if fmt == "json":
        typer.echo(json.dumps({**data, "samples": sample}, default=str))
        return
    emit({k: v for k, v in data.items() if k != "mix"}, fmt, "codemill datasets")
    for table, columns in mixes.items():
        shown = {column: mix for column, mix in columns.items() if mix}
        if shown:
            emit(shown, fmt, f"{table}")
    for table, rows in sample.items():
        for row in rows:
            Console().print(
                f"{table} {row['repo']}:{row['path']} {row['symbol']} "
                f"({row['language']}) [{row['label']}]\n{row['head']}\n",
                markup=False,
                highlight=False,
            )


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="files or folders to audit", exists=True)],
    include_vendored: Annotated[bool, typer.Option(help="also scan vendored folders")] = False,
    fmt: Format = "text",
) -> None:
    """Audit files for secrets and personal data: one finding per line (file, line, kind).

    Exits 1 when anything is found, so it can gate CI. Files it could not read, or too large
    to, are named on stderr.
    """
    from streams.audit import Skipped, audit

    found = skipped = 0
    for finding in audit(paths, include_vendored):
        if isinstance(finding, Skipped):
            skipped += 1
            typer.echo(f"not scanned: {finding.file}: {finding.reason}", err=True)
            continue
        found += 1
        if fmt == "json":
            typer.echo(
                json.dumps({"file": finding.file, "line": finding.line, "kind": finding.kind})
            )
        else:
            typer.echo(f"{finding.file}:{finding.line}: {finding.kind}")
    if fmt != "json":
        console.print(
            f"{found} finding(s)" + (f", {skipped} file(s) not scanned" if skipped else "")
        )
    raise typer.Exit(1 if found else 0)


@app.command(hidden=True)
def worker() -> None:
    """Run one Faust worker (for cluster deployments; needs CODEMILL_KAFKA_BOOTSTRAP)."""
    from streams.worker import main

    main()


@app.command(hidden=True)
def receiver() -> None:
    """Run the webhook receiver alone (for cluster deployments; needs CODEMILL_KAFKA_BOOTSTRAP):
    ``/webhooks/{github,gitlab,generic}``, ``/healthz`` and ``/metrics`` on the webhook port."""
    from streams.topics import ensure_topics

    settings = Settings()
    if not settings.kafka.bootstrap:
        fail(
            CodemillError(
                "codemill receiver needs CODEMILL_KAFKA_BOOTSTRAP (`codemill up` starts one)"
            )
        )
    try:
        ensure_topics(settings.kafka)  # the worker does too; whichever starts first
    except CodemillError as exc:
        fail(exc)
    _serve_webhooks(settings)


def _serve_webhooks(settings: Settings) -> None:
    """The webhook receiver on its port until interrupted (``up``, ``receiver``)."""
    from aiohttp import web

    from streams.receiver import create_receiver

    producer = AsyncProducer(settings.kafka.client_config())
    try:
        hook = settings.webhook
        web.run_app(create_receiver(settings, producer), host=hook.host, port=hook.port, print=None)
    finally:
        producer.close()
