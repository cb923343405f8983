"""Webhook signature checks and payload parsing, on real GitHub deliveries and GitLab's documented
payload shapes. No server: the receiver's pure part only."""

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from common.errors import ConfigError, WebhookError
from common.events import ZERO_SHA, ReviewComment
from common.ids import author_hash
from streams.webhooks import (
    Accepted,
    AcceptedReview,
    DeliveryLog,
    GenericPush,
    Ignored,
    Ping,
    github_json,
    parse_generic,
    parse_github,
    parse_github_review,
    parse_gitlab,
    parse_gitlab_note,
    redact_url_credentials,
    verify_github_signature,
    verify_gitlab_token,
)

# Real GitHub deliveries (copied from the shared fixtures, so the suite runs from any clone).
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github-webhooks"
SECRET = b"test-webhook-secret"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SHA_A = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def accepted(result: object) -> Accepted:
    assert isinstance(result, Accepted), result
    return result


def refused(status: int, call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(WebhookError) as info:
        call(*args, **kwargs)
    assert info.value.status == status
    return info.value.reason


# GitLab's documented Push Hook example (trimmed of avatar and user fields we do not read).
GITLAB_PUSH: dict[str, Any] = {
    "object_kind": "push",
    "event_name": "push",
    "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
    "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    "ref": "refs/heads/master",
    "ref_protected": True,
    "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    "user_id": 4,
    "user_name": "John Smith",
    "user_username": "jsmith",
    "user_email": "john@example.com",
    "project_id": 15,
    "project": {
        "id": 15,
        "name": "Diaspora",
        "description": "",
        "web_url": "http://example.com/mike/diaspora",
        "avatar_url": None,
        "git_ssh_url": "git@example.com:mike/diaspora.git",
        "git_http_url": "http://example.com/mike/diaspora.git",
        "namespace": "Mike",
        "visibility_level": 0,
        "path_with_namespace": "mike/diaspora",
        "default_branch": "master",
        "homepage": "http://example.com/mike/diaspora",
        "url": "git@example.com:mike/diaspora.git",
        "ssh_url": "git@example.com:mike/diaspora.git",
        "http_url": "http://example.com/mike/diaspora.git",
    },
    "repository": {
        "name": "Diaspora",
        "url": "git@example.com:mike/diaspora.git",
        "description": "",
        "homepage": "http://example.com/mike/diaspora",
        "git_http_url": "http://example.com/mike/diaspora.git",
        "git_ssh_url": "git@example.com:mike/diaspora.git",
        "visibility_level": 0,
    },
    "commits": [
        {
            "id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
            "message": "Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab",
            "title": "Update Catalan translation to e38cb41.",
            "timestamp": "2011-12-12T14:27:31+02:00",
            "url": "http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
            "author": {"name": "Jordi Mallach", "email": "jordi@softcatala.org"},
            "added": ["CHANGELOG"],
            "modified": ["app/controller/application.rb"],
            "removed": [],
        },
        {
            "id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            "message": "fixed readme",
            "title": "fixed readme",
            "timestamp": "2012-01-03T23:36:29+02:00",
            "url": "http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            "author": {"name": "GitLab dev user", "email": "gitlabdev@dv6700.(none)"},
            "added": ["CHANGELOG"],
            "modified": ["app/controller/application.rb"],
            "removed": [],
        },
    ],
    "total_commits_count": 4,
    "push_options": {},
}

GITLAB_BRANCH_DELETION: dict[str, Any] = {
    **GITLAB_PUSH,
    "before": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    "after": ZERO_SHA,
    "ref": "refs/heads/feature/old",
    "checkout_sha": None,
    "commits": [],
    "total_commits_count": 0,
}

GITLAB_TAG_PUSH: dict[str, Any] = {
    **GITLAB_PUSH,
    "object_kind": "tag_push",
    "event_name": "tag_push",
    "before": ZERO_SHA,
    "after": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
    "ref": "refs/tags/v1.0.0",
    "checkout_sha": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
    "message": "Tag message",
    "commits": [],
    "total_commits_count": 0,
}


def test_fixture_path_resolves() -> None:
    assert FIXTURES.is_dir(), FIXTURES
    for name in ("ping-payload.json", "push-payload.json", "push-with-new-branch.json"):
        assert (FIXTURES / name).is_file()


# --- GitHub signature ----------------------------------------------------------------------------


def test_valid_signature_on_a_real_delivery_passes() -> None:
    body = fixture("push-with-new-branch.json")
    verify_github_signature(SECRET, body, sign(body))


def test_uppercase_hex_signature_passes() -> None:
    body = fixture("push-with-new-branch.json")
    verify_github_signature(SECRET, body, sign(body).upper().replace("SHA256=", "sha256="))


def test_signature_under_another_secret_is_refused_without_echoing_the_digest() -> None:
    body = fixture("push-with-new-branch.json")
    reason = refused(401, verify_github_signature, SECRET, body, sign(body, b"other"))
    assert "does not match" in reason
    assert "CODEMILL_WEBHOOK_SECRET" in reason
    assert sign(body).removeprefix("sha256=") not in reason


def test_tampered_body_is_refused() -> None:
    body = fixture("push-with-new-branch.json")
    tampered = body.replace(b"Codertocat/Hello-World", b"Attacker/Hello-World")
    assert tampered != body
    assert "does not match" in refused(401, verify_github_signature, SECRET, tampered, sign(body))


def test_last_hex_digit_off_by_one_is_refused() -> None:
    body = b"{}"
    good = sign(body)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    refused(401, verify_github_signature, SECRET, body, bad)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_is_refused(header: str | None) -> None:
    reason = refused(401, verify_github_signature, SECRET, b"{}", header)
    assert reason.startswith("missing X-Hub-Signature-256")


@pytest.mark.parametrize(
    "header",
    [
        "sha1=" + hashlib.sha1(b"{}").hexdigest(),
        "sha256=" + "a" * 63,
        "sha256=" + "g" * 64,
        "a" * 64,
        "sha256:" + "a" * 64,
    ],
)
def test_malformed_signature_is_refused(header: str) -> None:
    assert "malformed" in refused(401, verify_github_signature, SECRET, b"{}", header)


def test_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = b'{"x": 1}'
    verify_github_signature(SECRET, body, sign(body))
    refused(401, verify_github_signature, SECRET, body, sign(b"other"))
    verify_gitlab_token(SECRET, SECRET.decode())
    assert len(calls) == 3


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="CODEMILL_WEBHOOK_SECRET"):
        verify_github_signature(b"", b"{}", sign(b"{}", b""))
    with pytest.raises(ConfigError):
        verify_gitlab_token(b"", "")


# --- GitLab token --------------------------------------------------------------------------------


def test_gitlab_token() -> None:
    verify_gitlab_token(SECRET, SECRET.decode())
    assert "is wrong" in refused(401, verify_gitlab_token, SECRET, "not-the-secret")
    assert "is wrong" in refused(401, verify_gitlab_token, SECRET, SECRET.decode() + "x")
    assert "is wrong" in refused(401, verify_gitlab_token, SECRET, "\ud800")
    assert refused(401, verify_gitlab_token, SECRET, None).startswith("missing X-Gitlab-Token")
    assert refused(401, verify_gitlab_token, SECRET, "").startswith("missing X-Gitlab-Token")


# --- GitHub events -------------------------------------------------------------------------------


def test_github_ping() -> None:
    body = fixture("ping-payload.json")
    verify_github_signature(SECRET, body, sign(body))
    assert parse_github("ping", "d-1", body, NOW) == Ping()


def test_github_push_creating_a_branch() -> None:
    body = fixture("push-with-new-branch.json")
    verify_github_signature(SECRET, body, sign(body))
    push = accepted(parse_github("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958", body, NOW)).push
    assert push.source == "github"
    assert push.event_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert push.repo == "Codertocat/Hello-World"
    assert push.clone_url == "https://github.com/Codertocat/Hello-World.git"
    assert (push.ref, push.before, push.after) == ("refs/heads/master", ZERO_SHA, SHA_A)
    assert push.is_branch and not push.is_deletion
    assert push.received_at == NOW
    [commit] = push.commits
    assert commit.sha == SHA_A
    assert commit.message == "Initial commit"
    assert commit.author_name == "Codertocat"
    assert commit.author_email == "21031067+Codertocat@users.noreply.github.com"
    assert commit.timestamp == datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)
    assert (commit.added, commit.modified, commit.removed) == (["README.md"], [], [])


def test_github_tag_deletion_parses_with_no_commits() -> None:
    body = fixture("push-payload.json")
    verify_github_signature(SECRET, body, sign(body))
    push = accepted(parse_github("push", "d-2", body, NOW)).push
    assert push.ref == "refs/tags/simple-tag"
    assert push.before == SHA_A
    assert push.is_deletion and not push.is_branch
    assert push.commits == []


def test_github_push_with_zero_commits_on_a_branch() -> None:
    payload = json.loads(fixture("push-with-new-branch.json"))
    payload.update(commits=[], head_commit=None, before=SHA_A, after=SHA_A)
    push = accepted(parse_github("push", "d-3", encode(payload), NOW)).push
    assert push.is_branch and push.commits == []


def test_github_other_events_are_ignored_without_reading_the_body() -> None:
    result = parse_github("issues", "d-4", b"not json", NOW)
    assert isinstance(result, Ignored)
    assert "'issues'" in result.reason


@pytest.mark.parametrize("event", [None, "", "  "])
def test_github_missing_event_header_is_a_bad_request(event: str | None) -> None:
    reason = refused(400, parse_github, event, "d-5", fixture("push-payload.json"), NOW)
    assert "X-GitHub-Event" in reason


@pytest.mark.parametrize("delivery", [None, ""])
def test_github_event_id_without_delivery_is_a_hash_of_the_body(delivery: str | None) -> None:
    body = fixture("push-payload.json")
    first = accepted(parse_github("push", delivery, body, NOW)).push.event_id
    again = accepted(parse_github("push", delivery, body, NOW)).push.event_id
    other = accepted(parse_github("push", delivery, body + b"\n", NOW)).push.event_id
    assert first == again == "sha256:" + hashlib.sha256(body).hexdigest()
    assert other != first


def test_github_clone_url_credentials_are_stripped() -> None:
    payload = json.loads(fixture("push-with-new-branch.json"))
    payload["repository"]["clone_url"] = "https://x-access-token:ghs_secret@github.com/o/r.git"
    push = accepted(parse_github("push", "d-6", encode(payload), NOW)).push
    assert push.clone_url == "https://github.com/o/r.git"
    assert "ghs_secret" not in push.model_dump_json()


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"{", b"payload=%7B%7D", b"\xff\xfe", b"[" * 10_000])
def test_body_that_is_not_json_is_a_bad_request(body: bytes) -> None:
    assert refused(400, parse_github, "push", "d", body, NOW).startswith("body is not valid JSON: ")


def test_body_that_is_not_an_object_is_a_bad_request() -> None:
    assert "body: " in refused(400, parse_generic, b"[1, 2]", NOW)


def test_missing_field_is_named() -> None:
    payload = json.loads(fixture("push-with-new-branch.json"))
    del payload["repository"]["full_name"]
    reason = refused(400, parse_github, "push", "d", encode(payload), NOW)
    assert "repository.full_name: Field required" in reason


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("commits[0].id", SHA_A.upper()),
        ("commits[0].id", SHA_A[:12]),
        ("commits[0].id", SHA_A + "0"),
        ("before", "main"),
        ("after", ""),
    ],
)
def test_bad_sha_is_named(field: str, value: str) -> None:
    payload = json.loads(fixture("push-with-new-branch.json"))
    if field == "commits[0].id":
        payload["commits"][0]["id"] = value
    else:
        payload[field] = value
    reason = refused(400, parse_github, "push", "d", encode(payload), NOW)
    assert f"{field}: must be a 40- or 64-character lowercase hex sha" in reason


def test_sha256_repositories_are_accepted() -> None:
    sha = hashlib.sha256(b"commit").hexdigest()
    body = encode({"repository": "o/r", "clone_url": "https://h/o/r.git", "after": sha})
    assert accepted(parse_generic(body, NOW)).push.after == sha


def test_bad_timestamp_and_types_are_named() -> None:
    payload = json.loads(fixture("push-with-new-branch.json"))
    payload["commits"][0]["timestamp"] = "yesterday"
    payload["commits"][0]["added"] = "README.md"
    reason = refused(400, parse_github, "push", "d", encode(payload), NOW)
    assert "commits[0].timestamp: " in reason
    assert "commits[0].added: Input should be a valid array" in reason


def test_many_problems_are_summarised() -> None:
    commits = [{"id": "bad"} for _ in range(8)]
    body = encode({"repository": "o/r", "clone_url": "https://h/o/r.git", "commits": commits})
    reason = refused(400, parse_generic, body, NOW)
    assert "commits[4].id" in reason and "commits[5].id" not in reason
    assert reason.endswith("; and 3 more")


# --- GitLab events -------------------------------------------------------------------------------


def test_gitlab_push_hook() -> None:
    push = accepted(parse_gitlab("Push Hook", encode(GITLAB_PUSH), NOW, delivery="uuid-1")).push
    assert push.source == "gitlab"
    assert push.event_id == "uuid-1"
    assert push.repo == "mike/diaspora"
    assert push.clone_url == "http://example.com/mike/diaspora.git"
    assert push.ref == "refs/heads/master"
    assert push.before == "95790bf891e76fee5e1747ab589903a6a1f80f22"
    assert push.after == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert [c.sha for c in push.commits] == [c["id"] for c in GITLAB_PUSH["commits"]]
    first = push.commits[0]
    assert first.author_name == "Jordi Mallach"
    assert first.author_email == "jordi@softcatala.org"
    assert first.message.startswith("Update Catalan translation")
    assert first.timestamp == datetime.fromisoformat("2011-12-12T14:27:31+02:00")
    assert (first.added, first.modified) == (["CHANGELOG"], ["app/controller/application.rb"])


def test_gitlab_tag_push_hook() -> None:
    push = accepted(parse_gitlab("Tag Push Hook", encode(GITLAB_TAG_PUSH), NOW)).push
    assert push.ref == "refs/tags/v1.0.0"
    assert push.commits == [] and not push.is_branch and not push.is_deletion


def test_gitlab_branch_deletion() -> None:
    push = accepted(parse_gitlab("Push Hook", encode(GITLAB_BRANCH_DELETION), NOW)).push
    assert push.is_deletion and push.is_branch and push.commits == []


def test_gitlab_event_id_without_delivery_is_a_hash_of_the_body() -> None:
    body = encode(GITLAB_PUSH)
    push = accepted(parse_gitlab("Push Hook", body, NOW)).push
    assert push.event_id == "sha256:" + hashlib.sha256(body).hexdigest()


def test_gitlab_clone_url_falls_back_to_repository_and_loses_credentials() -> None:
    payload = copy.deepcopy(GITLAB_PUSH)
    del payload["project"]["git_http_url"]
    payload["repository"]["git_http_url"] = "https://oauth2:glpat-secret@gitlab.example.com/m/d.git"
    push = accepted(parse_gitlab("Push Hook", encode(payload), NOW)).push
    assert push.clone_url == "https://gitlab.example.com/m/d.git"


def test_gitlab_without_any_clone_url_is_a_bad_request() -> None:
    payload = copy.deepcopy(GITLAB_PUSH)
    del payload["project"]["git_http_url"]
    del payload["repository"]
    reason = refused(400, parse_gitlab, "Push Hook", encode(payload), NOW)
    assert "project.git_http_url: Field required" in reason


def test_gitlab_missing_project_path_is_named() -> None:
    payload = copy.deepcopy(GITLAB_PUSH)
    del payload["project"]["path_with_namespace"]
    reason = refused(400, parse_gitlab, "Push Hook", encode(payload), NOW)
    assert "project.path_with_namespace: Field required" in reason


def test_gitlab_other_events_are_ignored_and_a_missing_header_is_refused() -> None:
    result = parse_gitlab("Merge Request Hook", b"{}", NOW)
    assert isinstance(result, Ignored) and "Merge Request Hook" in result.reason
    assert "X-Gitlab-Event" in refused(400, parse_gitlab, None, encode(GITLAB_PUSH), NOW)


# --- generic -------------------------------------------------------------------------------------


def test_generic_push_accepts_id_or_sha() -> None:
    body = encode(
        {
            "repository": "team/service",
            "clone_url": "https://ci:token@git.example.com/team/service.git",
            "ref": "refs/heads/main",
            "before": ZERO_SHA,
            "after": SHA_A,
            "commits": [
                {"id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "message": "one"},
                {
                    "sha": SHA_A,
                    "message": "two",
                    "timestamp": "2024-05-01T10:00:00Z",
                    "author": {"name": "Ada", "email": "ada@example.com"},
                    "added": ["a.py"],
                    "modified": ["b.py"],
                    "removed": ["c.py"],
                    "unknown_key": "ignored",
                },
            ],
        }
    )
    push = accepted(parse_generic(body, NOW, delivery="job-42")).push
    assert push.source == "generic" and push.event_id == "job-42"
    assert push.repo == "team/service"
    assert push.clone_url == "https://git.example.com/team/service.git"
    assert [c.sha for c in push.commits] == ["b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", SHA_A]
    second = push.commits[1]
    assert (second.author_name, second.added, second.removed) == ("Ada", ["a.py"], ["c.py"])


def test_generic_minimal_push_is_a_deletion_with_no_commits() -> None:
    body = encode({"repository": "o/r", "clone_url": "https://h/o/r.git"})
    push = accepted(parse_generic(body, NOW)).push
    assert push.is_deletion and push.commits == [] and push.ref == ""


def test_generic_missing_fields_are_named() -> None:
    reason = refused(400, parse_generic, encode({"repository": "o/r"}), NOW)
    assert "clone_url: Field required" in reason
    reason = refused(400, parse_generic, encode({"clone_url": "x", "commits": [{}]}), NOW)
    assert "repository: Field required" in reason and "commits[0].id: Field required" in reason


def test_generic_schema_is_documented_by_the_model() -> None:
    properties = GenericPush.model_json_schema()["properties"]
    assert {"repository", "clone_url", "ref", "before", "after", "commits"} <= set(properties)


# --- clone URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@host/x.git", "https://host/x.git"),
        ("https://token@host:8443/x.git", "https://host:8443/x.git"),
        ("http://a:b@[::1]:8080/x.git", "http://[::1]:8080/x.git"),
        ("https://u:p%40ss@host/x.git?ref=1", "https://host/x.git?ref=1"),
        ("ssh://git:pw@host/x.git", "ssh://git@host/x.git"),
        ("ssh://git@host/x.git", "ssh://git@host/x.git"),
        ("git@host:org/x.git", "git@host:org/x.git"),
        ("https://host/x.git", "https://host/x.git"),
        ("/srv/git/x.git", "/srv/git/x.git"),
    ],
)
def test_redact_url_credentials(url: str, expected: str) -> None:
    assert redact_url_credentials(url) == expected


def test_unparseable_clone_url_is_a_bad_request_naming_it() -> None:
    body = encode({"repository": "o/r", "clone_url": "http://[::1"})
    assert "clone_url: " in refused(400, parse_generic, body, NOW)


# --- delivery log --------------------------------------------------------------------------------


def test_delivery_log_reports_duplicates() -> None:
    log = DeliveryLog(capacity=10)
    assert log.seen("a") is False
    assert log.seen("a") is True
    assert log.seen("b") is False
    assert len(log) == 2


def test_delivery_log_evicts_the_least_recently_seen() -> None:
    log = DeliveryLog(capacity=2)
    log.seen("a")
    log.seen("b")
    assert log.seen("a") is True  # refreshes "a", so "b" is now the oldest
    assert log.seen("c") is False  # evicts "b"
    assert len(log) == 2
    assert log.seen("a") is True
    assert log.seen("b") is False  # forgotten, recorded again, evicting "c"
    assert log.seen("c") is False


def test_delivery_log_forget_lets_a_retry_through() -> None:
    log = DeliveryLog(capacity=2)
    log.seen("a")
    log.forget("a")
    log.forget("never-seen")
    assert log.seen("a") is False


def test_delivery_log_needs_room() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DeliveryLog(capacity=0)


# --- review comments -----------------------------------------------------------------------------

# GitHub's documented pull_request_review_comment shape, on a multi-line suggestion; GitLab's
# documented Note Hook shape for a diff note on a merge request.
REVIEW_COMMENT = "pull-request-review-comment.json"
GITLAB_NOTE = json.loads(
    (FIXTURES.parent / "gitlab-webhooks" / "merge-request-diff-note.json").read_text()
)


def review_payload() -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(fixture(REVIEW_COMMENT))
    return payload


def accepted_review(result: object) -> ReviewComment:
    assert isinstance(result, AcceptedReview), result
    return result.comment


def test_github_review_comment_created() -> None:
    body = fixture(REVIEW_COMMENT)
    comment = accepted_review(parse_github_review("pull_request_review_comment", "d-r1", body))
    assert comment.model_dump(exclude={"body", "diff_hunk"}) == {
        "schema_version": 1,
        "event": "review",
        "event_id": "d-r1",
        "source": "github",
        "repo": "Codertocat/Hello-World",
        "clone_url": "https://github.com/Codertocat/Hello-World.git",
        "pull_request": 2,
        "commit": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        "path": "src/pager.py",
        "start_line": 8,
        "line": 11,
        "side": "RIGHT",
        "author_hash": author_hash("Codertocat"),
        "created_at": datetime(2019, 5, 15, 15, 20, 37, tzinfo=UTC),
        "url": "https://github.com/Codertocat/Hello-World/pull/2#discussion_r284312630",
    }
    assert comment.body.startswith("A slice does this") and "```suggestion" in comment.body
    assert comment.diff_hunk.startswith("@@ -1,8 +1,11 @@")
    assert "Codertocat" not in comment.model_dump_json().replace("Codertocat/Hello-World", "")


def test_github_edited_comment_is_accepted_and_single_line_has_no_start() -> None:
    payload = review_payload()
    payload["action"] = "edited"
    payload["comment"].update(start_line=None, original_start_line=None, start_side=None)
    comment = accepted_review(
        parse_github_review("pull_request_review_comment", "d-r2", encode(payload))
    )
    assert (comment.start_line, comment.line) == (None, 11)


def test_github_outdated_comment_keeps_the_lines_its_hunk_was_cut_at() -> None:
    payload = review_payload()
    later = "1" * 40
    payload["action"] = "edited"
    payload["comment"].update(commit_id=later, line=None, start_line=None)
    comment = accepted_review(
        parse_github_review("pull_request_review_comment", "d-r3", encode(payload))
    )
    assert (comment.commit, comment.start_line, comment.line) == (
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        8,
        11,
    )


def test_github_deleted_and_file_level_comments_are_ignored() -> None:
    payload = review_payload()
    payload["action"] = "deleted"
    result = parse_github_review("pull_request_review_comment", "d", encode(payload))
    assert isinstance(result, Ignored) and "'deleted'" in result.reason
    payload["action"] = "created"
    payload["comment"].update(subject_type="file", line=None, original_line=None)
    payload["comment"].update(start_line=None, original_start_line=None)
    result = parse_github_review("pull_request_review_comment", "d", encode(payload))
    assert isinstance(result, Ignored) and "whole file" in result.reason


def test_github_review_itself_is_ignored_with_a_reason() -> None:
    result = parse_github_review("pull_request_review", "d", b"not even json")
    assert isinstance(result, Ignored)
    assert "pull_request_review_comment" in result.reason
    assert isinstance(parse_github_review("push", "d", b"{}"), Ignored)


def test_github_review_comment_missing_or_bad_fields_are_named() -> None:
    payload = review_payload()
    del payload["comment"]["path"]
    payload["comment"]["commit_id"] = "abc"
    payload["pull_request"]["number"] = "two"
    reason = refused(400, parse_github_review, "pull_request_review_comment", "d", encode(payload))
    assert reason.startswith("GitHub pull_request_review_comment payload is invalid: ")
    for field in ("comment.path", "comment.commit_id", "pull_request.number"):
        assert field in reason
    assert "action: Field required" in refused(
        400, parse_github_review, "pull_request_review_comment", "d", b"{}"
    )
    assert refused(400, parse_github_review, "pull_request_review_comment", "d", b"{").startswith(
        "body is not valid JSON: "
    )


def test_github_review_comment_lines_must_make_a_range() -> None:
    payload = review_payload()
    payload["comment"].update(original_start_line=12)
    reason = refused(400, parse_github_review, "pull_request_review_comment", "d", encode(payload))
    assert "comment.start_line 12 is after comment.line 11" in reason
    payload["comment"].update(original_start_line=None, original_line=0)
    reason = refused(400, parse_github_review, "pull_request_review_comment", "d", encode(payload))
    assert "comment.original_line: Input should be greater than or equal to 1" in reason


def test_github_review_comment_clone_url_loses_credentials() -> None:
    payload = review_payload()
    payload["repository"]["clone_url"] = "https://x-access-token:ghs_secret@github.com/o/r.git"
    comment = accepted_review(
        parse_github_review("pull_request_review_comment", "d", encode(payload))
    )
    assert comment.clone_url == "https://github.com/o/r.git"
    assert "ghs_secret" not in comment.model_dump_json()


def test_gitlab_diff_note_on_a_merge_request() -> None:
    body = encode(GITLAB_NOTE)
    comment = accepted_review(parse_gitlab_note("Note Hook", body, delivery="uuid-1"))
    assert comment.model_dump(exclude={"body"}) == {
        "schema_version": 1,
        "event": "review",
        "event_id": "uuid-1",
        "source": "gitlab",
        "repo": "gitlab-org/gitlab-test",
        "clone_url": "http://example.com/gitlab-org/gitlab-test.git",
        "pull_request": 1,
        "commit": "b83d6e391c22777fca1ed3012fce84f633d7fed0",
        "path": "src/pager.py",
        "start_line": 8,
        "line": 11,
        "side": "RIGHT",
        "diff_hunk": "",
        "author_hash": author_hash("root"),
        "created_at": datetime(2015, 5, 17, 18, 21, 36, tzinfo=UTC),
        "url": "http://example.com/gitlab-org/gitlab-test/-/merge_requests/1#note_1244",
    }
    assert comment.body.startswith("A slice stops at the end of the list:")
    again = accepted_review(parse_gitlab_note("Note Hook", body))
    assert again.event_id == "sha256:" + hashlib.sha256(body).hexdigest()


def test_gitlab_note_on_removed_lines_and_iso_times() -> None:
    payload = copy.deepcopy(GITLAB_NOTE)
    attributes = payload["object_attributes"]
    attributes["created_at"] = "2024-05-01T12:00:00.000Z"
    attributes["position"].update(new_line=None, old_line=7, line_range=None)
    comment = accepted_review(parse_gitlab_note("Note Hook", encode(payload)))
    assert (comment.side, comment.start_line, comment.line) == ("LEFT", None, 7)
    assert comment.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"noteable_type": "Issue"}, "on a Issue"),
        ({"position": None}, "not on diff lines"),
        ({"system": True}, "not on diff lines"),
    ],
)
def test_gitlab_notes_that_are_not_diff_notes_are_ignored(
    change: dict[str, Any], reason: str
) -> None:
    payload = copy.deepcopy(GITLAB_NOTE)
    payload["object_attributes"].update(change)
    result = parse_gitlab_note("Note Hook", encode(payload))
    assert isinstance(result, Ignored) and reason in result.reason


def test_gitlab_image_note_and_other_events_are_ignored() -> None:
    payload = copy.deepcopy(GITLAB_NOTE)
    payload["object_attributes"]["position"]["position_type"] = "image"
    assert isinstance(parse_gitlab_note("Note Hook", encode(payload)), Ignored)
    assert isinstance(parse_gitlab_note("Push Hook", encode(GITLAB_PUSH)), Ignored)


def test_gitlab_note_missing_fields_are_named() -> None:
    payload = copy.deepcopy(GITLAB_NOTE)
    del payload["merge_request"]
    del payload["object_attributes"]["position"]["head_sha"]
    reason = refused(400, parse_gitlab_note, "Note Hook", encode(payload))
    assert reason.startswith("GitLab Note Hook payload is invalid: ")
    assert "merge_request: Field required" in reason
    assert "object_attributes.position.head_sha: Field required" in reason
    payload = copy.deepcopy(GITLAB_NOTE)
    payload["object_attributes"]["position"].update(new_line=None, old_line=None)
    reason = refused(400, parse_gitlab_note, "Note Hook", encode(payload))
    assert "object_attributes.position.new_line" in reason
    payload = copy.deepcopy(GITLAB_NOTE)
    del payload["project"]["git_http_url"]
    reason = refused(400, parse_gitlab_note, "Note Hook", encode(payload))
    assert "project.git_http_url: Field required" in reason


def test_gitlab_note_clone_url_loses_credentials() -> None:
    payload = copy.deepcopy(GITLAB_NOTE)
    payload["project"]["git_http_url"] = "https://oauth2:glpat-secret@gitlab.example.com/g/p.git"
    comment = accepted_review(parse_gitlab_note("Note Hook", encode(payload)))
    assert comment.clone_url == "https://gitlab.example.com/g/p.git"
    assert "glpat-secret" not in comment.model_dump_json()


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "content_type", [FORM, FORM + "; charset=utf-8", "Application/X-WWW-Form-Urlencoded"]
)
def test_a_form_encoded_github_delivery_reads_as_its_json(content_type: str) -> None:
    payload = fixture("push-payload.json")
    form = urlencode({"payload": payload.decode()}).encode()
    assert github_json(form, content_type) == payload
    from_form = parse_github("push", "d-9", github_json(form, content_type), NOW)
    assert from_form == parse_github("push", "d-9", payload, NOW)


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_other_github_bodies_are_read_as_they_are(content_type: str | None) -> None:
    body = b"payload=not-decoded"
    assert github_json(body, content_type) == body


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        (b"ref=refs%2Fheads%2Fmain", "no 'payload' field"),
        (b"payload", "not a form"),
        (b"payload=%ff", "not a form"),
    ],
)
def test_a_form_without_a_payload_is_a_bad_request(form: bytes, reason: str) -> None:
    with pytest.raises(WebhookError) as error:
        github_json(form, FORM)
    assert error.value.status == 400 and reason in error.value.reason


def test_a_gitlab_system_hook_push_is_a_push() -> None:
    """An instance's system hook sends every project's pushes, in the Push Hook's payload."""
    system = {**GITLAB_PUSH, "object_kind": "push", "event_name": "push"}
    push = accepted(parse_gitlab("System Hook", encode(system), NOW, delivery="uuid-7")).push
    same = accepted(parse_gitlab("Push Hook", encode(system), NOW, delivery="uuid-7")).push
    assert push == same and push.repo == "mike/diaspora"
    named_only = {k: v for k, v in system.items() if k != "object_kind"}
    assert accepted(parse_gitlab("System Hook", encode(named_only), NOW)).push.repo == push.repo


def test_other_gitlab_system_events_are_ignored_and_garbage_refused() -> None:
    created = {"event_name": "project_create", "path_with_namespace": "mike/new"}
    result = parse_gitlab("System Hook", encode(created), NOW)
    assert isinstance(result, Ignored) and "project_create" in result.reason
    with pytest.raises(WebhookError) as error:
        parse_gitlab("System Hook", b"{not json", NOW)
    assert error.value.status == 400
