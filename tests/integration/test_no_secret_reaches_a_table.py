"""Planted secrets and personal data, in every place a repository can hold them, never reach any
Delta table: the history is backfilled through the real stack, then every table is read back
whole and searched for every planted value."""

import json
import random
import string
from pathlib import Path

import pytest

from common.lake import open_table, read_rows
from common.rows import TABLE_MODELS
from common.settings import Settings
from tests.integration.test_cli import run_cli
from tests.support.gitrepo import GitRepo

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def planted(seed: int = 7) -> dict[str, str]:
    """Realistic random values of many secret and PII kinds (fresh each run, never real)."""
    rng = random.Random(seed)
    up, low, dig = string.ascii_uppercase, string.ascii_lowercase, string.digits
    alnum = up + low + dig
    b64 = alnum + "+/"
    return {
        "aws_access_key_id": "AKIA" + _r(rng, up + dig, 16),
        "aws_secret": _r(rng, b64, 40),
        "github_token": "ghp_" + _r(rng, alnum, 36),
        "gitlab_token": "glpat-" + _r(rng, alnum + "-_", 20),
        "slack_token": f"xoxb-{_r(rng, dig, 12)}-{_r(rng, dig, 12)}-{_r(rng, alnum, 24)}",
        "stripe_key": "sk_live_" + _r(rng, alnum, 24),
        "sendgrid_key": f"SG.{_r(rng, alnum, 22)}.{_r(rng, alnum, 43)}",
        "google_api_key": "AIza" + _r(rng, alnum + "-_", 35),
        "npm_token": "npm_" + _r(rng, alnum, 36),
        "db_password": _r(rng, alnum, 10) + "!" + _r(rng, alnum, 6),
        "url_password": _r(rng, alnum, 14),
        "jwt": ".".join(
            (
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                "eyJzdWIiOiI" + _r(rng, alnum, 30),
                _r(rng, alnum + "-_", 43),
            )
        ),
        "pem_line": _r(rng, b64, 64),
        "email": f"{_r(rng, low, 8)}.{_r(rng, low, 6)}@corp-{_r(rng, low, 5)}.com",
        "phone": f"+44 20 7{_r(rng, dig, 3)} {_r(rng, dig, 4)}",
    }


def repository(path: Path, v: dict[str, str]) -> GitRepo:
    repo = GitRepo(path)
    python = f'''"""Billing client. Support: {v["email"]}, phone {v["phone"]}."""

import os

import boto3

AWS_ACCESS_KEY_ID = "{v["aws_access_key_id"]}"
AWS_SECRET_ACCESS_KEY = "{v["aws_secret"]}"


class BillingClient:
    """Talks to the billing service as {v["email"]}."""

    def __init__(self, region):
        self.region = region
        self.token = "{v["github_token"]}"

    def connect(self):
        """Open a session; the DSN carries a password."""
        dsn = "postgres://billing:{v["url_password"]}@db.internal:5432/billing"
        return boto3.client("s3", region_name=self.region, endpoint_url=dsn)

    def charge(self, amount, customer):
        if amount <= 0:
            return None
        stripe_key = "{v["stripe_key"]}"
        total = 0
        for item in customer.items:
            total = total + item.price * amount
        return stripe_key, total


def notify(message, channel):
    """Post to chat."""
    slack = "{v["slack_token"]}"
    return {{"token": slack, "channel": channel, "text": message}}
'''
    key = "\n".join(
        [
            "-----BEGIN RSA PRIVATE KEY-----",
            v["pem_line"],
            v["pem_line"][::-1],
            "-----END RSA PRIVATE KEY-----",
        ]
    )
    javascript = f"""/** Mailer for {v["email"]}. */
export function sendMail(to, body) {{
  const apiKey = "{v["sendgrid_key"]}";
  const googleKey = "{v["google_api_key"]}";
  if (!to) {{
    return null;
  }}
  return fetch("https://api.example.com/mail", {{ headers: {{ apiKey, googleKey }}, body }});
}}
"""
    go = f"""package db

// Open connects with the production password.
func Open(host string) string {{
\tpassword := "{v["db_password"]}"
\ttoken := "{v["jwt"]}"
\treturn host + password + token
}}
"""
    rust = f"""/// Signs requests.
pub fn sign(payload: &str) -> String {{
    let signing_key = "{v["pem_line"]}";
    let npm = "{v["npm_token"]}";
    format!("{{}}{{}}{{}}", payload, signing_key, npm)
}}
"""
    repo.commit(
        {
            "billing/client.py": python,
            "web/mail.js": javascript,
            "db/open.go": go,
            "sign/src/lib.rs": rust,
            "deploy/id_rsa": key,
            ".env": f"GITLAB_TOKEN={v['gitlab_token']}\n",
            "README.md": f"# billing\n\nThe client module bills. Ask {v['email']}.\n",
        },
        f"Initial import (token {v['gitlab_token']}, contact {v['email']})",
    )
    # A modification (refactoring pairs from both versions) and a broken file (a reject).
    repo.commit(
        {
            "billing/client.py": python.replace("total = total + ", "total += "),
            "billing/broken.py": f'KEY = "{v["aws_access_key_id"]}"\ndef broken(:\n',
        },
        f"Fix charge totals, reviewed by {v['email']}",
    )
    return repo


def test_no_planted_value_survives_into_any_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = planted()
    repo = repository(tmp_path / "billing", values)
    monkeypatch.setenv("CODEMILL_INGEST_AUGMENT_FRACTION", "1")
    monkeypatch.setenv("CODEMILL_INGEST_ERROR_FIX_FRACTION", "1")
    home = tmp_path / "home"
    result = run_cli(home, "backfill", str(repo.path), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(run_cli(home, "datasets", "--format", "json").stdout)
    for table in ("completion", "naming", "refactoring", "architecture", "error_fix", "rejects"):
        assert report["tables"].get(table, 0) > 0, f"no {table} rows: the test proves nothing"
    assert sum(report["redacted"].values()) >= len(values)
    settings = Settings(home=home)
    searched = 0
    for table, model in TABLE_MODELS.items():
        if open_table(settings.table_uri(table)) is None:
            continue
        text = json.dumps(read_rows(settings.table_uri(table), model).to_pylist(), default=str)
        searched += len(text)
        for kind, value in values.items():
            assert value not in text, f"{kind} leaked into {table}"
    # The datasets report itself (samples) and the ledger-derived figures are clean too.
    for kind, value in values.items():
        assert value not in json.dumps(report), f"{kind} leaked into codemill datasets"
    assert searched > 10_000
