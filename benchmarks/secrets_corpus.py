"""A deterministic, labelled corpus of source files with planted secrets and look-alike decoys.

Files in Python, JavaScript, TypeScript, Go, Java and Rust, and YAML, JSON, ``.env`` and INI, made
of ordinary code lines with secrets planted at known lines: cloud keys, VCS, chat, payment, e-mail
and AI provider tokens, registry tokens, private keys, JWTs, credentials in URLs and connection
strings, password and secret assignments, and personal data (e-mail, phone, IPv4, IPv6). Values are
random but well formed: right prefixes, lengths and alphabets, JWTs of base64url JSON, PEM blocks
of 64-column base64. Decoys are what a scanner should leave alone: git SHAs, UUIDs, checksums and
integrity hashes, placeholders, environment lookups, obviously fake tokens (``ghp_xxxx…``), base64
images, versions, numbers that look like phones but are not, documentation and loopback addresses,
reserved e-mail domains, public keys, password hashes, parameters and descriptive names.

AWS's documented example keys (``AKIAIOSFODNN7EXAMPLE``) are neither: they are well formed, and
codemill redacts them on purpose (a false positive costs a placeholder, a miss a leak), so
counting them either way would measure a policy, not a detector. Labels are ``(file, line, kind)``
with 1-based lines; a multi-line secret is labelled with its first and last line. ``generate``
always returns the same corpus for the same arguments.
"""

import base64
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("py", "js", "ts", "go", "java", "rs", "yaml", "json", "env", "ini")
CODE = frozenset({"py", "js", "ts", "go", "java", "rs"})
_EXTENSIONS = {"env": ".env", "yaml": ".yaml", "ini": ".ini", "json": ".json"}
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
PII = frozenset({"email", "phone", "ipv4", "ipv6"})


@dataclass(frozen=True)
class Label:
    """A planted secret or a decoy: its file, first and last line (1-based) and kind."""

    file: str
    line: int
    kind: str
    end_line: int


@dataclass
class Corpus:
    files: dict[str, str] = field(default_factory=dict)
    secrets: list[Label] = field(default_factory=list)
    decoys: list[Label] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(text.encode()) for text in self.files.values())

    def write(self, root: Path) -> None:
        for name, text in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


# --- random values of the right shape ------------------------------------------------------------


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _password(rng: random.Random) -> str:
    if rng.random() < 0.5:
        word = rng.choice(["Tr0ub4dor", "Blue42Horse", "Winter2024", "Kx9mPq", "Sunset77", "M4ple"])
        return word + _r(rng, "!@#%^&*-_", 1) + _r(rng, string.digits, 3)
    return _r(rng, ALNUM + "!@#%^*-_", rng.randint(12, 20))


def _jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {
        "sub": str(rng.randint(10**6, 10**9)),
        "name": "svc",
        "iat": rng.randint(10**9, 2 * 10**9),
    }
    return f"{header}.{_b64url(json.dumps(claims).encode())}.{_r(rng, B64URL, 43)}"


def _pem_body(rng: random.Random, lines: int = 6) -> list[str]:
    data = rng.randbytes(48 * lines)
    text = base64.b64encode(data).decode()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def _phone(rng: random.Random) -> str:
    n = str(rng.randint(200, 989))
    x = str(rng.randint(200, 999))
    if x == "555":
        x = "556"
    last = f"{rng.randint(0, 9999):04d}"
    formats = [
        f"+1 {n} {x} {last}",
        f"+1 ({n}) {x}-{last}",
        f"({n}) {x}-{last}",
        f"{n}-{x}-{last}",
        f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        f"+49 30 {rng.randint(10**7, 10**8 - 1)}",
        f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        f"{rng.randint(10, 99)}",
        f"+1{n}{x}{last}",
    ]
    return rng.choice(formats)


def _ipv4(rng: random.Random) -> str:
    first = rng.choice([10, 34, 52, 81, 104, 151, 172, 185, 192])
    second = 168 if first == 192 else rng.randint(10, 250)
    return f"{first}.{second}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


def _ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0x2400, 0x2A0F):x}"] + [
        f"{rng.randint(1, 0xFFFF):x}" for _ in range(7)
    ]
    if rng.random() < 0.5:
        return ":".join(groups)
    return ":".join(groups[:3]) + "::" + groups[7]


def _email(rng: random.Random) -> str:
    first = rng.choice(["jane", "omar", "li", "sofia", "ravi", "ines", "tom", "anna"])
    last = rng.choice(["doe", "haddad", "wei", "rossi", "patel", "garcia", "berg", "novak"])
    domain = rng.choice(["acmecorp.io", "globex.com", "initech.de", "umbrella.co.uk", "hooli.dev"])
    return f"{first}.{last}@{domain}"


# --- how a line is written in each format ---------------------------------------------------------


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


_YAML_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


def assign(fmt: str, name: str, value: str, quote: str = '"') -> str:
    """``name = value`` as each format writes it."""
    upper, camel = name.upper(), _camel(name)
    if fmt == "yaml" and (value[0] in _YAML_INDICATORS or ": " in value or " #" in value):
        value = json.dumps(value)  # a plain scalar cannot start with an indicator
    forms = {
        "py": f"{upper} = {quote}{value}{quote}",
        "js": f"const {camel} = {quote}{value}{quote};",
        "ts": f"export const {camel}: string = {quote}{value}{quote};",
        "go": f"\t{camel} := {quote}{value}{quote}",
        "java": f"    private static final String {upper} = {quote}{value}{quote};",
        "rs": f"const {upper}: &str = {quote}{value}{quote};",
        "yaml": f"  {name}: {value}",
        "json": f'  "{camel}": "{value}",',
        "env": f"{upper}={value}",
        "ini": f"{name} = {value}",
    }
    return forms[fmt]


def call(fmt: str, value: str) -> str:
    """``value`` passed to a client constructor under no telling name."""
    forms = {
        "py": f'client = ApiClient("{value}", timeout=30)',
        "js": f"const client = createClient('{value}');",
        "ts": f"const client: ApiClient = new ApiClient('{value}');",
        "go": f'\tclient := api.NewClient("{value}")',
        "java": f'        ApiClient client = new ApiClient("{value}");',
        "rs": f'    let client = ApiClient::new("{value}");',
    }
    return forms[fmt]


def comment(fmt: str, text: str) -> str:
    prefix = {"py": "#", "yaml": "#", "env": "#", "ini": ";", "json": ""}.get(fmt, "//")
    return f'  "_comment": "{text}",' if fmt == "json" else f"{prefix} {text}"


# --- planted secrets: kind -> lines (the first is labelled) ---------------------------------------

Render = Callable[[str, random.Random], list[str]]


def _token(names: list[str], make: Callable[[random.Random], str], anywhere: bool = True) -> Render:
    def render(fmt: str, rng: random.Random) -> list[str]:
        value = make(rng)
        if anywhere and fmt in CODE and rng.random() < 0.3:
            return [call(fmt, value)]
        return [assign(fmt, rng.choice(names), value)]

    return render


def _private_key(fmt: str, rng: random.Random) -> list[str]:
    label = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    body = _pem_body(rng)
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    escaped = "\\n".join([begin, *body, end]) + "\\n"
    if fmt == "json":
        return [f'  "private_key": "{escaped}",']
    if fmt in ("env", "ini"):
        return [assign(fmt, "private_key", f'"{escaped}"')]
    if fmt == "yaml":
        return ["  private_key: |", *(f"    {line}" for line in (begin, *body, end))]
    if fmt == "java":
        chunks = [f'        "{line}\\n" +' for line in (*body, end)]
        return [f'    static final String KEY = "{begin}\\n" +', *chunks, '        "";']
    opener = {
        "py": ('PRIVATE_KEY = """', '"""'),
        "js": ("const privateKey = `", "`;"),
        "ts": ("const privateKey: string = `", "`;"),
        "go": ("const privateKey = `", "`"),
        "rs": ('const PRIVATE_KEY: &str = "', '";'),
    }[fmt]
    return [opener[0] + begin, *body, end + opener[1]]


def _url(fmt: str, rng: random.Random) -> list[str]:
    user = rng.choice(["app", "svc", "admin", "deploy"])
    host = rng.choice(["db.internal", "cluster0.x1y2z.mongodb.net", "cache.prod", "mq.local"])
    scheme = rng.choice(["postgres", "postgresql", "mongodb+srv", "redis", "amqp", "mysql"])
    return [assign(fmt, "database_url", f"{scheme}://{user}:{_password(rng)}@{host}:5432/app")]


def _connection_string(fmt: str, rng: random.Random) -> list[str]:
    password = _password(rng).replace(";", "!")
    value = rng.choice(
        [
            f"jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={password};",
            f"Server=db.internal;Database=app;User Id=sa;Password={password};",
            f"jdbc:mysql://db:3306/app?user=app&password={password}&useSSL=true",
        ]
    )
    return [assign(fmt, "connection_string", value)]


def _azure(fmt: str, rng: random.Random) -> list[str]:
    key = _r(rng, B64, 86) + "=="
    value = f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key};"
    return [assign(fmt, "storage_connection", value + "EndpointSuffix=core.windows.net")]


def _jwt_header(fmt: str, rng: random.Random) -> list[str]:
    token = _jwt(rng)
    if fmt in CODE and rng.random() < 0.5:
        return [assign(fmt, "auth_header", f"Bearer {token}")]
    return [assign(fmt, "session_jwt", token)]


def _password_line(fmt: str, rng: random.Random) -> list[str]:
    name = rng.choice(["password", "db_password", "smtp_pass", "admin_passwd", "redis_password"])
    return [assign(fmt, name, _password(rng))]


def _generic(fmt: str, rng: random.Random) -> list[str]:
    name = rng.choice(["api_key", "client_secret", "secret_key", "auth_token", "signing_key"])
    value = _r(rng, HEX, 32) if rng.random() < 0.5 else _r(rng, ALNUM, 40)
    return [assign(fmt, name, value)]


def _pii(make: Callable[[random.Random], str], names: list[str], text: str) -> Render:
    def render(fmt: str, rng: random.Random) -> list[str]:
        value = make(rng)
        if rng.random() < 0.4:
            return [comment(fmt, text.format(value))]
        return [assign(fmt, rng.choice(names), value)]

    return render


SECRETS: dict[str, Render] = {
    "aws_access_key_id": _token(
        ["aws_access_key_id"], lambda r: "AKIA" + _r(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ),
    "aws_secret_access_key": _token(["aws_secret_access_key"], lambda r: _r(r, B64, 40), False),
    "github_token": _token(
        ["github_token", "gh_token"],
        lambda r: (
            r.choice(["ghp_", "gho_", "ghs_", "ghu_", "ghr_"]) + _r(r, ALNUM, 36)
            if r.random() < 0.7
            else "github_pat_" + _r(r, ALNUM, 22) + "_" + _r(r, ALNUM, 59)
        ),
    ),
    "gitlab_token": _token(["gitlab_token"], lambda r: "glpat-" + _r(r, ALNUM + "-_", 20)),
    "slack_token": _token(
        ["slack_bot_token"],
        lambda r: (
            f"xoxb-{r.randint(10**11, 10**12)}-{r.randint(10**11, 10**12)}-" + _r(r, ALNUM, 24)
        ),
    ),
    "slack_webhook": _token(
        ["slack_webhook_url"],
        lambda r: (
            "https://hooks.slack.com/services/T"
            + _r(r, string.ascii_uppercase + string.digits, 8)
            + "/B"
            + _r(r, string.ascii_uppercase + string.digits, 10)
            + "/"
            + _r(r, ALNUM, 24)
        ),
    ),
    "discord_bot_token": _token(
        ["discord_token"],
        lambda r: "M" + _r(r, ALNUM, 23) + "." + _r(r, B64URL, 6) + "." + _r(r, B64URL, 27),
    ),
    "discord_webhook": _token(
        ["discord_webhook"],
        lambda r: (
            f"https://discord.com/api/webhooks/{r.randint(10**17, 10**18)}/" + _r(r, B64URL, 68)
        ),
    ),
    "telegram_bot_token": _token(
        ["telegram_bot_token"], lambda r: f"{r.randint(10**8, 10**9)}:AA" + _r(r, B64URL, 33)
    ),
    "stripe_key": _token(
        ["stripe_secret_key"], lambda r: r.choice(["sk_live_", "rk_live_"]) + _r(r, ALNUM, 24)
    ),
    "twilio_api_key": _token(["twilio_api_key"], lambda r: "SK" + _r(r, HEX, 32)),
    "sendgrid_api_key": _token(
        ["sendgrid_api_key"], lambda r: "SG." + _r(r, B64URL, 22) + "." + _r(r, B64URL, 43)
    ),
    "mailgun_api_key": _token(["mailgun_api_key"], lambda r: "key-" + _r(r, HEX, 32)),
    "mailchimp_api_key": _token(
        ["mailchimp_api_key"], lambda r: _r(r, HEX, 32) + f"-us{r.randint(1, 20)}"
    ),
    "square_token": _token(["square_access_token"], lambda r: "sq0atp-" + _r(r, B64URL, 22)),
    "npm_token": _token(["npm_token"], lambda r: "npm_" + _r(r, ALNUM, 36)),
    "pypi_token": _token(
        ["pypi_token"], lambda r: "pypi-AgEIcHlwaS5vcmc" + _r(r, B64URL, 70), False
    ),
    "openai_api_key": _token(
        ["openai_api_key"], lambda r: "sk-proj-" + _r(r, ALNUM, 48) + "T3BlbkFJ" + _r(r, ALNUM, 20)
    ),
    "anthropic_api_key": _token(
        ["anthropic_api_key"], lambda r: "sk-ant-api03-" + _r(r, B64URL, 93) + "AA"
    ),
    "google_api_key": _token(["google_api_key"], lambda r: "AIza" + _r(r, B64URL, 35)),
    "huggingface_token": _token(["hf_token"], lambda r: "hf_" + _r(r, string.ascii_letters, 34)),
    "azure_storage_key": _azure,
    "private_key": _private_key,
    "jwt": _jwt_header,
    "url_credentials": _url,
    "connection_string": _connection_string,
    "password_assignment": _password_line,
    "generic_secret_assignment": _generic,
    "email": _pii(_email, ["maintainer_email", "contact"], "Maintainer: Jane <{}>"),
    "phone": _pii(_phone, ["support_phone", "oncall_phone"], "call the on-call line at {}"),
    "ipv4": _pii(_ipv4, ["db_host", "server_ip"], "the database runs on {} behind the VPN"),
    "ipv6": _pii(_ipv6, ["server_ipv6", "bind_address"], "reachable at {} over IPv6"),
}


# --- decoys: what a scanner should leave alone ----------------------------------------------------


def _plain(names: list[str], make: Callable[[random.Random], str]) -> Render:
    def render(fmt: str, rng: random.Random) -> list[str]:
        return [assign(fmt, rng.choice(names), make(rng))]

    return render


_ENV_LOOKUPS = {
    "py": 'DB_PASSWORD = os.environ["DB_PASSWORD"]',
    "js": "const apiToken = process.env.API_TOKEN;",
    "ts": "const secretKey: string = process.env.SECRET_KEY ?? '';",
    "go": '\tpassword := os.Getenv("DB_PASSWORD")',
    "java": '        String password = System.getenv("DB_PASSWORD");',
    "rs": '    let api_key = std::env::var("API_KEY").expect("API_KEY");',
    "yaml": "  password: ${DB_PASSWORD}",
    "json": '  "apiKey": "${API_KEY}",',
    "env": "API_TOKEN=${CI_API_TOKEN}",
    "ini": "password = %(DB_PASSWORD)s",
}
_PARAMETERS = {
    "py": "def login(username: str, password: str) -> Session:",
    "js": "async function login(username, password) {",
    "ts": "export function authenticate(token: string, apiKey: string): Promise<void> {",
    "go": "func Login(username string, password string) error {",
    "java": "    public void setPassword(String password) {",
    "rs": "pub fn login(username: &str, password: &str) -> Result<Session> {",
}
_PLACEHOLDERS = [
    ("api_key", "<your-api-key>"),
    ("password", "changeme"),
    ("secret_key", "YOUR_SECRET_KEY_HERE"),
    ("auth_token", "xxxxxxxxxxxxxxxxxxxxxxxx"),
    ("password", "{{ vault_db_password }}"),
    ("api_token", "${API_TOKEN}"),
    ("client_secret", "replace-me"),
    ("password", "********"),
]
_FAKE_TOKENS = [
    "ghp_" + "x" * 36,
    "AKIA" + "X" * 16,
    "sk_live_" + "0" * 24,
    "xoxb-" + "0" * 12 + "-" + "0" * 12 + "-" + "x" * 24,
    "glpat-" + "x" * 20,
]
_NOT_PHONES = [
    "2024-01-15",
    "1700000000123",
    "ORD-2024-000123",
    "978-3-16-148410-0",
    "0x7fffffff",
    "(555) 555-0142",
    "123-456-7890",
    "10.15.7.1234",
    "1.2.3-beta.4",
    "+1000000000",
]
_NOBODYS_ADDRESSES = ["127.0.0.1", "0.0.0.0", "192.0.2.10", "255.255.255.0", "2001:db8::1", "::1"]


def _env_lookup(fmt: str, rng: random.Random) -> list[str]:
    return [_ENV_LOOKUPS[fmt]]


def _parameter(fmt: str, rng: random.Random) -> list[str]:
    return [_PARAMETERS.get(fmt) or assign(fmt, "password_min_length", "12")]


def _placeholder(fmt: str, rng: random.Random) -> list[str]:
    return [assign(fmt, *rng.choice(_PLACEHOLDERS))]


def _fake_token(fmt: str, rng: random.Random) -> list[str]:
    return [assign(fmt, rng.choice(["token", "api_key", "github_token"]), rng.choice(_FAKE_TOKENS))]


def _public_key(fmt: str, rng: random.Random) -> list[str]:
    if fmt in ("json", "env", "ini", "yaml"):
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5" + _r(rng, B64, 43)
        return [assign(fmt, "ssh_public_key", key)]
    lines = ["-----BEGIN PUBLIC KEY-----", *_pem_body(rng, 3), "-----END PUBLIC KEY-----"]
    return [assign(fmt, "public_key_pem", "\\n".join(lines))]


def _descriptive_name(fmt: str, rng: random.Random) -> list[str]:
    return [assign(fmt, *rng.choice(_DESCRIPTIVE))]


_DESCRIPTIVE = [
    ("token_url", "https://oauth2.googleapis.com/token"),
    ("password_field", "id_password"),
    ("secret_name", "prod/db/credentials"),
    ("auth_type", "client_credentials"),
]
DECOYS: dict[str, Render] = {
    "git_sha": _plain(["commit", "revision", "base_sha"], lambda r: _r(r, HEX, 40)),
    "uuid": _plain(
        ["request_id", "trace_id", "tenant_id"], lambda r: str(uuid.UUID(int=r.getrandbits(128)))
    ),
    "checksum": _plain(
        ["checksum", "digest", "integrity"],
        lambda r: r.choice(
            ["sha256:" + _r(r, HEX, 64), "sha512-" + _r(r, B64, 86) + "==", _r(r, HEX, 64)]
        ),
    ),
    "api_key_hash": _plain(["api_key_sha256", "token_hash"], lambda r: _r(r, HEX, 64)),
    "password_hash": _plain(["password_hash"], lambda r: "$2b$12$" + _r(r, ALNUM + "./", 53)),
    "base64_image": _plain(
        ["icon", "placeholder_image"],
        lambda r: "data:image/png;base64,iVBORw0KGgo" + _r(r, B64, 120),
    ),
    "version": _plain(
        ["version", "app_version"],
        lambda r: r.choice(
            [f"{r.randint(1, 20)}.{r.randint(0, 30)}.{r.randint(0, 99)}", "10.2.3.4"]
        ),
    ),
    "not_a_phone": _plain(
        ["build_id", "order_ref", "released", "mask"], lambda r: r.choice(_NOT_PHONES)
    ),
    "nobodys_address": _plain(["listen_host", "bind"], lambda r: r.choice(_NOBODYS_ADDRESSES)),
    "reserved_email": _plain(
        ["contact", "sender"],
        lambda r: r.choice(["someone@example.com", "noreply@acmecorp.io", "user@host.test"]),
    ),
    "env_lookup": _env_lookup,
    "parameter": _parameter,
    "placeholder": _placeholder,
    "fake_token": _fake_token,
    "public_key": _public_key,
    "descriptive_name": _descriptive_name,
}


# --- ordinary code around them --------------------------------------------------------------------

_FILLER = {
    "py": [
        "def handle(event: dict) -> int:",
        "    total = sum(item['count'] for item in event['items'])",
        "    return total * 2",
        "import json",
        "logger = logging.getLogger(__name__)",
        "for index, row in enumerate(rows):",
        "    if row.status == 'done':",
        "        continue",
        "class Repository:",
        '    """Stores orders by id."""',
    ],
    "js": [
        "function handle(event) {",
        "  const total = event.items.reduce((a, b) => a + b.count, 0);",
        "  return total * 2;",
        "}",
        "import express from 'express';",
        "app.get('/health', (req, res) => res.send('ok'));",
        "for (const row of rows) {",
        "  if (row.status === 'done') continue;",
    ],
    "ts": [
        "export interface Order { id: string; total: number }",
        "function handle(event: Event): number {",
        "  return event.items.length * 2;",
        "}",
        "import { Injectable } from '@angular/core';",
        "const rows: Row[] = await repo.findAll();",
        "type Handler = (input: string) => Promise<void>;",
    ],
    "go": [
        "func handle(event Event) int {",
        "\ttotal := 0",
        "\tfor _, item := range event.Items {",
        "\t\ttotal += item.Count",
        "\t}",
        "\treturn total * 2",
        "}",
        'import "encoding/json"',
        "type Repository struct{ db *sql.DB }",
    ],
    "java": [
        "    public int handle(Event event) {",
        "        int total = 0;",
        "        for (Item item : event.getItems()) { total += item.getCount(); }",
        "        return total * 2;",
        "    }",
        "import java.util.List;",
        "    private final Repository repository;",
    ],
    "rs": [
        "fn handle(event: &Event) -> usize {",
        "    event.items.iter().map(|i| i.count).sum::<usize>() * 2",
        "}",
        "use std::collections::HashMap;",
        "impl Repository {",
        "    pub fn new(pool: PgPool) -> Self { Self { pool } }",
        "#[derive(Debug, Clone)]",
    ],
    "yaml": [
        "  replicas: 3",
        "  image: nginx:1.25.3",
        "  port: 8080",
        "  timeout_seconds: 30",
        "  log_level: info",
        "  enabled: true",
    ],
    "json": [
        '  "replicas": 3,',
        '  "name": "orders-service",',
        '  "port": 8080,',
        '  "debug": false,',
    ],
    "env": ["LOG_LEVEL=info", "PORT=8080", "WORKERS=4", "FEATURE_FLAGS=search,checkout"],
    "ini": ["port = 8080", "workers = 4", "log_level = info", "timeout = 30"],
}
_HEADER = {
    "yaml": ["service:"],
    "json": ["{"],
    "ini": ["[service]"],
    "go": ["package main", ""],
    "java": ["public class Config {"],
}
_FOOTER = {"json": ['  "end": true', "}"], "java": ["}"]}


def _file(
    fmt: str, index: int, rng: random.Random, corpus: Corpus, lines: int, plants: int
) -> None:
    name = f"{fmt}/file_{index:03d}{_EXTENSIONS.get(fmt, '.' + fmt)}"
    secret_kinds = list(SECRETS)
    decoy_kinds = list(DECOYS)
    rng.shuffle(secret_kinds)
    rng.shuffle(decoy_kinds)
    blocks: list[tuple[str, str, list[str]]] = [
        ("", "", [rng.choice(_FILLER[fmt])]) for _ in range(lines)
    ]
    for i in range(plants):
        kind = secret_kinds[i % len(secret_kinds)]
        blocks.insert(rng.randrange(len(blocks) + 1), ("secret", kind, SECRETS[kind](fmt, rng)))
        decoy = decoy_kinds[i % len(decoy_kinds)]
        rendered = DECOYS[decoy](fmt, rng)
        blocks.insert(rng.randrange(len(blocks) + 1), ("decoy", decoy, rendered))
    out = list(_HEADER.get(fmt, []))
    for role, kind, block in blocks:
        label = Label(name, len(out) + 1, kind, len(out) + len(block))
        if role == "secret":
            corpus.secrets.append(label)
        elif role == "decoy":
            corpus.decoys.append(label)
        out += block
    out += _FOOTER.get(fmt, [])
    corpus.files[name] = "\n".join(out) + "\n"


def generate(seed: int = 0, files_per_format: int = 8, lines: int = 80, plants: int = 12) -> Corpus:
    """``files_per_format`` files of each format, each with ``plants`` secrets and as many decoys.

    Secret and decoy kinds rotate through a shuffled order per file, so every kind lands in every
    format as the corpus grows.
    """
    rng = random.Random(seed)
    corpus = Corpus()
    for fmt in FORMATS:
        for index in range(files_per_format):
            _file(fmt, index, rng, corpus, lines, plants)
    return corpus
