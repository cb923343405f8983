"""The webhook receiver: authenticated pushes and review comments in, ``PushEvent`` and
``ReviewComment`` on ``codemill.git.push`` out.

A push is answered 202 only after its commits are in the Delta ledger as ``received`` and the
broker acknowledged the event, so an accepted push is never lost: if the broker dies, the stack
re-derives it from the ledger when it starts again. A review comment is answered 202 once the
broker acknowledged it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common.errors import WebhookError
from common.names import Topic
from common.settings import Settings
from streams import metrics
from streams.kafka import AsyncProducer
from streams.ledger import record_received
from streams.webhooks import (
    GITHUB_REVIEW_EVENTS,
    GITLAB_NOTE_EVENT,
    Accepted,
    AcceptedReview,
    DeliveryLog,
    Ignored,
    Ping,
    ReviewResult,
    WebhookResult,
    github_json,
    parse_generic,
    parse_github,
    parse_github_review,
    parse_gitlab,
    parse_gitlab_note,
    verify_github_signature,
    verify_gitlab_token,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.Response]]
PROVIDERS = ("github", "gitlab", "generic")


def _authenticate(settings: Settings, provider: str, request: web.Request, body: bytes) -> None:
    secret = settings.webhook.secret
    if secret is None or not secret.get_secret_value():
        if settings.allow_unsigned:
            return
        raise WebhookError(
            401,
            "this receiver has no webhook secret: set CODEMILL_WEBHOOK_SECRET (and the same "
            "secret on the webhook), or CODEMILL_ALLOW_UNSIGNED=1 for trusted local use",
        )
    key = secret.get_secret_value().encode()
    if provider == "gitlab":
        verify_gitlab_token(key, request.headers.get("X-Gitlab-Token"))
    else:
        verify_github_signature(key, body, request.headers.get("X-Hub-Signature-256"))


def _parse(provider: str, request: web.Request, body: bytes) -> WebhookResult | ReviewResult:
    now = datetime.now(UTC)
    headers = request.headers
    if provider == "github":
        event, delivery = headers.get("X-GitHub-Event"), headers.get("X-GitHub-Delivery")
        body = github_json(body, headers.get("Content-Type"))
        if (event or "").strip() in GITHUB_REVIEW_EVENTS:
            return parse_github_review(event, delivery, body)
        return parse_github(event, delivery, body, now)
    if provider == "gitlab":
        event = headers.get("X-Gitlab-Event")
        delivery = headers.get("X-Gitlab-Event-UUID") or headers.get("Idempotency-Key")
        if (event or "").strip() == GITLAB_NOTE_EVENT:
            return parse_gitlab_note(event, body, delivery=delivery)
        return parse_gitlab(event, body, now, delivery=delivery)
    return parse_generic(body, now, delivery=headers.get("Idempotency-Key"))


class Receiver:
    """Holds the producer and the delivery log; one aiohttp handler per provider."""

    def __init__(self, settings: Settings, producer: AsyncProducer) -> None:
        self.settings = settings
        self.producer = producer
        self.deliveries = DeliveryLog(max(1, settings.webhook.delivery_cache))

    async def handle(self, provider: str, request: web.Request) -> web.Response:
        try:
            response = await self._handle(provider, request)
        except WebhookError as exc:
            response = web.json_response({"error": exc.reason}, status=exc.status)
        except web.HTTPRequestEntityTooLarge:
            limit = self.settings.webhook.max_body_bytes
            response = web.json_response(
                {"error": f"body larger than {limit} bytes (CODEMILL_WEBHOOK_MAX_BODY_BYTES)"},
                status=413,
            )
        metrics.WEBHOOKS.labels(provider, str(response.status)).inc()
        return response

    async def _handle(self, provider: str, request: web.Request) -> web.Response:
        limit = self.settings.webhook.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
        body = await request.read()
        _authenticate(self.settings, provider, request, body)
        result = _parse(provider, request, body)
        if isinstance(result, Ping):
            return web.json_response({"status": "pong"})
        if isinstance(result, Ignored):
            return web.json_response({"status": "ignored", "reason": result.reason}, status=202)
        if isinstance(result, AcceptedReview):
            return await self._publish_review(result)
        return await self._publish(result)

    async def _publish_review(self, result: AcceptedReview) -> web.Response:
        comment = result.comment
        if self.deliveries.seen(comment.event_id):
            return web.json_response({"status": "duplicate", "event_id": comment.event_id})
        try:
            value = comment.model_dump_json().encode()
            await self.producer.produce(Topic.GIT_PUSH, comment.repo, value)
        except Exception as exc:
            self.deliveries.forget(comment.event_id)
            log.exception("could not publish review comment %s", comment.event_id)
            raise WebhookError(503, f"review comment not stored, retry later: {exc}") from exc
        metrics.REVIEWS.labels(comment.source).inc()
        body = {"status": "accepted", "event_id": comment.event_id, "kind": "review_comment"}
        return web.json_response(body, status=202)

    async def _publish(self, result: Accepted) -> web.Response:
        push = result.push
        if self.deliveries.seen(push.event_id):
            return web.json_response({"status": "duplicate", "event_id": push.event_id})
        try:
            shas = [] if push.is_deletion else [c.sha for c in push.commits]
            await asyncio.to_thread(record_received, self.settings, push, shas)
            await self.producer.produce(Topic.GIT_PUSH, push.repo, push.model_dump_json().encode())
        except Exception as exc:
            self.deliveries.forget(push.event_id)
            log.exception("could not publish push %s", push.event_id)
            raise WebhookError(503, f"push not stored, retry later: {exc}") from exc
        metrics.PUSHES.labels(push.source).inc()
        body = {"status": "accepted", "event_id": push.event_id, "commits": len(push.commits)}
        return web.json_response(body, status=202)


def create_receiver(settings: Settings, producer: AsyncProducer) -> web.Application:
    receiver = Receiver(settings, producer)
    # aiohttp refuses larger bodies itself; our own check above answers with a reason first.
    app = web.Application(client_max_size=settings.webhook.max_body_bytes)

    def route(provider: str) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            return await receiver.handle(provider, request)

        return handler

    for provider in PROVIDERS:
        app.router.add_post(f"/webhooks/{provider}", route(provider))
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
