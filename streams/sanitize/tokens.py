"""Token rules: a credential recognised by its own shape (``AKIA…``, ``ghp_…``, a PEM block, a JWT).

The families of gitleaks' and detect-secrets' high-confidence rules: cloud keys, VCS tokens,
chat, payment, e-mail and AI provider keys, package-registry tokens, private-key blocks, JWTs,
bearer and basic credentials, passwords in URLs and connection strings. Each rule is a ``re``
pattern, the hyperscan prefilter that marks its lines (the pattern itself, or its distinctive
start) and an ``accept`` check on the value, which always rejects obvious fixtures such as
``ghp_xxxx…``. AWS's documented example keys (``AKIAIOSFODNN7EXAMPLE``) are well formed and are
redacted: a false positive costs a placeholder in the data, a miss costs a leak.
"""

import base64
import binascii
import re
from collections.abc import Callable, Iterator

from streams.sanitize.engine import Rule, Span
from streams.sanitize.values import (
    WORD_CHARS,
    entropy,
    is_fake_token,
    is_placeholder,
    is_varied,
    looks_random,
    mixed_case_digits,
    mixed_token,
)

Accept = Callable[[str], bool]


def token_rule(
    kind: str,
    pattern: str,
    prefilter: str | None = None,
    accept: Accept | None = None,
    gate: str = "",
    caseless: bool = False,
    hints: tuple[str, ...] = (),
) -> Rule:
    """A rule for ``pattern``; ``prefilter`` (hyperscan syntax) defaults to it without lookarounds.

    The span redacted is group ``secret`` when the pattern has one, else the whole match. A match
    that starts with a word character must start a word: checked here, because a leading ``\\b``
    stops ``re`` from skipping ahead to the pattern's literal prefix and costs 20x. ``gate`` is a
    substring of every match, and ``hints`` literal-led patterns that find the lines of every
    match, for patterns that do not start with a literal (see ``Rule``).
    """
    compiled = re.compile(pattern, re.A | (re.I if caseless else 0))
    group = "secret" if "secret" in compiled.groupindex else 0

    def find(text: str, lo: int, hi: int) -> Iterator[Span]:
        for match in compiled.finditer(text, lo, hi):
            start = match.start()
            if start and text[start - 1] in WORD_CHARS and match[0][0] in WORD_CHARS:
                continue
            value = match[group]
            if not is_fake_token(value) and (accept is None or accept(value)):
                yield kind, match.start(group), match.end(group)

    prefilters = (_LOOKAROUND.sub("", pattern) if prefilter is None else prefilter,)
    gate = gate or ("" if caseless else _literal_prefix(pattern))
    return Rule(find, prefilters, gate=gate, hints=hints, caseless=caseless)


def _literal_prefix(pattern: str) -> str:
    """The literal text every match of ``pattern`` starts with (``AIza`` of ``AIza[\\w-]{35}``).

    A substring test for it is several times faster than the regex scan that it spares. A pattern
    with a top-level alternative (``a…|b…``) has none.
    """
    if _has_top_level_alternative(pattern):
        return ""
    literal: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "./-~:":
            char, i = pattern[i + 1], i + 1
        elif not (char.isalnum() or char in "_-~:=,"):
            break
        if i + 1 < len(pattern) and pattern[i + 1] in "?*{":
            break  # the character is optional or repeated
        literal.append(char)
        i += 1
    return "".join(literal)


def _has_top_level_alternative(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return True
    return False


_LOOKAROUND = re.compile(r"\(\?<?[!=][^()]*\)")  # hyperscan has no zero-width assertions


def _has_key_body(block: str) -> bool:
    return re.search(r"[A-Za-z0-9+/]{40}", block) is not None


def _is_bearer(value: str) -> bool:
    return mixed_token(value) and entropy(value) >= 3.0


def _is_basic_auth(value: str) -> bool:
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep and user and password and decoded.isprintable())


def _is_encoded_private_key(value: str) -> bool:
    """Base64 of ``-----BEGIN … PRIVATE KEY-----`` (the header is in the first 80 characters)."""
    try:
        header = base64.b64decode(value[:80], validate=True)
    except binascii.Error:
        return False
    return b"PRIVATE KEY" in header


def _is_url_encoded_token(value: str) -> bool:
    """A random token in URL encoding (``%2B``, ``%3D``): base64 data has runs of A's too, but
    no ``%``."""
    return "%" in value and mixed_token(value)


def _is_real_password(value: str) -> bool:
    return not is_placeholder(value)


# --- private keys: multi-line, so they run from their header through the block -----------------

_PEM = r"-----(?:BEGIN|END)[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----"
_PRIVATE_KEY = re.compile(
    # up to END, or, for a truncated block, its header and the base64 chunks that follow
    rf"{_PEM}(?:[\s\S]*?{_PEM}|(?:(?:\\[nr]|[\s\"'`,+])*[A-Za-z0-9+/=]{{16,}})+)",
    re.A,
)
_PUTTY_KEY = re.compile(  # the header and the whole base64 lines after it
    r"Private-Lines:[ \t]*\d+[ \t]*\r?\n(?:[A-Za-z0-9+/=]{4,}[ \t]*\r?\n)*"
    r"[A-Za-z0-9+/=]{4,}(?=[ \t]*(?:\r?\n|\Z))"
)


def _multiline(
    kind: str, pattern: re.Pattern[str], accept: Accept
) -> Callable[..., Iterator[Span]]:
    def find(text: str, lo: int, hi: int) -> Iterator[Span]:
        for match in pattern.finditer(text, lo):
            if match.start() >= hi:
                return
            if accept(match[0]):
                yield kind, match.start(), match.end()

    return find


_PRIVATE_KEYS = (
    Rule(
        _multiline("private_key", _PRIVATE_KEY, _has_key_body),
        (r"-----(?:BEGIN|END)[ A-Z0-9_-]{0,40}PRIVATE KEY",),
        gate="PRIVATE KEY",
        multiline=True,
    ),
    token_rule(  # a PEM block in base64, as kubeconfig's client-key-data holds one
        "private_key",
        r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{40,}={0,2}",
        r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{40}",
        _is_encoded_private_key,
    ),
    Rule(
        _multiline("private_key", _PUTTY_KEY, _has_key_body),
        (r"Private-Lines:",),
        gate="Private-Lines:",
        multiline=True,
    ),
)


# --- AWS: the key id by its prefix, the secret key by the id beside it ---------------------------

# Real ids use base32 ([A-Z2-7]); detect-secrets accepts any upper-case alphanumerics, and so do
# we: the prefix and the length are specific enough, and a missed key costs more than a flag.
_AWS_KEY_ID = re.compile(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", re.A)
# 40 base64 characters standing alone: ``AKIA…,wJalr…`` in a credentials CSV, ``id:secret``
_AWS_SECRET_BESIDE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", re.A)


def _find_aws(text: str, lo: int, hi: int) -> Iterator[Span]:
    for match in _AWS_KEY_ID.finditer(text, lo, hi):
        start = match.start()
        if (start and text[start - 1] in WORD_CHARS) or is_fake_token(match[0]):
            continue
        yield "aws_access_key_id", start, match.end()
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        line_end = len(text) if line_end == -1 else line_end
        for secret in _AWS_SECRET_BESIDE.finditer(text, line_start, line_end):
            if mixed_case_digits(secret[0]) and not is_fake_token(secret[0]):
                yield "aws_secret_access_key", secret.start(), secret.end()


_AWS = Rule(
    _find_aws, (r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",), gate="A", caseless=False
)


# --- everything recognised by a prefix or a fixed shape ------------------------------------------

_SHAPES: tuple[Rule, ...] = (
    token_rule(
        "github_token",
        r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{22,255})\b",
        r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22}",
        looks_random,
        hints=("gh[pousr]_", "github_pat_"),
    ),
    token_rule(
        "gitlab_token",
        r"gl(?:pat|dt|ptt|rt|soat|cbt|ft|imt|agent|oas|ffct)-[\w-]{20,}|GR1348941[\w-]{20,}",
        r"gl(?:pat|dt|ptt|rt|soat|cbt|ft|imt|agent|oas|ffct)-[\w-]{20}|GR1348941[\w-]{20}",
        looks_random,
        hints=("gl[a-z]{2,5}-", "GR1348941"),
    ),
    token_rule("gitlab_session_cookie", r"_gitlab_session=(?P<secret>[0-9a-z]{32})", None),
    token_rule("bitbucket_app_password", r"ATBB[A-Za-z0-9_=.-]{32,}", r"ATBB[A-Za-z0-9_=.-]{32}"),
    token_rule("atlassian_api_token", r"ATATT3[\w=-]{150,}", r"ATATT3[\w=-]{150}"),
    token_rule(
        "slack_webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/",
    ),
    token_rule(
        "slack_token",
        r"xox[abeoprs]-[A-Za-z0-9-]{10,250}|xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+",
        r"xox[abeoprs]-[A-Za-z0-9-]{10}|xapp-\d-",
        mixed_token,
        hints=("xox", "xapp-"),
    ),
    token_rule(
        "discord_webhook",
        r"discord(?:app)?\.com/api/webhooks/\d{17,20}/[\w-]{60,68}",
        r"discord(?:app)?\.com/api/webhooks/",
    ),
    token_rule(
        "discord_bot_token",
        r"[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,38}(?![\w-])",
        r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}",
        mixed_case_digits,
        gate=".",
        hints=("\\.[A-Za-z0-9_-]{6}\\.",),
    ),
    token_rule(
        "telegram_bot_token",
        r"\d{8,10}:AA[\w-]{33}(?![\w-])",
        r"[0-9]{8,10}:AA[\w-]{33}",
        mixed_case_digits,
        gate=":AA",
        hints=(":AA",),
    ),
    token_rule(
        "stripe_key",
        r"(?:[rs]k_(?:live|test|prod)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{32,})\b",
        r"[rs]k_(?:live|test|prod)_[A-Za-z0-9]{10}|whsec_[A-Za-z0-9]{32}",
        looks_random,
        gate="_",
        hints=("k_live_", "k_test_", "k_prod_", "whsec_"),
    ),
    token_rule("twilio_api_key", r"SK[0-9a-fA-F]{32}\b", r"SK[0-9a-fA-F]{32}", mixed_token),
    token_rule(
        "sendgrid_api_key",
        r"SG\.[\w-]{22}\.[\w-]{43}(?![\w-])",
        r"SG\.[\w-]{22}\.[\w-]{43}",
    ),
    token_rule("mailgun_api_key", r"key-[0-9a-f]{32}\b", r"key-[0-9a-f]{32}", mixed_token),
    token_rule(
        "mailchimp_api_key",
        r"[0-9a-f]{32}-us\d{1,2}\b",
        r"[0-9a-f]{32}-us[0-9]",
        mixed_token,
        gate="-us",
        hints=("-us\\d",),
    ),
    token_rule(
        "square_token",
        r"(?:sq0atp-[\w-]{22}|sq0csp-[\w-]{43}|EAAA[\w-]{60})(?![\w-])",
        r"sq0atp-[\w-]{22}|sq0csp-[\w-]{43}|EAAA[\w-]{60}",
        looks_random,
        hints=("sq0atp-", "sq0csp-", "EAAA"),
    ),
    token_rule("google_api_key", r"AIza[\w-]{35}(?![\w-])", r"AIza[\w-]{35}"),
    token_rule("gcp_oauth_client_secret", r"GOCSPX-[\w-]{28}(?![\w-])", r"GOCSPX-[\w-]{28}"),
    token_rule(
        "azure_storage_key",
        r"AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)",
        r"AccountKey=[A-Za-z0-9+/]{86}==",
    ),
    token_rule(
        "azure_shared_access_key",
        r"SharedAccessKey=(?P<secret>[A-Za-z0-9+/]{42,43}=)",
        r"SharedAccessKey=[A-Za-z0-9+/]{42}",
    ),
    token_rule(
        "azure_sas_token",
        r"[?&]sig=(?P<secret>[A-Za-z0-9%+/]{40,}(?:=|%3[Dd]){0,2})",
        r"[?&]sig=[A-Za-z0-9%+/]{40}",
        mixed_token,
        gate="sig=",
        hints=("sig=",),
    ),
    token_rule(
        "azure_ad_client_secret",
        r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31}",
        mixed_token,
        gate="Q~",
        hints=("Q~",),
    ),
    token_rule("anthropic_api_key", r"sk-ant-[\w-]{32,}", r"sk-ant-[\w-]{32}", mixed_token),
    token_rule(
        "openai_api_key",
        r"sk-(?:proj-|svcacct-|admin-)?[\w-]{20,}",
        r"sk-(?:proj-|svcacct-|admin-)?[\w-]{20}",
        mixed_case_digits,
    ),
    token_rule("perplexity_api_key", r"pplx-[A-Za-z0-9]{48}\b", r"pplx-[A-Za-z0-9]{48}"),
    token_rule("openrouter_api_key", r"sk-or-v1-[a-f0-9]{64}\b", r"sk-or-v1-[a-f0-9]{64}"),
    token_rule("groq_api_key", r"gsk_[A-Za-z0-9]{52}\b", r"gsk_[A-Za-z0-9]{52}", looks_random),
    token_rule("xai_api_key", r"xai-[A-Za-z0-9]{80}\b", r"xai-[A-Za-z0-9]{80}", looks_random),
    token_rule("replicate_api_token", r"r8_[A-Za-z0-9]{37}\b", r"r8_[A-Za-z0-9]{37}", looks_random),
    token_rule(
        "langsmith_api_key", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b", r"lsv2_(?:pt|sk)_"
    ),
    token_rule(
        "pinecone_api_key",
        r"pcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{40,90}\b",
        r"pcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{40}",
        looks_random,
    ),
    token_rule(
        "huggingface_token",
        r"(?:hf_|api_org_)[A-Za-z]{34}\b",
        accept=is_varied,
        hints=("hf_", "api_org_"),
    ),
    token_rule("npm_token", r"npm_[A-Za-z0-9]{36}\b", r"npm_[A-Za-z0-9]{36}", looks_random),
    token_rule(
        "npm_token",
        r":_auth(?:Token)?[ \t]*=[ \t]*(?P<secret>[^\s\"'`]{8,})",
        r":_auth(?:Token)?[ \t]*=",
        _is_real_password,
        gate=":_auth",
    ),
    token_rule("pypi_token", r"pypi-AgEIcHlwaS5vcmc[\w-]{50,}", r"pypi-AgEIcHlwaS5vcmc[\w-]{50}"),
    token_rule("rubygems_api_key", r"rubygems_[a-f0-9]{48}\b", r"rubygems_[a-f0-9]{48}"),
    token_rule("clojars_token", r"CLOJARS_[a-z0-9]{60}\b", r"CLOJARS_[a-z0-9]{60}"),
    token_rule("docker_token", r"dckr_pat_[\w-]{27,}", r"dckr_pat_[\w-]{27}", looks_random),
    token_rule("digitalocean_token", r"do[opr]_v1_[a-f0-9]{64}\b", r"do[opr]_v1_[a-f0-9]{64}"),
    token_rule(
        "shopify_token",
        r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        r"shp(?:at|ca|pa|ss)_",
        mixed_token,
    ),
    token_rule("vault_token", r"hv[sb]\.[\w-]{90,}", r"hv[sb]\.[\w-]{90}"),
    token_rule(  # Laravel's encryption key, where APP_KEY is given one: .env, compose, config
        "laravel_app_key",
        r"APP_KEY[^\n]{0,40}?base64:(?P<secret>[A-Za-z0-9+/]{43}=)",
        r"APP_KEY[^\n]{0,40}base64:[A-Za-z0-9+/]{43}=",
        looks_random,
    ),
    token_rule("age_secret_key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}\b", r"AGE-SECRET-KEY-1"),
    token_rule(
        "alibaba_access_key_id", r"LTAI[A-Za-z0-9]{20}\b", r"LTAI[A-Za-z0-9]{20}", looks_random
    ),
    token_rule("artifactory_token", r"AKCp[A-Za-z0-9]{69}\b", r"AKCp[A-Za-z0-9]{69}"),
    token_rule("databricks_token", r"dapi[a-f0-9]{32}(?:-\d)?\b", r"dapi[a-f0-9]{32}", mixed_token),
    token_rule(
        "doppler_token",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40}",
    ),
    token_rule(
        "dynatrace_token", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}\b", r"dt0c01\.[A-Za-z0-9]{24}"
    ),
    token_rule("easypost_api_key", r"EZ[AT]K[A-Za-z0-9]{54}\b", r"EZ[AT]K[A-Za-z0-9]{54}"),
    token_rule(
        "flutterwave_secret_key",
        r"FLWSECK(?:_TEST)?-[A-Za-z0-9]{12,32}(?:-X)?\b",
        r"FLWSECK(?:_TEST)?-[A-Za-z0-9]{12}",
    ),
    token_rule("frameio_token", r"fio-u-[\w=-]{64}", r"fio-u-[\w=-]{64}"),
    token_rule(
        "flyio_token",
        r"(?:fo1_[\w-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})(?![\w-])",
        r"fo1_[\w-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100}",
        hints=("fo1_", "fm1", "fm2_"),
    ),
    token_rule(
        "grafana_token",
        r"(?:glc_[A-Za-z0-9+/]{32,400}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
        r"|eyJrIjoi[A-Za-z0-9]{70,400}={0,3})(?![\w+/=])",
        r"glc_[A-Za-z0-9+/]{32}|glsa_[A-Za-z0-9]{32}_|eyJrIjoi[A-Za-z0-9]{70}",
        mixed_token,
        hints=("glc_", "glsa_", "eyJrIjoi"),
    ),
    token_rule(
        "terraform_cloud_token",
        r"[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60,70}",
        r"[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60}",
        gate=".atlasv1.",
        hints=("\\.atlasv1\\.",),
    ),
    token_rule("heroku_api_key", r"HRKU-AA[\w-]{58}", r"HRKU-AA[\w-]{58}"),
    token_rule("google_oauth_token", r"ya29\.[\w-]{60,}", r"ya29\.[\w-]{60}", mixed_token),
    token_rule(
        "mapbox_secret_token", r"sk\.eyJ[\w-]{40,}\.[\w-]{20,}", r"sk\.eyJ[\w-]{40}", mixed_token
    ),
    token_rule(
        "supabase_token",
        r"sbp_[a-f0-9]{40}\b|sb_secret_[\w-]{31,}",
        r"sbp_[a-f0-9]{40}|sb_secret_[\w-]{31}",
        mixed_token,
    ),
    token_rule("netlify_token", r"nfp_[A-Za-z0-9]{36}\b", r"nfp_[A-Za-z0-9]{36}", looks_random),
    token_rule("render_api_key", r"rnd_[A-Za-z0-9]{32}\b", r"rnd_[A-Za-z0-9]{32}", looks_random),
    token_rule(
        "dropbox_token", r"sl\.(?:u\.)?[\w=-]{130,}", r"sl\.(?:u\.)?[\w=-]{130}", mixed_token
    ),
    token_rule("tencent_secret_id", r"AKID[A-Za-z0-9]{32}\b", r"AKID[A-Za-z0-9]{32}", looks_random),
    token_rule("linear_api_key", r"lin_api_[A-Za-z0-9]{40}\b", r"lin_api_[A-Za-z0-9]{40}"),
    token_rule(
        "newrelic_key",
        r"(?:NRAK-[A-Z0-9]{27}|NRII-[\w-]{32}|NRJS-[a-f0-9]{19})\b",
        r"NRAK-[A-Z0-9]{27}|NRII-[\w-]{32}|NRJS-[a-f0-9]{19}",
    ),
    token_rule("notion_token", r"ntn_\d{11}[A-Za-z0-9]{35}\b", r"ntn_[0-9]{11}[A-Za-z0-9]{35}"),
    token_rule(
        "airtable_token", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"
    ),
    token_rule(  # an app-only bearer token: 21 A's, then its URL-encoded body
        "twitter_bearer_token",
        r"A{21}(?P<secret>[A-Za-z0-9%]{30,})",
        r"A{21}[A-Za-z0-9%]{30}",
        _is_url_encoded_token,
    ),
    token_rule(
        "fcm_server_key",
        r"AAAA[\w-]{7}:APA91b[\w-]{130,140}",
        r"AAAA[\w-]{7}:APA91b[\w-]{130}",
    ),
    token_rule("typeform_token", r"tfp_[\w.=-]{40,64}", r"tfp_[\w.=-]{40}", mixed_token),
    token_rule("contentful_token", r"CFPAT-[\w-]{43}\b", r"CFPAT-[\w-]{43}", mixed_token),
    token_rule("figma_token", r"figd_[\w-]{38,48}\b", r"figd_[\w-]{38}", mixed_token),
    token_rule(
        "tailscale_key",
        r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}",
        r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6}",
        mixed_token,
    ),
    token_rule("buildkite_token", r"bkua_[a-f0-9]{40}\b", r"bkua_[a-f0-9]{40}"),
    token_rule(
        "circleci_token", r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}\b", r"CCIPAT_[A-Za-z0-9]{22}_"
    ),
    token_rule(
        "resend_api_key", r"re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}\b", r"re_[A-Za-z0-9]{8}_", mixed_token
    ),
    token_rule(
        "planetscale_token",
        r"pscale_(?:tkn|oauth|pw)_[\w=.-]{32,64}",
        r"pscale_(?:tkn|oauth|pw)_[\w=.-]{32}",
    ),
    token_rule("postman_api_key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}\b", r"PMAK-[a-f0-9]{24}-"),
    token_rule("prefect_api_key", r"pnu_[A-Za-z0-9]{36}\b", r"pnu_[A-Za-z0-9]{36}"),
    token_rule("pulumi_token", r"pul-[a-f0-9]{40}\b", r"pul-[a-f0-9]{40}"),
    token_rule("readme_api_key", r"rdme_[a-z0-9]{70}\b", r"rdme_[a-z0-9]{70}"),
    token_rule("scalingo_token", r"tk-us-[\w-]{48}(?![\w-])", r"tk-us-[\w-]{48}"),
    token_rule(
        "sendinblue_api_key", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b", r"xkeysib-[a-f0-9]{64}-"
    ),
    token_rule(
        "sentry_token",
        r"sntryu_[a-f0-9]{64}\b|sntrys_eyJpYXQiO[A-Za-z0-9+/=_]{50,}",
        r"sntryu_[a-f0-9]{64}|sntrys_eyJpYXQiO",
    ),
    token_rule(
        "shippo_api_key", r"shippo_(?:live|test)_[a-fA-F0-9]{40}\b", r"shippo_(?:live|test)_"
    ),
    token_rule(
        "onepassword_token", r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}", r"ops_eyJ[A-Za-z0-9+/]{250}"
    ),
    token_rule("infracost_api_key", r"ico-[A-Za-z0-9]{32}\b", r"ico-[A-Za-z0-9]{32}", looks_random),
    token_rule("duffel_api_key", r"duffel_(?:test|live)_[\w=-]{43}", r"duffel_(?:test|live)_"),
    token_rule(
        "maxmind_license_key",
        r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b",
        r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk",
        gate="_mmk",
        hints=("_mmk",),
    ),
    token_rule(
        "teams_webhook",
        r"webhook\.office\.com/webhookb2/[\w@/-]{60,}",
        r"webhook\.office\.com/webhookb2/",
    ),
    token_rule("openshift_token", r"sha256~[\w-]{43}(?![\w-])", r"sha256~[\w-]{43}"),
    token_rule("facebook_access_token", r"EAA[MC][A-Za-z0-9]{100,}", r"EAA[MC][A-Za-z0-9]{100}"),
    token_rule("octopus_api_key", r"API-[A-Z0-9]{26}\b", r"API-[A-Z0-9]{26}", mixed_token),
    token_rule(
        "adobe_client_secret", r"p8e-[A-Za-z0-9]{32}\b", r"p8e-[A-Za-z0-9]{32}", looks_random
    ),
    token_rule(
        "cloudflare_origin_ca_key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b", r"v1\.0-[a-f0-9]{24}-"
    ),
    token_rule("settlemint_token", r"sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}\b", r"sm_(?:aat|pat|sat)_"),
    token_rule(
        "jwt", r"eyJ[\w-]{10,}\.ey[\w-]{10,}\.[\w-]{10,}", r"eyJ[\w-]{10}[\w-]*\.ey[\w-]{10}"
    ),
)

# --- credentials in a context: an HTTP header, a URL, a connection string ------------------------

_CONTEXTS: tuple[Rule, ...] = (
    token_rule(
        "bearer_token",
        r"(?:[Bb]earer|[Tt]oken)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)",
        r"(?:[Bb]earer|[Tt]oken)[ \t]+[A-Za-z0-9._~+/-]{20}",
        _is_bearer,
        gate="e",
        hints=("earer[ \\t]", "oken[ \\t]"),
    ),
    token_rule(
        "basic_auth",
        r"Basic[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])",
        r"Basic[ \t]+[A-Za-z0-9+/]{8}",
        _is_basic_auth,
    ),
    token_rule(
        "url_credentials",
        # only the password of the userinfo is redacted; the user name stays readable
        # a raw "#" or "@" belongs to the password in a pasted DSN: the host follows the last "@";
        # passwords for the reserved example domains (RFC 2606) are documentation
        r"://[^\s:/?#@\"'`<>]{0,100}:(?P<secret>[^\s/?\"'`]{1,200})@"
        r"(?![\w.-]*\bexample\.(?:com|org|net)\b|[\w.-]+\.(?:test|example|invalid)\b)[\w\[]",
        r"://[^\s:/?#@\"'`<>]{0,100}:[^\s/?\"'`]{1,200}@[\w\[]",
        _is_real_password,
    ),
    token_rule(
        "netrc_password",
        # a .netrc entry on one line, as scripts write one: machine HOST login USER password SECRET
        r"machine[ \t]+\S+(?:[ \t]+(?:login|account)[ \t]+\S+)*[ \t]+password[ \t]+"
        r"(?P<secret>[^\s\"'`]{4,})",
        r"machine[ \t]+\S+[ \t].*password[ \t]+[^\s\"'`]",
        _is_real_password,
    ),
    token_rule(
        "cli_password",  # curl's -u user:password
        r"curl[ \t](?:[^\n]*?[ \t])?(?:-u|--user)[ \t=]*[\"']?[^\s:\"'@$]+:"
        r"(?P<secret>[^\s\"'@$]{4,})",
        r"curl[ \t](?:.*[ \t])?(?:-u|--user)[ \t=]*[\"']?[^\s:\"'@$]+:[^\s\"'@$]",
        _is_real_password,
    ),
    token_rule(
        "cli_password",  # sshpass -p SECRET
        r"sshpass[ \t]+-p[ \t]*[\"']?(?P<secret>[^\s\"'$-][^\s\"']{3,})",
        r"sshpass[ \t]+-p[ \t]*[\"']?[^\s\"'$-]",
        _is_real_password,
    ),
    token_rule(
        "cli_password",  # mysql's -pSECRET (with a space after -p it asks for one instead)
        r"(?:mysql|mysqldump|mysqladmin|mariadb)[ \t][^\n]*?[ \t]"
        r"-p(?P<secret>[^\s\"'$-][^\s\"']{3,})",
        r"(?:mysql|mysqldump|mysqladmin|mariadb)[ \t].*[ \t]-p[^\s\"'$-]",
        _is_real_password,
        hints=("mysql", "mariadb"),
    ),
    token_rule(
        "connection_string",
        # JDBC, ADO.NET and ODBC: ``;Password=…;``, ``?user=app&password=…``
        r"[;?&][ \t]*(?:password|passwd|pwd)[ \t]*=[ \t]*(?P<secret>[^;&\s\"'`<>]{1,200})",
        r"[;?&][ \t]*(?:password|passwd|pwd)[ \t]*=[ \t]*[^;&\s\"'`<>]",
        _is_real_password,
        caseless=True,
        hints=("password", "passwd", "pwd"),
    ),
)

TOKEN_RULES: tuple[Rule, ...] = (*_PRIVATE_KEYS, _AWS, *_SHAPES, *_CONTEXTS)
