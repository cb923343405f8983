"""The inference API on Ray Serve: a router application in front of one application per version.

* :class:`ModelServer` holds one version's engine (its base, with its adapter merged) and
  completes requests in dynamic batches (``@serve.batch``), or streams one. Each served version
  is its own Serve application (``codemill-model-<version>``, no HTTP route), so versions come
  and go without touching the router or each other; its replicas autoscale.
* :class:`Router` is the HTTP ingress (FastAPI, the application ``codemill`` on ``/``): it checks
  the API key and its scope, admits the request (per-key rate and a cap in flight, else 429),
  validates and screens it, picks the version (weighted, sticky per key:
  :mod:`serving.routing`), sends one engine request per prompt to that version (and, should it
  fail, to the heaviest other: a broken canary costs its users no error), redacts secrets from
  the completions (:mod:`serving.guard`) and answers in OpenAI's format with codemill's fields,
  or as server-sent events with ``"stream": true``. Greedy completions are cached per version.
* The router runs as ``CODEMILL_SERVING_ROUTERS`` replicas (HAProxy spreads the requests over
  them). Each counts on its own and reports to the application's one
  :class:`~serving.keeper.RolloutKeeper` every quarter second, learning the plan from it; the
  keeper's rollout controller moves the plan on (a canary steps up, is promoted or rolled back).
  Feedback on a completion another router showed is found through the keeper too.

``POST /v1/feedback`` ties a verdict (accept, reject, correction, rating) to a completion id the
router served, counts it for the rollout, redacts it and produces it to ``codemill.feedback``
(a Faust agent stores it in Delta); ``CODEMILL_SERVING_FEEDBACK=false`` turns collection off.
``GET /v1/models`` lists the served versions and their weights, ``GET /healthz`` answers without
a key, ``GET /metrics`` is Prometheus text (requests, errors, latency, tokens by version, summed
over the routers).
"""

import asyncio
import itertools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from fastapi import FastAPI
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from ray import serve
from ray.serve.handle import DeploymentHandle

from common.names import Topic
from common.settings import Settings
from serving.coalesce import Coalescer
from serving.controller import Plan, Tally
from serving.engines import load_engine, replica_threads
from serving.feedback import Shown, feedback_record
from serving.guard import clean_completion, screen_prompt
from serving.keys import ApiKey, AuthError, Scope, authorize, ensure_keys, parse_keys
from serving.limits import InFlight, RateLimiter
from serving.metrics import ApiMetrics
from serving.requests import Completion, Piece, Request
from serving.routing import fallback, pick_version
from serving.schema import (
    CompletionRequest,
    CompletionResponse,
    FeedbackRequest,
    in_line_ends,
    invalid_reason,
)
from serving.sharing import METRICS_EVERY, SYNC_S, Report, add_tallies
from serving.streaming import ChunkWriter, releasable, stop_at
from streams.kafka import AsyncProducer

api = FastAPI(title="codemill inference API")
APP_NAME = "codemill"
log = logging.getLogger("ray.serve")  # the replica logs Serve keeps


@dataclass(frozen=True)
class ServedVersion:
    """A version to serve: its base, and its adapter (none for a base served as itself)."""

    version: str
    base_path: str
    adapter_path: str = ""


def model_app(version: str) -> str:
    """The Serve application serving ``version``."""
    return f"{APP_NAME}-model-{version}"


@serve.deployment
class ModelServer:
    def __init__(self, served: ServedVersion, settings: Settings) -> None:
        import torch  # here, not at the top: the router never loads a model

        torch.set_num_threads(replica_threads(settings))
        adapter = Path(served.adapter_path) if served.adapter_path else None
        self.engine = load_engine(served.version, served.base_path, adapter, settings)
        self.coalescer = Coalescer(self.engine.complete, settings.serving.max_batch_size)
        batched: Any = self.complete
        batched.set_max_batch_size(settings.serving.max_batch_size)
        batched.set_batch_wait_timeout_s(settings.serving.batch_wait_ms / 1000)

    # Serve's batches go on to the coalescer as they form (so many at once), which merges those
    # that wait for the engine into its next call.
    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.0, max_concurrent_batches=16)
    async def complete(self, requests: list[Request]) -> list[Completion]:
        return await self.coalescer.submit(requests)

    async def stream(self, request: Request) -> AsyncIterator[Piece]:
        pieces = self.engine.stream(request)
        while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
            yield piece


# Defined before the router: Ray pickles a deployment with the module-level names it uses.
def _redacted(completion: Completion) -> Completion:
    """The completion with no secret or personal datum in its text."""
    choices = [replace(c, text=clean_completion(c.text)[0]) for c in completion.choices]
    return replace(completion, choices=choices)


def _cacheable(request: Request) -> bool:
    return request.sampling.temperature == 0


@serve.deployment(ray_actor_options={"num_cpus": 0})
@serve.ingress(api)
class Router:
    def __init__(
        self,
        settings: Settings,
        plan: Plan,
        keeper: DeploymentHandle,  # type: ignore[type-arg]
    ) -> None:
        self.settings = settings
        self.keeper = keeper
        self.plan = plan  # as the keeper last said
        self.epoch = 0
        self.id = uuid.uuid4().hex
        self.shares_feedback = settings.serving.routers > 1
        self.tallies: dict[str, Tally] = {}  # counted since the last report
        self.shown: list[tuple[str, Shown]] = []  # shown since the last report (several routers)
        self.handles: dict[str, DeploymentHandle] = {}  # type: ignore[type-arg]
        self.keys = parse_keys(ensure_keys(settings))
        self.metrics = ApiMetrics()
        routers = settings.serving.routers  # a key's requests spread over them
        self.limiter = RateLimiter(
            settings.serving.rate_limit / routers, max(1, settings.serving.rate_burst // routers)
        )
        self.in_flight = InFlight(settings.serving.max_in_flight)
        # (version, request) -> completion; only greedy requests, whose answer is fixed.
        self.cache: LRUCache[tuple[str, Request], Completion] = LRUCache(
            maxsize=settings.serving.cache_size
        )
        # completion id -> what was shown: feedback names only the id.
        self.served: LRUCache[str, Shown] = LRUCache(
            maxsize=settings.serving.remembered_completions
        )
        self.producer = (
            AsyncProducer(settings.kafka.client_config()) if settings.serving.feedback else None
        )
        self.syncer: asyncio.Task[None] | None = None

    # --- the rollout: called by codemill deploy; the keeper holds it ------------------------

    async def get_plan(self) -> Plan:
        self._ensure_sync()
        plan: Plan = await self.keeper.get_plan.remote()
        return plan

    async def set_plan(self, plan: Plan) -> Plan:
        """Serve ``plan`` (a new rollout starts counting afresh); returns the plan replaced."""
        self._ensure_sync()
        before, epoch = await self.keeper.set_plan.remote(plan)
        self._adopt(plan, epoch)
        return before  # type: ignore[no-any-return]

    async def rollout(self) -> dict[str, Any]:
        """The plan, each version's live figures (this router's counted up to now) and the
        controller's transitions so far."""
        await self._report()
        state: dict[str, Any] = await self.keeper.rollout.remote()
        return state

    def _ensure_sync(self) -> None:
        if self.syncer is None or self.syncer.done():
            self.syncer = asyncio.get_running_loop().create_task(self._sync())

    async def _sync(self) -> None:
        for tick in itertools.count():
            await asyncio.sleep(SYNC_S)
            try:
                await self._report(with_metrics=tick % METRICS_EVERY == 0)
            except Exception:
                log.exception("could not report to the rollout keeper")

    async def _report(self, with_metrics: bool = True) -> None:
        """Send the keeper what was counted (and shown) since the last report, and the metrics
        when ``with_metrics``; learn the plan."""
        report = Report(self.id, self.epoch, self.tallies, self.shown)
        if with_metrics:
            report.metrics = list(self.metrics.registry.collect())
        self.tallies, self.shown = {}, []
        try:
            plan, epoch = await self.keeper.sync.remote(report)
        except Exception:
            if report.epoch == self.epoch:  # count it at the next report instead
                add_tallies(self.tallies, report.tallies, self.plan.versions)
                self.shown = report.shown + self.shown
            raise
        self._adopt(plan, epoch)

    def _adopt(self, plan: Plan, epoch: int) -> None:
        """Serve ``plan``; a new epoch drops what was counted for the rollout before."""
        if epoch != self.epoch:
            self.epoch, self.tallies = epoch, {}
        self.plan = plan
        for version in list(self.handles):
            if version not in plan.versions:
                del self.handles[version]

    def _handle(self, version: str) -> DeploymentHandle:  # type: ignore[type-arg]
        if version not in self.handles:
            self.handles[version] = serve.get_app_handle(model_app(version))
        return self.handles[version]

    # --- HTTP -----------------------------------------------------------------------------

    @api.get("/healthz")
    async def healthz(self) -> dict[str, Any]:
        self._ensure_sync()
        plan = self.plan
        return {"status": "ok", "weights": dict(plan.shares()), "rolling_out": plan.candidate}

    @api.get("/metrics")
    async def prometheus(self) -> Response:
        """Every router's metrics, summed by the keeper (this one's up to now)."""
        await self._report()
        text = await self.keeper.exposition_text.remote()
        return Response(text, media_type="text/plain")

    @api.get("/v1/models")
    async def list_models(self, request: HttpRequest) -> Response:
        if isinstance(refused := self._key(request, "complete"), Response):
            return refused
        data = [
            {"id": version, "object": "model", "owned_by": "codemill", "weight": weight}
            for version, weight in self.plan.shares()
        ]
        return JSONResponse({"object": "list", "data": data})

    @api.post("/v1/completions")
    async def completions(self, request: HttpRequest) -> Response:
        key = self._key(request, "complete")
        if isinstance(key, Response):
            return key
        wait = self.limiter.take(key.id, time.monotonic())
        if wait > 0:
            return self._error(429, "rate limit: slow down", "rate_limited", retry=wait)
        if not self.in_flight.enter():
            return self._error(429, "the API is at capacity: retry shortly", "overloaded", 1.0)
        try:
            return await self._completions(request, key)
        finally:
            self.in_flight.leave()

    async def _completions(self, request: HttpRequest, key: ApiKey) -> Response:
        self._ensure_sync()
        raw = await request.body()
        if len(raw) > self.settings.serving.max_prompt_chars * 4:
            return self._error(413, "request body too large", "too_large")
        try:
            body = CompletionRequest.model_validate_json(raw)
        except ValidationError as invalid:
            return self._invalid(invalid)
        if body.max_tokens > self.settings.serving.max_tokens:
            limit = self.settings.serving.max_tokens
            return self._error(400, f"max_tokens: at most {limit}", "invalid")
        if sum(map(len, body.prompts())) > self.settings.serving.max_prompt_chars:
            return self._error(413, "prompt too long", "too_large")
        for prompt in body.prompts():
            screening = screen_prompt(prompt, body.suffix or "")
            if screening.verdict == "refuse":
                return self._error(400, f"refused: {screening.reason}", "adversarial")
        if body.stream and (len(body.prompts()) > 1 or body.n > 1):
            return self._error(400, "stream: one prompt and n=1 at a time", "invalid")
        chosen = self._version(body.model, body.user or key.id)
        if body.stream:
            return StreamingResponse(self._stream(chosen, body), media_type="text/event-stream")
        started = time.perf_counter()
        requests, failures = body.engine_requests(), []
        for version in self._tries(chosen):
            self.metrics.requests.labels(version).inc()
            try:
                done = await self._complete(version, requests)
                break
            except Exception as error:
                self._failed(version)
                failures.append(f"model {version} failed: {type(error).__name__}")
        else:
            return self._error(503, "; ".join(failures), "model")
        seconds = time.perf_counter() - started
        self._succeeded(version, seconds)
        cleaned = [_redacted(c) for c in done]
        response = CompletionResponse.of(version, cleaned, seconds * 1000, body.line_end())
        first = cleaned[0].choices[0] if cleaned and cleaned[0].choices else None
        text = response.choices[0].text if first else ""
        confidence = first.confidence if first else None
        self._remember(
            response.id, Shown(version, body.prompts()[0], body.suffix or "", text, confidence)
        )
        self.metrics.tokens.labels(version).inc(response.usage.completion_tokens)
        return JSONResponse(response.model_dump())

    async def _stream(self, chosen: str, body: CompletionRequest) -> AsyncIterator[str]:
        """The completion as events: lines as the model writes them, each one redacted."""
        request, line_end = body.engine_requests()[0], body.line_end()
        stops = request.sampling.stop
        started = time.perf_counter()
        for version in self._tries(chosen):
            self.metrics.requests.labels(version).inc()
            writer = ChunkWriter.new(f"cmpl-{uuid.uuid4().hex}", version)
            pending, shown, finish, tokens, sent_any = "", "", "length", 0, False
            prompt_tokens = 0
            try:
                pieces: Any = self._handle(version).options(stream=True).stream.remote(request)
                async for piece in pieces:
                    pending += piece.text
                    if (cut := stop_at(pending, stops)) >= 0:
                        pending, finish = pending[:cut], "stop"
                        break
                    if piece.finish_reason is not None:
                        finish, tokens = piece.finish_reason, piece.tokens
                        prompt_tokens = piece.prompt_tokens
                    ready, pending = releasable(pending)
                    if ready:
                        shown += (cleaned := in_line_ends(clean_completion(ready)[0], line_end))
                        sent_any = True
                        yield writer.text(cleaned)
            except Exception as error:
                self._failed(version)
                if sent_any:  # the client has part of an answer: end it there
                    yield writer.text("", "length", error=type(error).__name__)
                    yield writer.done()
                    return
                continue
            shown += (cleaned := in_line_ends(clean_completion(pending)[0], line_end))
            seconds = time.perf_counter() - started
            self._succeeded(version, seconds)
            self.metrics.tokens.labels(version).inc(tokens)
            self._remember(writer.id, Shown(version, body.prompts()[0], body.suffix or "", shown))
            if cleaned:
                yield writer.text(cleaned)
            yield writer.text("", finish, latency_ms=round(seconds * 1000, 2))
            if body.stream_options is not None and body.stream_options.include_usage:
                yield writer.usage(prompt_tokens, tokens)
            yield writer.done()
            return
        failure = {"error": {"message": "every served version failed", "type": "model"}}
        yield f"data: {json.dumps(failure)}\n\n"

    @api.post("/v1/feedback")
    async def feedback(self, request: HttpRequest) -> Response:
        key = self._key(request, "feedback")
        if isinstance(key, Response):
            return key
        if self.producer is None:
            return self._error(403, "feedback collection is off for this deployment", "off")
        try:
            body = FeedbackRequest.model_validate_json(await request.body())
        except ValidationError as invalid:
            return self._invalid(invalid)
        served = await self._shown(body.completion_id)
        if served is None:
            return self._error(404, f"unknown completion id {body.completion_id!r}", "unknown")
        record = feedback_record(body, served, key.id)
        await self.producer.produce(
            Topic.FEEDBACK, record.model_version, record.model_dump_json().encode()
        )
        self.metrics.feedback.labels(record.model_version, record.kind).inc()
        if record.kind in ("accept", "reject") and (tally := self._tally(record.model_version)):
            tally.verdict(record.kind == "accept")
        return JSONResponse({"id": record.id, "status": "accepted"}, status_code=202)

    # --- helpers ----------------------------------------------------------------------------

    def _tries(self, chosen: str) -> list[str]:
        """The chosen version, then (should it fail) the heaviest other one."""
        other = fallback(self.plan.shares(), chosen)
        return [chosen] if other is None else [chosen, other]

    def _tally(self, version: str) -> Tally | None:
        """What this router counted of ``version`` since its last report (none if not served)."""
        if version not in self.plan.versions:
            return None
        return self.tallies.setdefault(version, Tally())

    def _succeeded(self, version: str, seconds: float) -> None:
        self.metrics.latency.labels(version).observe(seconds)
        if tally := self._tally(version):
            tally.served(seconds * 1000)

    def _failed(self, version: str) -> None:
        self.metrics.errors.labels(version).inc()
        if tally := self._tally(version):
            tally.failed()

    def _remember(self, completion_id: str, shown: Shown) -> None:
        """Keep what was shown for the feedback on it (with the keeper too, for feedback that
        reaches another router)."""
        self.served[completion_id] = shown
        if self.shares_feedback:
            self.shown.append((completion_id, shown))

    async def _shown(self, completion_id: str) -> Shown | None:
        """What was shown as ``completion_id``, by this router or (several) by another; another
        router's completion may be one report away from the keeper."""
        if (shown := self.served.get(completion_id)) is not None or not self.shares_feedback:
            return shown
        for wait in (0.0, 2 * SYNC_S):
            await asyncio.sleep(wait)
            found: Shown | None = await self.keeper.find_shown.remote(completion_id)
            if found is not None:
                return found
        return None

    async def _complete(self, version: str, requests: list[Request]) -> list[Completion]:
        """Each request's completion: greedy ones from the cache where asked before."""
        handle = self._handle(version)
        found: dict[int, Completion] = {}
        for index, request in enumerate(requests):
            cached = self.cache.get((version, request)) if _cacheable(request) else None
            if cached is not None:
                found[index] = cached
                self.metrics.cache_hits.labels(version).inc()
        missing = [i for i in range(len(requests)) if i not in found]
        made = await asyncio.gather(*(handle.complete.remote(requests[i]) for i in missing))
        for index, completion in zip(missing, made, strict=True):
            found[index] = completion
            if _cacheable(requests[index]) and self.cache.maxsize:
                self.cache[(version, requests[index])] = completion
        return [found[i] for i in range(len(requests))]

    def _version(self, asked: str, user: str) -> str:
        if asked in self.plan.versions:
            return asked  # a client may pin a served version by name
        return pick_version(self.plan.shares(), user)

    def _key(self, request: HttpRequest, scope: Scope) -> ApiKey | Response:
        try:
            return authorize(request.headers.get("authorization"), self.keys, scope)
        except AuthError as refused:
            return self._error(refused.status, refused.reason, "auth")

    def _invalid(self, invalid: ValidationError) -> Response:
        """A 400 naming the first field at fault and why."""
        return self._error(400, invalid_reason(invalid), "invalid")

    def _error(self, status: int, message: str, kind: str, retry: float = 0.0) -> Response:
        self.metrics.refused.labels(kind).inc()
        body = {"error": {"message": message, "type": kind, "code": status}}
        headers = {"Retry-After": str(max(1, round(retry)))} if retry else None
        return JSONResponse(body, status_code=status, headers=headers)
