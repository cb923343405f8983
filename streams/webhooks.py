"""Webhook payloads to events: signature checks, provider payload models and parsers.

Pure functions only; the HTTP receiver wires them to aiohttp and Kafka. Each push parser returns a
``WebhookResult``: ``Accepted(push)`` (publish it, answer 202), ``Ping()`` (answer 200 pong) or
``Ignored(reason)`` (an event we do not handle, answer 202 with the reason). Code-review comments
on diff lines (GitHub ``pull_request_review_comment``, GitLab ``Note Hook`` diff notes on merge
requests) have their own parsers, ``parse_github_review`` and ``parse_gitlab_note``, which return a
``ReviewResult``: ``AcceptedReview(comment)`` or ``Ignored(reason)``. A request we refuse
raises ``WebhookError`` carrying the HTTP status: 401 for a missing or wrong signature or token,
400 for a body that is not JSON or does not match the provider's shape (the reason names the field
path, e.g. ``repository.full_name: Field required``). Tag pushes, branch deletions and pushes with
no commits are valid pushes; the processor decides later that there is nothing to ingest.

The generic endpoint takes a flat shape close to GitHub's, so any tool can produce it::

    {
      "repository": "org/name",                        # required, the Kafka key
      "clone_url": "https://git.example.com/org/name.git",  # required; credentials are stripped
      "ref": "refs/heads/main",                        # optional, default ""
      "before": "<40 or 64 hex>",                      # optional, default all zeros
      "after": "<40 or 64 hex>",                       # optional, default all zeros (= deletion)
      "commits": [                                     # optional, default []
        {"id": "<40 or 64 hex>",                       # or "sha"
         "message": "...", "timestamp": "2024-05-01T12:00:00+00:00",
         "author": {"name": "...", "email": "..."},
         "added": ["path"], "modified": ["path"], "removed": ["path"]}
      ]
    }

``GenericPush.model_json_schema()`` gives the same shape as JSON Schema. Unknown keys are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from common.errors import ConfigError, WebhookError
from common.events import ZERO_SHA, PushCommit, PushEvent, PushSource, ReviewComment, ReviewSide
from common.ids import author_hash

GITHUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
GITLAB_TOKEN_HEADER = "X-Gitlab-Token"
GITLAB_PUSH_EVENTS = frozenset({"Push Hook", "Tag Push Hook"})
# an instance's system hook: every project's pushes, with the same payload and an object_kind
GITLAB_SYSTEM_HOOK = "System Hook"
GITLAB_SYSTEM_PUSH_KINDS = frozenset({"push", "tag_push"})
GITHUB_REVIEW_EVENTS = frozenset({"pull_request_review_comment", "pull_request_review"})
GITLAB_NOTE_EVENT = "Note Hook"

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_MAX_PROBLEMS = 5


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """A push to publish on ``codemill.git.push``."""

    push: PushEvent


@dataclass(frozen=True, slots=True)
class Ping:
    """GitHub's hook check; answer 200 "pong"."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed event that is not a push; answer 202 with ``reason``."""

    reason: str


WebhookResult = Accepted | Ping | Ignored


@dataclass(frozen=True, slots=True)
class AcceptedReview:
    """A review comment on diff lines to publish; answer 202."""

    comment: ReviewComment


ReviewResult = AcceptedReview | Ignored


# --- signatures ----------------------------------------------------------------------------------


def verify_github_signature(secret: bytes, body: bytes, header: str | None) -> None:
    """Check ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body.

    The comparison is constant-time. Raises ``WebhookError(401)`` when the header is missing,
    malformed or does not match.
    """
    _require_secret(secret)
    if not header:
        raise WebhookError(
            401,
            f"missing {GITHUB_SIGNATURE_HEADER} header: set the webhook's secret to the value of "
            "CODEMILL_WEBHOOK_SECRET so the provider signs each delivery",
        )
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        raise WebhookError(
            401,
            f"malformed {GITHUB_SIGNATURE_HEADER} header: expected 'sha256=' followed by 64 hex "
            "digits (the SHA-256 HMAC of the raw body)",
        )
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match.group(1).lower()):
        raise WebhookError(
            401,
            f"{GITHUB_SIGNATURE_HEADER} does not match the body: check that the webhook's secret "
            "equals CODEMILL_WEBHOOK_SECRET and that no proxy re-encodes the body",
        )


def verify_gitlab_token(secret: bytes, header: str | None) -> None:
    """Check ``X-Gitlab-Token`` against ``secret`` in constant time; ``WebhookError(401)`` if not.

    GitLab sends the secret itself, not a signature: serve this endpoint over HTTPS only.
    """
    _require_secret(secret)
    if not header:
        raise WebhookError(
            401,
            f"missing {GITLAB_TOKEN_HEADER} header: set the GitLab webhook's secret token to the "
            "value of CODEMILL_WEBHOOK_SECRET",
        )
    try:
        given = header.encode("utf-8")
    except UnicodeEncodeError:
        given = b""
    if not given or not hmac.compare_digest(secret, given):
        raise WebhookError(
            401,
            f"{GITLAB_TOKEN_HEADER} is wrong: set the GitLab webhook's secret token to the value "
            "of CODEMILL_WEBHOOK_SECRET",
        )


def _require_secret(secret: bytes) -> None:
    # An empty HMAC key is public knowledge: refuse it rather than accept forged pushes.
    if not secret:
        raise ConfigError(
            "the webhook secret is empty: set CODEMILL_WEBHOOK_SECRET, or skip verification "
            "explicitly with CODEMILL_ALLOW_UNSIGNED=1"
        )


# --- clone URLs ----------------------------------------------------------------------------------


def redact_url_credentials(url: str) -> str:
    """Strip credentials from a clone URL before it goes anywhere (Kafka, tables, logs).

    For http(s) the whole user part goes, since tokens ride there as user or password
    (``https://user:token@host/x.git`` and ``https://token@host/x.git`` → ``https://host/x.git``).
    Other schemes keep the user, which ssh needs, and lose only a password
    (``ssh://git:pw@host/x.git`` → ``ssh://git@host/x.git``). scp-like ``git@host:org/x.git`` has
    no secret and is returned unchanged.
    """
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url
    user = userinfo.partition(":")[0]
    keep_user = user and parts.scheme.lower() not in ("http", "https")
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if keep_user else host))


# --- payload models ------------------------------------------------------------------------------


def _check_sha(value: str) -> str:
    if _SHA.fullmatch(value) is None:
        raise PydanticCustomError("commit_sha", "must be a 40- or 64-character lowercase hex sha")
    return value


Sha = Annotated[str, AfterValidator(_check_sha)]
# Credentials in a clone URL would otherwise travel to Kafka and the tables.
CloneUrl = Annotated[str, AfterValidator(redact_url_credentials)]


class _Payload(BaseModel):
    # Providers add fields over time; we read only what we use.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CommitAuthor(_Payload):
    name: str = ""
    email: str = ""


class PayloadCommit(_Payload):
    """A commit as GitHub, GitLab and the generic shape list it (``id``, or ``sha`` for generic)."""

    id: Sha = Field(validation_alias=AliasChoices("id", "sha"))
    message: str = ""
    timestamp: datetime | None = None
    author: CommitAuthor = CommitAuthor()
    added: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


class GitHubRepository(_Payload):
    full_name: str = Field(min_length=1)
    clone_url: CloneUrl = Field(min_length=1)


class GitHubPush(_Payload):
    """The body of GitHub's ``push`` event (branch and tag pushes, creations and deletions)."""

    ref: str
    before: Sha
    after: Sha
    repository: GitHubRepository
    commits: list[PayloadCommit] = Field(default_factory=list)


class GitLabProject(_Payload):
    path_with_namespace: str = Field(min_length=1)
    git_http_url: CloneUrl | None = None


class GitLabRepository(_Payload):
    git_http_url: CloneUrl | None = None


class GitLabSystemEvent(_Payload):
    """What a system hook delivery is about (``event_name`` where ``object_kind`` is absent)."""

    object_kind: str = Field(default="", validation_alias=AliasChoices("object_kind", "event_name"))


class GitLabPush(_Payload):
    """The body of GitLab's ``Push Hook`` and ``Tag Push Hook``."""

    ref: str
    before: Sha
    after: Sha
    project: GitLabProject
    repository: GitLabRepository | None = None
    commits: list[PayloadCommit] = Field(default_factory=list)


class GenericPush(_Payload):
    """The generic push shape documented in this module's docstring."""

    repository: str = Field(min_length=1)
    clone_url: CloneUrl = Field(min_length=1)
    ref: str = ""
    before: Sha = ZERO_SHA
    after: Sha = ZERO_SHA
    commits: list[PayloadCommit] = Field(default_factory=list)


# --- parsers -------------------------------------------------------------------------------------


_FORM = "application/x-www-form-urlencoded"


def github_json(body: bytes, content_type: str | None) -> bytes:
    """The JSON of a verified GitHub delivery: the body itself, or its ``payload`` field when the
    webhook's content type is ``application/x-www-form-urlencoded`` (GitHub's other option; the
    signature covers the form body, so verify before this)."""
    if (content_type or "").split(";", 1)[0].strip().lower() != _FORM:
        return body
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError(400, f"form-encoded GitHub delivery is not a form: {exc}") from exc
    payload = fields.get("payload")
    if not payload:
        raise WebhookError(
            400,
            "form-encoded GitHub delivery has no 'payload' field (or set the webhook's "
            "content type to application/json)",
        )
    return payload[0].encode()


def parse_github(
    event: str | None, delivery: str | None, body: bytes, now: datetime
) -> WebhookResult:
    """Turn a verified GitHub delivery into a result; ``delivery`` is ``X-GitHub-Delivery``."""
    name = (event or "").strip()
    if not name:
        raise WebhookError(
            400,
            "missing X-GitHub-Event header: send GitHub webhooks to /webhooks/github and other "
            "pushes to /webhooks/generic",
        )
    if name == "ping":
        return Ping()
    if name != "push":
        return Ignored(f"GitHub event {name!r} is not a push; only push and ping are handled")
    payload = _validate(GitHubPush, body, "GitHub push")
    return Accepted(
        _push_event(
            source="github",
            event_id=_event_id(delivery, body),
            repo=payload.repository.full_name,
            clone_url=payload.repository.clone_url,
            payload=payload,
            now=now,
        )
    )


def parse_gitlab(
    event: str | None, body: bytes, now: datetime, *, delivery: str | None = None
) -> WebhookResult:
    """Turn a verified GitLab delivery into a result.

    ``event`` is ``X-Gitlab-Event``; ``delivery`` is ``X-Gitlab-Event-UUID`` or ``Idempotency-Key``
    where the GitLab version sends one, else the event id is a hash of the body.
    """
    name = (event or "").strip()
    if not name:
        raise WebhookError(
            400,
            "missing X-Gitlab-Event header: send GitLab webhooks to /webhooks/gitlab and other "
            "pushes to /webhooks/generic",
        )
    if name == GITLAB_SYSTEM_HOOK:
        kind = _validate(GitLabSystemEvent, body, "GitLab System Hook").object_kind
        if kind not in GITLAB_SYSTEM_PUSH_KINDS:
            return Ignored(f"GitLab system event {kind!r} is not a push; only push and tag_push")
    elif name not in GITLAB_PUSH_EVENTS:
        return Ignored(
            f"GitLab event {name!r} is not a push; only Push Hook, Tag Push Hook and System Hook"
        )
    payload = _validate(GitLabPush, body, f"GitLab {name}")
    return Accepted(
        _push_event(
            source="gitlab",
            event_id=_event_id(delivery, body),
            repo=payload.project.path_with_namespace,
            clone_url=_gitlab_clone_url(payload.project, payload.repository, f"GitLab {name}"),
            payload=payload,
            now=now,
        )
    )


def parse_generic(body: bytes, now: datetime, *, delivery: str | None = None) -> Accepted:
    """Turn a generic push (shape in the module docstring) into a result.

    ``delivery`` is an optional idempotency key from the caller, else the body's hash.
    """
    payload = _validate(GenericPush, body, "generic push")
    return Accepted(
        _push_event(
            source="generic",
            event_id=_event_id(delivery, body),
            repo=payload.repository,
            clone_url=payload.clone_url,
            payload=payload,
            now=now,
        )
    )


def _gitlab_clone_url(
    project: GitLabProject, repository: GitLabRepository | None, what: str
) -> str:
    clone_url = project.git_http_url or (repository.git_http_url if repository else None)
    if not clone_url:
        raise WebhookError(
            400,
            f"{what} payload is invalid: project.git_http_url: Field required "
            "(and no repository.git_http_url to fall back on)",
        )
    return clone_url


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(model: type[_Model], body: bytes, what: str) -> _Model:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise _as_webhook_error(error, what) from None


def _as_webhook_error(error: ValidationError, what: str) -> WebhookError:
    problems = error.errors(include_url=False, include_input=False)
    if problems and problems[0]["type"] == "json_invalid":
        message = problems[0]["msg"].removeprefix("Invalid JSON: ")
        return WebhookError(
            400, f"body is not valid JSON: {message} (send the payload as application/json)"
        )
    shown = "; ".join(f"{_field_path(p['loc'])}: {p['msg']}" for p in problems[:_MAX_PROBLEMS])
    more = len(problems) - _MAX_PROBLEMS
    if more > 0:
        shown += f"; and {more} more"
    return WebhookError(400, f"{what} payload is invalid: {shown}")


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``("commits", 0, "id")`` → ``"commits[0].id"``; the empty path is the whole ``body``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "body"


def _event_id(delivery: str | None, body: bytes) -> str:
    # Without a delivery id the body is the identity: a redelivery of the same body dedupes.
    key = (delivery or "").strip()
    return key or "sha256:" + hashlib.sha256(body).hexdigest()


def _push_event(
    *,
    source: PushSource,
    event_id: str,
    repo: str,
    clone_url: str,
    payload: GitHubPush | GitLabPush | GenericPush,
    now: datetime,
) -> PushEvent:
    return PushEvent(
        event_id=event_id,
        source=source,
        repo=repo,
        clone_url=clone_url,
        ref=payload.ref,
        before=payload.before,
        after=payload.after,
        commits=[_push_commit(c) for c in payload.commits],
        received_at=now,
    )


def _push_commit(commit: PayloadCommit) -> PushCommit:
    return PushCommit(
        sha=commit.id,
        message=commit.message,
        author_name=commit.author.name,
        author_email=commit.author.email,
        timestamp=commit.timestamp,
        added=commit.added,
        modified=commit.modified,
        removed=commit.removed,
    )


# --- review comments -----------------------------------------------------------------------------


class _GitHubAction(_Payload):
    action: str


Line = Annotated[int, Field(ge=1)]


class GitHubUser(_Payload):
    login: str = Field(min_length=1)


class GitHubReviewComment(_Payload):
    """A comment on diff lines, as ``pull_request_review_comment`` sends it.

    ``diff_hunk`` is cut at the comment's original position, so the ``original_*`` fields are the
    ones that agree with it; the plain ones move with later pushes and are null once outdated.
    """

    path: str = Field(min_length=1)
    commit_id: Sha
    original_commit_id: Sha | None = None
    diff_hunk: str = ""
    line: Line | None = None
    original_line: Line | None = None
    start_line: Line | None = None
    original_start_line: Line | None = None
    side: ReviewSide | None = None
    body: str = ""
    user: GitHubUser
    created_at: datetime
    html_url: str = ""


class GitHubPullRequestRef(_Payload):
    number: int = Field(ge=1)


class GitHubReviewCommentEvent(_Payload):
    """The body of GitHub's ``pull_request_review_comment`` event (created or edited)."""

    action: str
    comment: GitHubReviewComment
    pull_request: GitHubPullRequestRef
    repository: GitHubRepository


def _gitlab_time(value: Any) -> Any:
    # GitLab's hook examples write "2015-05-17 18:21:36 UTC", which is not ISO 8601.
    if isinstance(value, str) and value.endswith(" UTC"):
        return value.removesuffix(" UTC").replace(" ", "T", 1) + "+00:00"
    return value


GitLabTime = Annotated[datetime, BeforeValidator(_gitlab_time)]


class _GitLabNoteKindAttributes(_Payload):
    noteable_type: str = ""
    system: bool = False
    position: dict[str, Any] | None = None


class _GitLabNoteKind(_Payload):
    # Read first, so notes on issues or commits are ignored without demanding review fields.
    object_attributes: _GitLabNoteKindAttributes


class GitLabLine(_Payload):
    old_line: Line | None = None
    new_line: Line | None = None


class GitLabLineRange(_Payload):
    start: GitLabLine
    end: GitLabLine


class GitLabPosition(_Payload):
    """Where a diff note sits: ``head_sha`` is the commit of the new side."""

    head_sha: Sha
    position_type: str = "text"
    old_path: str | None = None
    new_path: str | None = None
    old_line: Line | None = None
    new_line: Line | None = None
    line_range: GitLabLineRange | None = None


class GitLabNoteAttributes(_Payload):
    note: str
    position: GitLabPosition
    created_at: GitLabTime
    url: str = ""


class GitLabUser(_Payload):
    username: str = Field(min_length=1)


class GitLabMergeRequestRef(_Payload):
    iid: int = Field(ge=1)


class GitLabNote(_Payload):
    """The body of GitLab's ``Note Hook`` for a diff note on a merge request."""

    user: GitLabUser
    project: GitLabProject
    repository: GitLabRepository | None = None
    object_attributes: GitLabNoteAttributes
    merge_request: GitLabMergeRequestRef


def parse_github_review(event: str | None, delivery: str | None, body: bytes) -> ReviewResult:
    """Turn a verified GitHub review delivery into a result; ``delivery`` is ``X-GitHub-Delivery``.

    ``pull_request_review_comment`` created or edited is accepted; a deleted comment, a comment
    on a whole file (no line) and every other event are ignored with a reason.
    ``pull_request_review`` is ignored too: the line comments of a review arrive as their own
    ``pull_request_review_comment`` events, and the review's body alone has no line range.
    """
    name = (event or "").strip()
    if name not in GITHUB_REVIEW_EVENTS:
        return Ignored(f"GitHub event {name!r} is not a review comment")
    if name == "pull_request_review":
        return Ignored(
            "GitHub pull_request_review carries no line range; its line comments arrive as "
            "pull_request_review_comment events"
        )
    action = _validate(_GitHubAction, body, "GitHub pull_request_review_comment").action
    if action not in ("created", "edited"):
        return Ignored(f"GitHub review comment action {action!r} is not created or edited")
    payload = _validate(GitHubReviewCommentEvent, body, "GitHub pull_request_review_comment")
    comment = payload.comment
    anchored = comment.original_line is not None
    line = comment.original_line if anchored else comment.line
    start_line = comment.original_start_line if anchored else comment.start_line
    if line is None:
        return Ignored("GitHub review comment is on a whole file, not on lines")
    if start_line is not None and start_line > line:
        raise WebhookError(
            400,
            f"GitHub pull_request_review_comment payload is invalid: comment.start_line "
            f"{start_line} is after comment.line {line}",
        )
    return AcceptedReview(
        ReviewComment(
            event_id=_event_id(delivery, body),
            source="github",
            repo=payload.repository.full_name,
            clone_url=payload.repository.clone_url,
            pull_request=payload.pull_request.number,
            commit=(comment.original_commit_id if anchored else None) or comment.commit_id,
            path=comment.path,
            start_line=start_line,
            line=line,
            side=comment.side or "RIGHT",
            body=comment.body,
            diff_hunk=comment.diff_hunk,
            author_hash=author_hash(comment.user.login),
            created_at=comment.created_at,
            url=comment.html_url,
        )
    )


def parse_gitlab_note(
    event: str | None, body: bytes, *, delivery: str | None = None
) -> ReviewResult:
    """Turn a verified GitLab ``Note Hook`` into a result; ``delivery`` as for ``parse_gitlab``.

    Only a diff note on a merge request (one with a text ``position``) is accepted; notes on
    issues, commits and snippets, general merge-request comments, image notes and system notes
    are ignored with a reason. GitLab sends no diff hunk, so the comment's ``diff_hunk`` is empty.
    """
    name = (event or "").strip()
    if name != GITLAB_NOTE_EVENT:
        return Ignored(f"GitLab event {name!r} is not a {GITLAB_NOTE_EVENT}")
    what = f"GitLab {name}"
    kind = _validate(_GitLabNoteKind, body, what).object_attributes
    if kind.noteable_type != "MergeRequest":
        return Ignored(f"GitLab note on a {kind.noteable_type or 'unknown'} is not a review")
    if kind.system or kind.position is None:
        return Ignored("GitLab note is not on diff lines (a general or system note)")
    payload = _validate(GitLabNote, body, what)
    note = payload.object_attributes
    position = note.position
    if position.position_type != "text":
        return Ignored(f"GitLab diff note on a {position.position_type} has no line range")
    side: ReviewSide = "RIGHT" if position.new_line is not None else "LEFT"
    line = position.new_line if side == "RIGHT" else position.old_line
    path = position.new_path if side == "RIGHT" else position.old_path
    if line is None or not path:
        raise WebhookError(
            400,
            f"{what} payload is invalid: object_attributes.position.new_line: Field required "
            "(a diff note names new_line and new_path, or old_line and old_path)",
        )
    return AcceptedReview(
        ReviewComment(
            event_id=_event_id(delivery, body),
            source="gitlab",
            repo=payload.project.path_with_namespace,
            clone_url=_gitlab_clone_url(payload.project, payload.repository, what),
            pull_request=payload.merge_request.iid,
            commit=position.head_sha,
            path=path,
            start_line=_gitlab_start_line(position.line_range, side, line),
            line=line,
            side=side,
            body=note.note,
            author_hash=author_hash(payload.user.username),
            created_at=note.created_at,
            url=note.url,
        )
    )


def _gitlab_start_line(
    line_range: GitLabLineRange | None, side: ReviewSide, line: int
) -> int | None:
    """The first line of a multi-line note on ``side``; None for one line or a mixed range."""
    if line_range is None:
        return None
    start = line_range.start.new_line if side == "RIGHT" else line_range.start.old_line
    return start if start is not None and start < line else None


# --- de-duplication ------------------------------------------------------------------------------


class DeliveryLog:
    """The last ``capacity`` delivery ids, to drop provider redeliveries (``X-GitHub-Delivery``).

    ``seen`` records an id and says whether it was already there. If publishing the push then
    fails, ``forget`` the id so the provider's retry is not dropped as a duplicate.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"DeliveryLog capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, delivery_id: str) -> bool:
        with self._lock:
            if delivery_id in self._ids:
                self._ids.move_to_end(delivery_id)
                return True
            self._ids[delivery_id] = None
            if len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            return False

    def forget(self, delivery_id: str) -> None:
        with self._lock:
            self._ids.pop(delivery_id, None)

    def __len__(self) -> int:
        return len(self._ids)
