"""The inference API on Ray Serve: a router in front of one model deployment per served version.

* :class:`ModelServer` holds one version's :class:`~serving.engine.TransformersEngine` (its base,
  with its adapter merged) and completes requests in dynamic batches (``@serve.batch``).
* :class:`Router` is the HTTP ingress (FastAPI): it checks the API key and its scope, validates
  and screens the request, picks the version (weighted, sticky per key: :mod:`serving.routing`),
  sends one engine request per prompt to that version's deployment (and, should it fail, to the
  heaviest other version: a broken canary costs its users no error), redacts secrets from the
  completions (:mod:`serving.guard`) and answers in OpenAI's format with codemill's fields.
  Greedy completions are cached per version (LRU, ``CODEMILL_SERVING_CACHE_SIZE``).

``POST /v1/feedback`` ties a verdict (accept, reject, correction, rating) to a completion id the
router served, redacts it and produces it to ``codemill.feedback`` (a Faust agent stores it in
Delta); ``CODEMILL_SERVING_FEEDBACK=false`` turns collection off. ``GET /v1/models`` lists the
served versions and their weights, ``GET /healthz`` answers
without a key, ``GET /metrics`` is Prometheus text (requests, errors and latency by version).
"""

import asyncio
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from fastapi import FastAPI
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse, Response
from prometheus_client import generate_latest
from pydantic import ValidationError
from ray import serve
from ray.serve.handle import DeploymentHandle

from common.names import Topic
from common.settings import Settings
from serving.engine import Completion, Request, TransformersEngine
from serving.feedback import feedback_record
from serving.guard import clean_completion, screen_prompt
from serving.keys import ApiKey, AuthError, Scope, authorize, ensure_keys, parse_keys
from serving.metrics import ApiMetrics
from serving.routing import fallback, pick_version
from serving.schema import CompletionRequest, CompletionResponse, FeedbackRequest
from streams.kafka import AsyncProducer

api = FastAPI(title="codemill inference API")
APP_NAME = "codemill"


@dataclass(frozen=True)
class ServedVersion:
    """A version to serve: its base, its adapter (none for a base served as itself), weight."""

    version: str
    base_path: str
    adapter_path: str = ""
    weight: float = 1.0


@serve.deployment
class ModelServer:
    def __init__(self, served: ServedVersion, settings: Settings) -> None:
        adapter = Path(served.adapter_path) if served.adapter_path else None
        self.engine = TransformersEngine.load(
            served.base_path, served.version, adapter, quantize=settings.serving.quantize
        )
        batched: Any = self.complete
        batched.set_max_batch_size(settings.serving.max_batch_size)
        batched.set_batch_wait_timeout_s(settings.serving.batch_wait_ms / 1000)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
    async def complete(self, requests: list[Request]) -> list[Completion]:
        return await asyncio.to_thread(self.engine.complete, requests)


def _redacted(completion: Completion) -> Completion:
    """The completion with no secret or personal datum in its text.

    Defined before the deployments: Ray pickles them with the module-level names they use.
    """
    choices = [replace(c, text=clean_completion(c.text)[0]) for c in completion.choices]
    return replace(completion, choices=choices)


def _cacheable(request: Request) -> bool:
    return request.sampling.temperature == 0


@serve.deployment
@serve.ingress(api)
class Router:
    def __init__(
        self,
        models: dict[str, DeploymentHandle],  # type: ignore[type-arg]
        weights: dict[str, float],
        settings: Settings,
    ) -> None:
        self.models = models
        self.shares = sorted(weights.items(), key=lambda item: item[1])  # the canary first
        self.settings = settings
        self.keys = parse_keys(ensure_keys(settings))
        self.metrics = ApiMetrics()
        # (version, request) -> completion; only greedy requests, whose answer is fixed.
        self.cache: LRUCache[tuple[str, Request], Completion] = LRUCache(
            maxsize=settings.serving.cache_size
        )
        # completion id -> (version, prompt, suffix, text): feedback names only the id.
        self.served: LRUCache[str, tuple[str, str, str, str]] = LRUCache(
            maxsize=settings.serving.remembered_completions
        )
        self.producer = (
            AsyncProducer(settings.kafka.client_config()) if settings.serving.feedback else None
        )

    @api.get("/healthz")
    async def healthz(self) -> dict[str, Any]:
        return {"status": "ok", "versions": [v for v, _ in self.shares]}

    @api.get("/metrics")
    async def prometheus(self) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type="text/plain")

    @api.get("/v1/models")
    async def list_models(self, request: HttpRequest) -> Response:
        if (refused := self._refused(request, "complete")) is not None:
            return refused
        data = [
            {"id": version, "object": "model", "owned_by": "codemill", "weight": weight}
            for version, weight in self.shares
        ]
        return JSONResponse({"object": "list", "data": data})

    @api.post("/v1/completions")
    async def completions(self, request: HttpRequest) -> Response:
        key = self._key(request, "complete")
        if isinstance(key, Response):
            return key
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
        chosen = self._version(body.model, body.user or key.id)
        # The chosen version, then (should it fail) the heaviest other one.
        tries = [chosen]
        if (other := fallback(self.shares, chosen)) is not None:
            tries.append(other)
        started = time.perf_counter()
        requests, failures = body.engine_requests(), []
        for version in tries:
            self.metrics.requests.labels(version).inc()
            try:
                done = await self._complete(version, requests)
                break
            except Exception as error:
                self.metrics.errors.labels(version).inc()
                failures.append(f"model {version} failed: {type(error).__name__}")
        else:
            return self._error(503, "; ".join(failures), "model")
        seconds = time.perf_counter() - started
        self.metrics.latency.labels(version).observe(seconds)
        cleaned = [_redacted(c) for c in done]
        response = CompletionResponse.of(version, cleaned, seconds * 1000)
        shown = cleaned[0].choices[0].text if cleaned and cleaned[0].choices else ""
        self.served[response.id] = (version, body.prompts()[0], body.suffix or "", shown)
        self.metrics.tokens.labels(version).inc(response.usage.completion_tokens)
        return JSONResponse(response.model_dump())

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
        served = self.served.get(body.completion_id)
        if served is None:
            return self._error(404, f"unknown completion id {body.completion_id!r}", "unknown")
        record = feedback_record(body, served, key.id)
        await self.producer.produce(
            Topic.FEEDBACK, record.model_version, record.model_dump_json().encode()
        )
        self.metrics.feedback.labels(record.model_version, record.kind).inc()
        return JSONResponse({"id": record.id, "status": "accepted"}, status_code=202)

    async def _complete(self, version: str, requests: list[Request]) -> list[Completion]:
        """Each request's completion: greedy ones from the cache where asked before."""
        handle = self.models[version]
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
        if asked in self.models:
            return asked  # a client may pin a served version by name
        return pick_version(self.shares, user)

    def _key(self, request: HttpRequest, scope: Scope) -> ApiKey | Response:
        try:
            return authorize(request.headers.get("authorization"), self.keys, scope)
        except AuthError as refused:
            return self._error(refused.status, refused.reason, "auth")

    def _refused(self, request: HttpRequest, scope: Scope) -> Response | None:
        key = self._key(request, scope)
        return key if isinstance(key, Response) else None

    def _invalid(self, invalid: ValidationError) -> Response:
        """A 400 naming the first field at fault and why."""
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return self._error(400, f"{where}: {first['msg']}", "invalid")

    def _error(self, status: int, message: str, kind: str) -> Response:
        self.metrics.refused.labels(kind).inc()
        body = {"error": {"message": message, "type": kind, "code": status}}
        return JSONResponse(body, status_code=status)


def application(settings: Settings, versions: list[ServedVersion]) -> Any:
    """The Serve application: one model deployment per version behind the router."""
    models = {
        v.version: ModelServer.options(name=f"model-{v.version}").bind(v, settings)  # type: ignore[attr-defined]
        for v in versions
    }
    weights = {v.version: v.weight for v in versions}
    return Router.bind(models, weights, settings)  # type: ignore[attr-defined]


def start(settings: Settings, versions: list[ServedVersion]) -> None:
    """Start Ray (local, or join ``CODEMILL_RAY_ADDRESS``) and Serve's HTTP proxy at
    ``settings.serving`` host and port, then :func:`deploy` ``versions``."""
    import ray

    if not ray.is_initialized():
        ray.init(address=settings.ray_address or None, include_dashboard=False)
    serve.start(http_options={"host": settings.serving.host, "port": settings.serving.port})
    deploy(settings, versions)


def deploy(settings: Settings, versions: list[ServedVersion]) -> None:
    """Serve ``versions`` (replacing what was served; Serve keeps the old replicas answering
    until the new ones are up)."""
    serve.run(application(settings, versions), name=APP_NAME, route_prefix="/")
