"""Unit tests for ``streams.sanitize``: rule families, context awareness, overlaps and idempotence.

Fake secrets are well formed but assembled from pieces, so no scanner (ours included, or a host's
push protection) sees a whole token in this file; AWS's documented example keys stay literal.
"""

import base64
import dataclasses
import time

import pytest

from streams import sanitize
from streams.sanitize import Finding, find_secrets, is_secret_file, redact

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB_PAT = "ghp_" + "x9Y8w7V6u5T4" * 3
GITHUB_FINE = "github_pat_" + "11ABCDEFG0" + "aB3dE5gH7jK9" * 7
GITLAB_PAT = "glpat-" + "Xy7Zq2Lm9Pw4Rt6Vb1Nc"
SLACK_BOT = "xoxb-" + "2817364510-8273645102-" + "aB3cD4eF5gH6iJ7kL8mN9oP0"
SLACK_HOOK = (
    "https://hooks.slack.com/services/" + "T0A1B2C3D/B4E5F6G7H/" + "aB3cD4eF5gH6iJ7kL8mN9oP0"
)
STRIPE_LIVE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_RESTRICTED = "rk_" + "live_" + "51Hf7Kq2Lm9Pw4Rt6Vb1NcXy"
GOOGLE_KEY = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
OPENAI_KEY = "sk-" + "proj-" + "Ab3De5Gh7Jk9Mn2Pq4St6Vw8Yz1Bc3Ef5Hi7"
ANTHROPIC_KEY = "sk-ant-" + "api03-" + "Ab3De5Gh7Jk9Mn2Pq4St6Vw8Yz1Bc3Ef5Hi7Kl"
NPM_TOKEN = "npm_" + "Ab3De5Gh7Jk9Mn2Pq4St6Vw8Yz1Bc3Ef5Hij"
SENDGRID_KEY = (
    "SG." + "Ab3De5Gh7Jk9Mn2Pq4St6V" + "." + "w8Yz1Bc3Ef5Hi7Kl9No2Qr4Tu6Wx8Za1Cd3Fg5Ij7LM"
)
TWILIO_KEY = "SK" + "0123456789abcdef" * 2
JWT = ".".join(
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    )
)
BASIC = base64.b64encode(b"deploy:Tr0ub4dor&3").decode()
PEM_BODY = ("MIIEowIBAAKCAQEA" + "x7Qk3Lm9Pz2Rt5Vw" * 3, "Ab3De5Gh7Jk9Mn2P" * 4, "q4St6Vw8Yz1B==")
PRIVATE_KEY = "\n".join(
    ("-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----")
)


def kinds(text: str) -> list[str]:
    return [finding.kind for finding in find_secrets(text)]


def assert_redacted(text: str, kind: str, secret: str) -> str:
    redacted, findings = redact(text)
    assert redact(text, engine="re") == (redacted, findings)  # hyperscan or not, the same
    family = "PII" if kind in sanitize.PII_KINDS else "SECRET"
    assert f"<{family}:{kind}>" in redacted, (redacted, findings)
    assert secret not in redacted
    assert kind in [finding.kind for finding in findings]
    return redacted


TOKENS = [
    ("aws_access_key_id", AWS_KEY_ID, 'AWS_ACCESS_KEY_ID = "{}"'),
    ("aws_access_key_id", AWS_KEY_ID, "aws_access_key_id={}"),
    ("aws_secret_access_key", AWS_SECRET, 'aws_secret_access_key = "{}"'),
    ("aws_secret_access_key", AWS_SECRET, "aws_secret_access_key = {}"),
    ("aws_secret_access_key", AWS_SECRET, 'new AWS.S3({{ secretAccessKey: "{}" }});'),
    ("aws_secret_access_key", AWS_SECRET, "AWS_SECRET_ACCESS_KEY: {}"),
    ("github_token", GITHUB_PAT, 'const token = "{}";'),
    ("github_token", GITHUB_PAT, "git clone https://x-access-token:{}@github.com/acme/app"),
    ("github_token", GITHUB_FINE, 'gh := github.NewClient(nil).WithAuthToken("{}")'),
    ("gitlab_token", GITLAB_PAT, "GITLAB_TOKEN={}"),
    ("slack_token", SLACK_BOT, 'client = WebClient(token="{}")'),
    ("slack_webhook", SLACK_HOOK, "  webhook_url: {}"),
    ("stripe_key", STRIPE_LIVE, 'stripe.api_key = "{}"'),
    ("stripe_key", STRIPE_RESTRICTED, "const stripe = require('stripe')('{}');"),
    ("google_api_key", GOOGLE_KEY, '<script src="https://maps.googleapis.com/js?key={}">'),
    ("openai_api_key", OPENAI_KEY, 'client = OpenAI(api_key="{}")'),
    ("anthropic_api_key", ANTHROPIC_KEY, "export ANTHROPIC_API_KEY={}"),
    ("npm_token", NPM_TOKEN, "//registry.npmjs.org/:_authToken={}"),
    ("sendgrid_api_key", SENDGRID_KEY, 'sg = sendgrid.SendGridAPIClient("{}")'),
    ("twilio_api_key", TWILIO_KEY, 'Client("{}", api_secret, account_sid)'),
    ("jwt", JWT, 'fetch(url, {{ headers: {{ "X-Session": "{}" }} }})'),
    ("jwt", JWT, "curl -H 'Authorization: Bearer {}' https://api.acme.io"),
    ("bearer_token", "Ab3De5Gh7Jk9Mn2Pq4St6Vw8", 'req.Header.Set("Authorization", "Bearer {}")'),
    ("basic_auth", BASIC, "Authorization: Basic {}"),
    ("pypi_token", "pypi-AgEIcHlwaS5vcmc" + "CDQ3Zj" * 10, "password = {}"),
    ("huggingface_token", "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "login(token='{}')"),
    ("docker_token", "dckr_pat_" + "Ab3De5Gh7Jk9Mn2Pq4St6Vw8Yz1", "echo {} | docker login"),
    ("digitalocean_token", "dop_v1_" + "0a1b2c3d" * 8, 'DO_TOKEN = "{}"'),
    ("shopify_token", "shpat_" + "0a1b2c3d" * 4, "X-Shopify-Access-Token: {}"),
    ("vault_token", "hvs." + "CAESIAb3De5Gh7Jk9Mn2Pq4St6Vw8Yz1" * 3, "VAULT_TOKEN={}"),
    ("azure_storage_key", "Ab3De5Gh7Jk9Mn2/" * 5 + "Pq4St6==", "AccountName=acme;AccountKey={};"),
]


@pytest.mark.parametrize(("kind", "secret", "template"), TOKENS)
def test_token_rules_redact_the_token(kind: str, secret: str, template: str) -> None:
    assert_redacted(template.format(secret), kind, secret)


@pytest.mark.parametrize(
    "text",
    [
        'DATABASE_URL = "postgres://app:S3cr3t-Pw@db.internal:5432/app"',
        "redis_url: redis://:S3cr3t-Pw@cache:6379/0",
        'const uri = "mongodb+srv://app:S3cr3t-Pw@cluster0.mongodb.net/db";',
        'dsn := "mysql://app:S3cr3t-Pw@tcp(db:3306)/app"',
        "AMQP_URL=amqp://app:S3cr3t-Pw@rabbit:5672/",
    ],
)
def test_url_credentials_redact_the_password_only(text: str) -> None:
    redacted = assert_redacted(text, "url_credentials", "S3cr3t-Pw")
    assert "app:<SECRET:url_credentials>@" in redacted or ":<SECRET:url_credentials>@" in redacted


ASSIGNMENTS = [
    # (kind, secret, text) in Python, JS/TS, Go, Java, Rust, YAML, JSON, .env, INI, shell
    ("password_assignment", "hunter2!x", 'password = "hunter2!x"'),
    ("password_assignment", "hunter2!x", "db = connect(host, password='hunter2!x')"),
    ("password_assignment", "hunter2!x", 'const dbPassword = "hunter2!x";'),
    ("password_assignment", "hunter2!x", "login({ user: 'ci', password: `hunter2!x` })"),
    ("password_assignment", "hunter2!x", 'password := "hunter2!x"'),
    ("password_assignment", "hunter2!x", 'Config{User: "ci", Password: "hunter2!x"}'),
    ("password_assignment", "hunter2!x", 'private static final String DB_PASSWORD = "hunter2!x";'),
    ("password_assignment", "hunter2!x", "database:\n  user: app\n  password: hunter2!x\n"),
    ("password_assignment", "hunter2!x", '{"user": "app", "password": "hunter2!x"}'),
    ("password_assignment", "hunter2!x", "POSTGRES_PASSWORD=hunter2!x"),
    ("password_assignment", "hunter2!x", "SMTP_PASS=hunter2!x"),
    ("password_assignment", "hunter2!x", "spring.datasource.password=hunter2!x"),
    ("password_assignment", "hunter2!x", "[db]\npassword = hunter2!x\n"),
    ("password_assignment", "hunter2!x", "mysql --password=hunter2!x -h db app"),
    ("password_assignment", "hunter2!x", "ENV DB_PASSWORD=hunter2!x"),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", 'API_KEY = "9f8e7d6c5b4a3928"'),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", 'var apiKey string = "9f8e7d6c5b4a3928"'),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", 'const TOKEN: &str = "9f8e7d6c5b4a3928";'),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", "api_key: 9f8e7d6c5b4a3928"),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", "  client_secret: '9f8e7d6c5b4a3928'"),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", '{"client_secret": "9f8e7d6c5b4a3928"}'),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", "export AUTH_TOKEN=9f8e7d6c5b4a3928"),
    ("generic_secret_assignment", "9f8e7d6c5b4a3928", 'headers["X-Api-Key"] = "9f8e7d6c5b4a3928"'),
    (
        "generic_secret_assignment",
        "Zx9-Qw8_Er7Ty6Ui",
        'app.config["SECRET_KEY"] = "Zx9-Qw8_Er7Ty6Ui"',
    ),
    ("generic_secret_assignment", "Zx9-Qw8_Er7Ty6Ui", "let signing_key = r'Zx9-Qw8_Er7Ty6Ui';"),
    # Django's generated key: its alphabet has brackets, which an expression has too
    (
        "generic_secret_assignment",
        "django-insecure-k3j$5v!x9q@2m#z8r^w&t*y(u)i-o_p=a+s1d4f7g0h6j2k5l8",
        "SECRET_KEY = 'django-insecure-k3j$5v!x9q@2m#z8r^w&t*y(u)i-o_p=a+s1d4f7g0h6j2k5l8'",
    ),
    (
        "generic_secret_assignment",
        "q(8%u=z2m!c)x#w&v4^b*n9+t-r_e@7y$k1o(a3s)d5f6g0h=j%l",
        'SECRET_KEY = "q(8%u=z2m!c)x#w&v4^b*n9+t-r_e@7y$k1o(a3s)d5f6g0h=j%l"',
    ),
]


@pytest.mark.parametrize(("kind", "secret", "text"), ASSIGNMENTS)
def test_assignment_of_a_literal_to_a_secret_name_is_redacted(
    kind: str, secret: str, text: str
) -> None:
    assert_redacted(text, kind, secret)


NOT_SECRETS = [
    # placeholders and obvious dummies
    'password = ""',
    'api_key = "xxx"',
    'api_key = "xxxxxxxxxxxxxxxx"',
    'password = "changeme"',
    'token = "<your-token>"',
    'token = "${GITHUB_TOKEN}"',
    "password: ${DB_PASSWORD}",
    'secret: "{{ .Values.secret }}"',
    "  password: {{ .Values.db.password }}",
    'api_key = "your_api_key_here"',
    'password = "***"',
    'password = "********"',
    'api_key = "example"',
    'token = "dummy"',
    'password = "test"',
    'password = "password123"',
    'DB_PASSWORD = "mysecretpassword"',
    "API_TOKEN=<redacted>",
    'password = "%s"',
    'password = "{password}"',
    "password = None",
    "password: null",
    # environment and settings lookups
    'token = os.environ["TOKEN"]',
    'password = os.getenv("PASSWORD")',
    'password = os.getenv("DB_PASSWORD", "")',
    "const secret = process.env.SECRET;",
    "SECRET_KEY = settings.SECRET_KEY",
    "api_key: str = config.api_key",
    'token := os.Getenv("TOKEN")',
    '@Value("${app.jwt.secret}") private String secret;',
    # parameters, annotations, pass-through
    "def login(password: str) -> None:",
    "def login(username: str, password: str | None = None) -> Session:",
    "client.login(password=password)",
    "client = Client(\n    password=password,\n    token=self.token,\n)",
    "function login(password: string): Promise<void> {",
    "function login(\n  password: string\n) {}",
    "func Login(password string) error {",
    "fn login(password: &str) -> Result<()> {",
    "@dataclass\nclass Credentials:\n    password: str\n    token: SecretStr",
    "  password: userPassword",
    'if password == "hunter2!x":',
    # hashes and ids under names that are not secret-like
    'commit = "3f786850e387550fdab836ed7e6dc881de23001b"',
    'uuid = "123e4567-e89b-12d3-a456-426614174000"',
    'sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    "request_id: 9f8e7d6c5b4a39281706",
    # short, low-entropy or word-like values under generic names
    'token = "abc123"',
    'api_key = "aaaaaaaa11"',
    'auth_method = "client_credentials"',
    'proxy_auth_hdr = "Proxy-Authorization"',
    'token_type = "Bearer"',
    'pass_rate = "0.95"',
    "_token_end = r'(?=\\s|#|[)\\]]|$)'",
    '"auth0": "types-auth0-python",',
    'bypass = "Xk9-mP2-vL7"',
    # names that describe a secret instead of holding one
    'token_url = "https://oauth2.googleapis.com/token"',
    'password_field = "id_password"',
    "PASSWORD_MIN_LENGTH = 12",
    'PASSWORD_HELP = "Use 8 or more characters"',
    'SECRET_NAME = "prod/db/credentials"',
    # code and prose that mention secrets
    "tokens = tokenize(source)\nmax_tokens = 4096\ntokenizer = AutoTokenizer.from_pretrained(name)",
    "# the password is read from the vault at start-up",
    'raise AuthError("invalid token: expected a bearer token")',
    'x = "Bearer " + token',
    "print(f'Basic authentication failed for {user}')",
    '__author__ = "Jane Doe"',
    'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    raise ValueError(line)',
    "-----BEGIN PUBLIC KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END PUBLIC KEY-----",
    "task-runner-for-the-nightly-build-queue",
    "const url = `${scheme}://${user}:${password}@${host}`;",
    "dsn = f'postgres://{user}:{password}@{host}/{db}'",
    "https://user:<password>@host/path",
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_context_aware_negatives_have_no_finding(text: str) -> None:
    assert find_secrets(text) == find_secrets(text, engine="re") == []


def test_example_inside_a_well_formed_key_is_not_a_placeholder() -> None:
    text = f'aws_access_key_id = "{AWS_KEY_ID}"\naws_secret_access_key = "{AWS_SECRET}"\n'
    assert kinds(text) == ["aws_access_key_id", "aws_secret_access_key"]


def test_private_key_block_is_redacted_whole_across_lines() -> None:
    text = f"# deploy key\n{PRIVATE_KEY}\nafter = 1\n"
    redacted, findings = redact(text)
    assert redacted == "# deploy key\n<SECRET:private_key>\nafter = 1\n"
    assert [(f.kind, f.line) for f in findings] == [("private_key", 2)]
    assert text[findings[0].start : findings[0].end] == PRIVATE_KEY


@pytest.mark.parametrize(
    "header", ["OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]
)
def test_private_key_headers(header: str) -> None:
    block = "\n".join((f"-----BEGIN {header}-----", *PEM_BODY, f"-----END {header}-----"))
    assert redact(block) == ("<SECRET:private_key>", find_secrets(block))


def test_private_key_in_a_string_literal_with_escaped_newlines() -> None:
    escaped = PRIVATE_KEY.replace("\n", "\\n")
    text = f'{{"type": "service_account", "private_key": "{escaped}\\n", "id": 7}}'
    redacted = assert_redacted(text, "private_key", PEM_BODY[1])
    assert redacted.endswith('"id": 7}')


def test_private_key_encoded_in_base64_is_redacted() -> None:
    # kubeconfig's client-key-data: the PEM block, base64 on one line
    encoded = base64.b64encode(PRIVATE_KEY.encode()).decode()
    text = f"users:\n- name: admin\n  user:\n    client-key-data: {encoded}\n"
    assert redact(text)[0].endswith("client-key-data: <SECRET:private_key>\n")
    certificate = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + b"A" * 64).decode()
    assert find_secrets(f"    client-certificate-data: {certificate}\n") == []


def test_truncated_private_key_block_is_redacted_through_its_body() -> None:
    text = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY[:2]) + "\n\ndef main():\n"
    assert redact(text)[0] == "<SECRET:private_key>\n\ndef main():\n"


PII = [
    ("email", "jane.doe@acme-corp.io", "# Maintainer: Jane Doe <jane.doe@acme-corp.io>"),
    ("email", "jane.doe@acme-corp.io", 'AUTHOR_EMAIL = "jane.doe@acme-corp.io"'),
    ("email", "jane.doe@acme-corp.io", "maintainers:\n  - jane.doe@acme-corp.io\n"),
    (
        "email",
        "1234567+jdoe@users.noreply.github.com",
        "Co-authored-by: J <1234567+jdoe@users.noreply.github.com>",
    ),
    ("ipv4", "10.12.3.45", 'DB_HOST = "10.12.3.45"'),
    ("ipv4", "192.168.1.20", "ssh deploy@192.168.1.20 -p 2222"),
    ("ipv4", "34.117.59.81", "server: {host: '34.117.59.81', port: 443}"),
]


@pytest.mark.parametrize(("kind", "value", "text"), PII)
def test_pii_is_redacted(kind: str, value: str, text: str) -> None:
    assert_redacted(text, kind, value)


@pytest.mark.parametrize(
    "text",
    [
        "contact: someone@example.com, other@example.org, x@mail.example.net",
        "user@host.test and root@localhost",
        "From: noreply@acme-corp.io",
        "git remote add origin git@github.com:acme/app.git",
        'icon = "static/icon@2x.png"',
        "@dataclass\n@pytest.fixture\ndef f(): ...",
        'server.listen("0.0.0.0", 8080)',
        'HOST = "127.0.0.1"',
        "mask = 255.255.255.255; netmask 255.255.255.0",
        'version = "10.2.3.4"',
        "pkg==14.0.0.1",
        "see RFC 7231 section 7.1.1.1 and zlib 1.2.5.3",
        'OID = "1.3.6.1.4.1.311"',
        "docs use 192.0.2.10 and 203.0.113.7",
        'subnet = "10.20.0.0/16"',
    ],
)
def test_pii_negatives_have_no_finding(text: str) -> None:
    assert find_secrets(text) == find_secrets(text, engine="re") == []


def test_line_numbers_and_offsets() -> None:
    text = (
        "import os\n"
        "\n"
        f'AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"\n'
        "def f():\n"
        f"    return '{GITHUB_PAT}'\n"
        "# Jane <jane.doe@acme-corp.io>\n"
    )
    findings = find_secrets(text)
    assert [(f.kind, f.line) for f in findings] == [
        ("aws_access_key_id", 3),
        ("github_token", 5),
        ("email", 6),
    ]
    assert [text[f.start : f.end] for f in findings] == [
        AWS_KEY_ID,
        GITHUB_PAT,
        "jane.doe@acme-corp.io",
    ]


def test_many_findings_in_one_text() -> None:
    text = "\n".join(
        (
            f"STRIPE_KEY={STRIPE_LIVE}",
            f"SLACK_WEBHOOK={SLACK_HOOK}",
            "DB_PASSWORD=hunter2!x",
            "DATABASE_URL=postgres://app:S3cr3t-Pw@10.12.3.45/app",
            f"GOOGLE_MAPS={GOOGLE_KEY}",
        )
    )
    redacted, findings = redact(text)
    assert redacted.splitlines() == [
        "STRIPE_KEY=<SECRET:stripe_key>",
        "SLACK_WEBHOOK=https://<SECRET:slack_webhook>",
        "DB_PASSWORD=<SECRET:password_assignment>",
        "DATABASE_URL=postgres://app:<SECRET:url_credentials>@<PII:ipv4>/app",
        "GOOGLE_MAPS=<SECRET:google_api_key>",
    ]
    assert [f.line for f in findings] == [1, 2, 3, 4, 4, 5]


def test_same_span_goes_to_the_specific_rule() -> None:
    assert kinds(f'GITHUB_TOKEN = "{GITHUB_PAT}"') == ["github_token"]
    assert kinds(f"Authorization: Bearer {JWT}") == ["jwt"]


def test_contained_finding_merges_into_the_widest() -> None:
    text = f'credentials = "{AWS_KEY_ID}:{AWS_SECRET}"'
    redacted, findings = redact(text)
    assert redacted == 'credentials = "<SECRET:generic_secret_assignment>"'
    assert len(findings) == 1


def test_partial_overlap_merges_into_the_union() -> None:
    spans = [(0, 6, 0, "jwt"), (4, 14, 1, "email"), (20, 24, 2, "ipv4")]
    assert list(sanitize.merge(spans)) == [("email", 0, 14), ("ipv4", 20, 24)]


def test_same_width_overlap_goes_to_the_earlier_rule() -> None:
    spans = [(0, 10, 1, "generic_secret_assignment"), (0, 10, 0, "github_token")]
    assert list(sanitize.merge(sorted(spans))) == [("github_token", 0, 10)]


def test_redaction_is_idempotent() -> None:
    text = "\n".join(
        [template.format(secret) for _, secret, template in TOKENS]
        + [text for _, _, text in ASSIGNMENTS]
        + [text for _, _, text in PII]
        + [PRIVATE_KEY, "DATABASE_URL=postgres://app:S3cr3t-Pw@db:5432/app"]
    )
    once, findings = redact(text)
    assert len(findings) >= len(TOKENS) + len(ASSIGNMENTS) + len(PII)
    assert redact(once) == (once, [])


def test_text_without_secrets_is_unchanged() -> None:
    text = "def add(a: int, b: int) -> int:\n    return a + b\n"
    assert redact(text) == (text, [])


def test_finding_is_frozen() -> None:
    finding = Finding(kind="jwt", line=1, start=0, end=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.kind = "email"  # type: ignore[misc]
    assert finding.placeholder == "<SECRET:jwt>"
    assert Finding(kind="email", line=1, start=0, end=3).placeholder == "<PII:email>"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 200_000,
        "-----BEGIN RSA PRIVATE KEY-----\n" * 5_000,
        "://" + ":" * 100_000 + "@",
        "1." * 100_000,
        "token:" * 30_000,
        "password=" * 30_000,
        "x@" + "a." * 100_000,
        "password = '" + "\\'" * 50_000,
    ],
)
def test_pathological_inputs_stay_linear(text: str) -> None:
    started = time.perf_counter()
    find_secrets(text)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "services/api/.env",
        ".env.local",
        ".env.production",
        "deploy/prod.env",
        "certs/server.pem",
        "tls/server.key",
        "home/ci/.ssh/id_rsa",
        "id_ed25519",
        "keystore/client.p12",
        "signing.pfx",
        "android/release.jks",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        "credentials.json",
        "client_secret_1234.apps.googleusercontent.com.json",
        "home/ci/.aws/credentials",
        "infra/terraform.tfstate",
        "C:\\Users\\ci\\.ssh\\id_rsa",
    ],
)
def test_secret_files(path: str) -> None:
    assert is_secret_file(path)


@pytest.mark.parametrize(
    "path",
    [
        ".env.example",
        ".env.sample",
        ".env.template",
        "config/.env.dist",
        "id_rsa.pub",
        "certs/ca.crt",
        "src/environment.py",
        "src/keys.py",
        "credentials.py",
        "README.md",
        ".envrc.md",
    ],
)
def test_not_secret_files(path: str) -> None:
    assert not is_secret_file(path)
