"""Unit tests for the token and assignment families of ``streams.sanitize`` beyond the basics.

Each planted secret sits in a real snippet of the language it would leak from; each look-alike is
something real code is full of. Tokens are assembled from pieces so that no scanner, ours or a
host's push protection, sees a whole credential in this file.
"""

import base64
import random
import string

import pytest

from streams.sanitize import PII_KINDS, find_secrets, redact

rng = random.Random(7)


def rand(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"


def assert_redacted(text: str, kind: str, secret: str) -> str:
    redacted, findings = redact(text)
    assert redact(text, engine="re") == (redacted, findings)  # hyperscan or not, the same
    family = "PII" if kind in PII_KINDS else "SECRET"
    assert f"<{family}:{kind}>" in redacted, (text, findings)
    assert secret not in redacted
    return redacted


TOKENS = [
    ("discord_bot_token", "M" + rand(ALNUM, 23) + "." + rand(URLSAFE, 6) + "." + rand(URLSAFE, 27)),
    ("discord_webhook", "discord.com/api/webhooks/" + "1" * 18 + "/" + rand(URLSAFE, 68)),
    ("telegram_bot_token", "123456789" + ":AA" + rand(URLSAFE, 33)),
    ("mailgun_api_key", "key-" + rand(HEX, 32)),
    ("mailchimp_api_key", rand(HEX, 32) + "-us" + "14"),
    ("square_token", "sq0atp-" + rand(URLSAFE, 22)),
    ("gcp_oauth_client_secret", "GOCSPX-" + rand(URLSAFE, 28)),
    ("azure_ad_client_secret", "abc" + "8Q~" + rand(ALNUM, 34)),
    ("gitlab_token", "glrt-" + rand(ALNUM, 20)),
    ("gitlab_token", "GR1348941" + rand(ALNUM, 20)),
    ("bitbucket_app_password", "ATBB" + rand(ALNUM, 32)),
    ("stripe_key", "whsec_" + rand(ALNUM, 32)),
    ("perplexity_api_key", "pplx-" + rand(ALNUM, 48)),
    ("rubygems_api_key", "rubygems_" + rand(HEX, 48)),
    ("age_secret_key", "AGE-SECRET-KEY-1" + rand("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L".upper(), 58)),
    ("alibaba_access_key_id", "LTAI" + rand(ALNUM, 20)),
    ("artifactory_token", "AKCp" + rand(ALNUM, 69)),
    ("databricks_token", "dapi" + rand(HEX, 32)),
    ("doppler_token", "dp.pt." + rand(ALNUM, 43)),
    ("dynatrace_token", "dt0c01." + rand(ALNUM, 24) + "." + rand(ALNUM, 64)),
    ("grafana_token", "glsa_" + rand(ALNUM, 32) + "_" + rand(HEX, 8)),
    ("terraform_cloud_token", rand(ALNUM, 14) + ".atlasv1." + rand(URLSAFE, 64)),
    ("airtable_token", "pat" + rand(ALNUM, 14) + "." + rand(HEX, 64)),
    ("twitter_bearer_token", "A" * 21 + rand(ALNUM, 40) + "%3D" + rand(ALNUM, 50)),
    ("fcm_server_key", "AAAA" + rand(URLSAFE, 7) + ":APA91b" + rand(URLSAFE, 134)),
    ("typeform_token", "tfp_" + rand(URLSAFE, 44) + "_" + rand(ALNUM, 14)),
    ("contentful_token", "CFPAT-" + rand(URLSAFE, 43)),
    ("figma_token", "figd_" + rand(URLSAFE, 40)),
    ("tailscale_key", "tskey-auth-" + rand(ALNUM, 12) + "CNTRL-" + rand(ALNUM, 32)),
    ("buildkite_token", "bkua_" + rand(HEX, 40)),
    ("circleci_token", "CCIPAT_" + rand(ALNUM, 22) + "_" + rand(HEX, 40)),
    ("resend_api_key", "re_" + rand(ALNUM, 8) + "_" + rand(ALNUM, 24)),
    ("heroku_api_key", "HRKU-AA" + rand(URLSAFE, 58)),
    ("linear_api_key", "lin_api_" + rand(ALNUM, 40)),
    ("newrelic_key", "NRAK-" + rand(string.ascii_uppercase + string.digits, 27)),
    ("planetscale_token", "pscale_tkn_" + rand(URLSAFE, 43)),
    ("postman_api_key", "PMAK-" + rand(HEX, 24) + "-" + rand(HEX, 34)),
    ("pulumi_token", "pul-" + rand(HEX, 40)),
    ("sentry_token", "sntryu_" + rand(HEX, 64)),
    ("shippo_api_key", "shippo_" + "live_" + rand(HEX, 40)),
    ("openshift_token", "sha256~" + rand(URLSAFE, 43)),
    ("facebook_access_token", "EAAC" + rand(ALNUM, 120)),
    ("huggingface_token", "api_org_" + rand(string.ascii_letters, 34)),
    # AI providers and platforms whose keys reach code more and more
    ("openrouter_api_key", "sk-or-" + "v1-" + rand(HEX, 64)),
    ("groq_api_key", "gsk" + "_" + rand(ALNUM, 52)),
    ("xai_api_key", "xai" + "-" + rand(ALNUM, 80)),
    ("replicate_api_token", "r8" + "_" + rand(ALNUM, 37)),
    ("langsmith_api_key", "lsv2_" + "pt_" + rand(HEX, 32) + "_" + rand(HEX, 10)),
    ("pinecone_api_key", "pcsk" + "_" + rand(ALNUM, 5) + "_" + rand(ALNUM, 60)),
    ("google_oauth_token", "ya29" + ".a0" + rand(URLSAFE, 150)),
    ("mapbox_secret_token", "sk.eyJ" + "1Ijoi" + rand(URLSAFE, 50) + "." + rand(URLSAFE, 22)),
    ("supabase_token", "sbp" + "_" + rand(HEX, 40)),
    ("supabase_token", "sb_" + "secret_" + rand(URLSAFE, 31)),
    ("netlify_token", "nfp" + "_" + rand(ALNUM, 36)),
    ("render_api_key", "rnd" + "_" + rand(ALNUM, 32)),
    ("dropbox_token", "sl" + ".u." + rand(URLSAFE, 140)),
    ("tencent_secret_id", "AKID" + rand(ALNUM, 32)),
]


@pytest.mark.parametrize(
    ("kind", "token"), TOKENS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(TOKENS)]
)
def test_prefixed_tokens_in_a_client_call(kind: str, token: str) -> None:
    assert_redacted(f'    client := api.NewClient("{token}")', kind, token)


GITHUB = "gh" + "p_" + rand(ALNUM, 36)
AWS_ID = "AKIA" + rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
AWS_SECRET = rand(ALNUM, 38) + "/+"
PASSWORD = "Kx9#mP2vL7q"

# (kind, secret, snippet) in Python, JavaScript, TypeScript/TSX, Go, Java and Rust
LANGUAGES = [
    ("github_token", GITHUB, 'gh = Github(auth=Auth.Token("{}"))'),
    ("github_token", GITHUB, "const octokit = new Octokit({{ auth: '{}' }});"),
    ("github_token", GITHUB, "const client: Octokit = new Octokit({{ auth: `{}` }});"),
    ("github_token", GITHUB, 'export const App = () => <Api token="{}" />;'),
    ("github_token", GITHUB, 'client := github.NewClient(nil).WithAuthToken("{}")'),
    ("github_token", GITHUB, 'GitHub github = new GitHubBuilder().withOAuthToken("{}").build();'),
    (
        "github_token",
        GITHUB,
        'let octo = Octocrab::builder().personal_token("{}".into()).build()?;',
    ),
    ("password_assignment", PASSWORD, 'conn = psycopg.connect(host="db", password="{}")'),
    ("password_assignment", PASSWORD, "const pool = new Pool({{ user: 'app', password: '{}' }});"),
    ("password_assignment", PASSWORD, 'const config: DbConfig = {{ password: "{}", port: 5432 }};'),
    ("password_assignment", PASSWORD, 'cfg := mysql.Config{{User: "app", Passwd: "{}"}}'),
    ("password_assignment", PASSWORD, 'dataSource.setPassword("{}");'),
    ("password_assignment", PASSWORD, 'let opts = PgConnectOptions::new().password("{}");'),
    ("aws_secret_access_key", AWS_SECRET, 'session = boto3.Session(aws_secret_access_key="{}")'),
    ("aws_secret_access_key", AWS_SECRET, "const s3 = new S3({{ secretAccessKey: '{}' }});"),
    ("aws_secret_access_key", AWS_SECRET, "{},AKIA" + "Y7Q3ZK5N2P4R6T7W"),
]


@pytest.mark.parametrize(("kind", "secret", "template"), LANGUAGES)
def test_secrets_in_each_language(kind: str, secret: str, template: str) -> None:
    assert_redacted(template.format(secret), kind, secret)


def test_aws_secret_beside_its_key_id_in_a_credentials_csv() -> None:
    text = f"User name,Access key ID,Secret access key\nci,{AWS_ID},{AWS_SECRET}\n"
    assert [f.kind for f in find_secrets(text)] == ["aws_access_key_id", "aws_secret_access_key"]


LARAVEL_KEY = base64.b64encode(rng.randbytes(32)).decode()

CONFIGS = [
    ("password_assignment", PASSWORD, "<settings><password>{}</password></settings>"),
    ("password_assignment", PASSWORD, '<add key="DbPassword" value="{}" />'),
    ("password_assignment", PASSWORD, '<property name="password" value="{}"/>'),
    ("password_assignment", PASSWORD, "spring.datasource.password={}"),
    (
        "password_assignment",
        PASSWORD,
        "apiVersion: v1\nkind: Secret\nstringData:\n  password: {}\n",
    ),
    ("password_assignment", PASSWORD, "[client]\nuser = app\npassword = {}\n"),
    ("password_assignment", "M4ple_435", "smtp:\n  smtp_pass: {}\n"),
    ("password_assignment", "VRJrzbBDDagO", "[db]\npassword = {}\n"),
    ("password_assignment", "%Vpt5SHs6^LQ", "DB_PASSWORD={}\n"),
    ("connection_string", PASSWORD, 'url = "jdbc:sqlserver://db:1433;user=sa;password={};"'),
    ("connection_string", PASSWORD, '"Server=db;Database=app;User Id=sa;Password={};"'),
    ("connection_string", PASSWORD, "jdbc:mysql://db:3306/app?user=app&password={}&useSSL=true"),
    ("url_credentials", "p@ss#w0rd!", "REDIS_URL=redis://app:{}@cache.internal:6379/0"),
    ("netrc_password", PASSWORD, 'RUN echo "machine github.com login ci password {}" > ~/.netrc'),
    ("cli_password", PASSWORD, "curl -fsS -u deploy:{} https://nexus.internal/repo"),
    ("cli_password", PASSWORD, 'curl --user "deploy:{}" https://nexus.internal/repo'),
    ("cli_password", PASSWORD, "mysqldump -h db -u app -p{} app > dump.sql"),
    ("cli_password", PASSWORD, "sshpass -p '{}' ssh deploy@build.internal"),
    ("laravel_app_key", LARAVEL_KEY, "      - APP_KEY=base64:{}"),
    ("laravel_app_key", LARAVEL_KEY, "'key' => env('APP_KEY', 'base64:{}'),"),
    ("password_assignment", PASSWORD, 'props.put("password", "{}");'),
    ("generic_secret_assignment", AWS_SECRET, 'token = os.getenv("API_TOKEN", "{}")'),
    ("npm_token", "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "//registry.npmjs.org/:_authToken={}"),
    (
        "azure_shared_access_key",
        rand(B64, 43) + "=",
        '"Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={}"',
    ),
    (
        "azure_sas_token",
        rand(B64, 43) + "%3D",
        "https://acme.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2030-01-01&sp=r&sig={}",
    ),
    ("bearer_token", rand(HEX, 40), 'headers = {{"Authorization": "Token {}"}}'),
]


@pytest.mark.parametrize(("kind", "secret", "text"), CONFIGS)
def test_secrets_in_configs_and_connection_strings(kind: str, secret: str, text: str) -> None:
    assert_redacted(text.format(secret), kind, secret)


def test_putty_private_key_lines_are_redacted() -> None:
    body = [base64.b64encode(rng.randbytes(48)).decode() for _ in range(4)]
    text = "\n".join(
        (
            "PuTTY-User-Key-File-3: ssh-rsa",
            "Encryption: none",
            "Public-Lines: 1",
            "AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
            "Private-Lines: 4",
            *body,
            "Private-MAC: 0a1b2c",
        )
    )
    redacted = assert_redacted(text, "private_key", body[2])
    assert "Private-MAC: 0a1b2c" in redacted


SHA = rand(HEX, 40)
UUID = "3f2b8c1e-9d4a-4e6f-8b7c-2a1d0e9f8c7b"
DIGEST = rand(HEX, 64)

DECOYS = [
    # hashes and ids, even near secret-like words
    f'commit = "{SHA}"',
    f"  rev: {SHA}",
    f'checksum = "sha256:{DIGEST}"',
    f'"integrity": "sha512-{rand(B64, 86)}==",',
    f"digest: sha256:{DIGEST}",
    f'api_key_sha256 = "{DIGEST}"',
    f'token_hash = "{DIGEST}"',
    f'"private_key_id": "{SHA}",',
    f'request_id = "{UUID}"',
    f"const traceId = '{UUID}';",
    f'password_hash = "$2b$12${rand(ALNUM + "./", 53)}"',
    # placeholders and obvious fixtures
    'api_key = "<your-api-key>"',
    "secret_key: YOUR_SECRET_KEY_HERE",
    'password = "{{ vault_db_password }}"',
    "DB_PASSWORD=$(cat /run/secrets/db)",
    "password = %DB_PASSWORD%",
    'token = "gh' + 'p_" + "x" * 36',
    'GITHUB_TOKEN = "gh' + "p_" + "x" * 36 + '"',
    'AWS_ACCESS_KEY_ID = "AKIA' + "X" * 16 + '"',
    'stripe.api_key = "sk_' + "live_" + "0" * 24 + '"',
    "SLACK_TOKEN=xoxb-" + "0" * 12 + "-" + "0" * 12 + "-" + "x" * 24,
    'REDIS_URL = "redis://app:xxxxxx@cache:6379"',
    # environment lookups in each language
    'password = os.environ["DB_PASSWORD"]',
    "const token = process.env.GITHUB_TOKEN;",
    "const apiKey: string = process.env.API_KEY ?? '';",
    'token := os.Getenv("TOKEN")',
    'String password = System.getenv("DB_PASSWORD");',
    'let api_key = std::env::var("API_KEY").expect("API_KEY must be set");',
    # code that handles secrets without holding one
    "bauth.add_password('basic_test_realm', localhost, 'jhylton', 'password')",
    'if not user.check_password("hunter2!x"):',
    'hashed = hash_password("correct horse")',
    'secret = keyring.get_password("acme", "ci")',
    '"output_token": "Jobs[-1].JobId",',
    'SECRET_REF = "settings.SECRET_KEY"',
    "public void setPassword(String password) {",
    # names of secrets' fields, expressions and patterns
    'AttributeOID.CHALLENGE_PASSWORD: "challengePassword",',
    '"sasl_plain_password": "sasl.password",',
    "filters = {'pass': 'bandpass'}",
    '"adminPassword": "[parameters(\'adminPassword\')]",',
    "api_key = \"[reference(parameters('storageAccountName')).primaryEndpoints.blob]\"",
    'access_token: "Object.keys(process.env).filter(isWanted).map(envValue)[0]"',
    "password_keyword = r'(?:secret[-_]?(?:access)?[-_]?key)'",
    "# If True, for multi-metric pass refit='accuracy' to the search",
    # data that only looks random
    f'icon = "data:image/png;base64,iVBORw0KGgo{rand(B64, 120)}"',
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5" + rand(B64, 43) + " ci@build",
    'version = "10.2.3.4"',
    'url = "http://evil:thing@example.com"',
    # prefixes of new token families in ordinary code
    "r8_spare = sk.eyJ",
    'mapbox_public = "pk.eyJ1Ijoi' + rand(URLSAFE, 50) + "." + rand(URLSAFE, 22) + '"',
    'label = "xai-' + "grok" * 20 + '"',
    "nfp_enabled = rnd_seed + gsk_count",
    "re_compile_pattern_cache = figd_loader or tfp_settings",
    'HEADER = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"',
    f'uefi_data = "QUVGSQ+{"A" * 24}{rand(ALNUM, 80)}"',  # base64 data: runs of A's, no "%"
    # credentials a command line or a call leaves to someone else
    'curl -u "$CI_USER:$CI_TOKEN" https://nexus.internal/repo',
    "mysql -u root -p app",
    "docker run -u 1000:1000 image",
    'fields = ("gr_name", "gr_passwd", "gr_gid")',
    'MovedAttribute("HTTPPasswordMgr", "urllib2", "urllib.request")',
    'h.put("password", password)',
]


@pytest.mark.parametrize("text", DECOYS)
def test_look_alikes_are_not_flagged(text: str) -> None:
    assert find_secrets(text) == find_secrets(text, engine="re") == []


def test_documented_aws_example_keys_are_redacted_on_purpose() -> None:
    # well formed: a false positive costs a placeholder, a miss would cost a leak
    text = 'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"'
    assert [f.kind for f in find_secrets(text)] == ["aws_access_key_id"]


def test_aws_key_ids_with_any_digits_are_found() -> None:
    """detect-secrets' shape ([0-9A-Z]{16}), wider than AWS's own base32 alphabet."""
    text = 'KEY = "AKIAUJZDE8GXD6NCF10E"\n'
    assert [f.kind for f in find_secrets(text)] == ["aws_access_key_id"]
    assert "AKIAUJZDE8GXD6NCF10E" not in redact(text)[0]
