"""Find and redact secrets and personal data in source text before it reaches a table or a model.

Three families of rules run over a text. Token rules know a credential by its own shape (``AKIA…``,
``ghp_…``, ``xoxb-…``, ``sk_live_…``, ``AIza…``, a PEM private-key block, a JWT, the password of
``scheme://user:pass@host``) and cover the high-confidence rules of gitleaks and detect-secrets.
The assignment rule flags a literal given to a secret-like name (``password``, ``api_key``,
``client_secret``, ``AUTH_TOKEN`` …) in Python, JS/TS, Go, Java, Rust, YAML, JSON, INI and .env
syntax, unless the value is a placeholder (``""``, ``changeme``, ``<your-token>``, ``${VAR}``,
``{{ .Values.x }}``), a reference (``os.environ[…]``, ``settings.SECRET_KEY``, ``password=password``)
or, for names that are not password-like, shorter than 8 characters, below 3 bits/char of Shannon
entropy or made of lowercase words. PII rules find e-mail addresses (not the reserved
``example.com``/``.test``/``localhost`` domains, nor role ``noreply@`` senders, but GitHub's
personal ``users.noreply.github.com`` ones) and IPv4 addresses (not loopback, ``0.*``, broadcast,
multicast, the RFC 5737 documentation ranges or a version number such as ``version = "1.2.3.4"``;
private ranges are redacted because they map the team's network). Findings that overlap merge into
one span named after the widest of them, so no part of a secret survives; ``redact`` replaces each
span with ``<SECRET:kind>`` or ``<PII:kind>`` and its output is a fixed point. ``is_secret_file``
names files that are secrets by nature. Patterns compile at import, each token rule is gated by a
substring check and none can backtrack catastrophically, so a clean text costs a few linear scans.
"""

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

PII_KINDS = frozenset({"email", "ipv4"})

_Span = tuple[str, int, int]  # kind, start, end
_Finder = Callable[[str], Iterator[_Span]]


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret or piece of PII: its rule kind, 1-based line and ``[start, end)`` offsets."""

    kind: str
    line: int
    start: int
    end: int

    @property
    def placeholder(self) -> str:
        family = "PII" if self.kind in PII_KINDS else "SECRET"
        return f"<{family}:{self.kind}>"


# --- values that are not secrets ---------------------------------------------------------------

_PLACEHOLDER_WORDS = frozenset(
    """your my the an example sample dummy fake test testing placeholder changeme change me
    changeit replace insert enter put here secret password passwd pwd pass passphrase token api
    key apikey access private client auth credential credentials value foo bar baz qux todo tbd
    fixme redacted hidden masked none null nil undefined true false default string str goes real
    actual this that some dev demo mock admin user username super xxx""".split()
)
_LONGEST_WORD = max(map(len, _PLACEHOLDER_WORDS))
_FILLER_CHARS = frozenset("xX*#.-_ •0")
_TEMPLATE = re.compile(
    r"\$\{|\{\{|%\(|#\{|<%|^\$[A-Za-z_]\w*$|^\{\w*\}$|^<[^<>]*>$|^%[sdr]$|^__\w+__$|^@\w+@$", re.A
)
_PIECE_SEPARATORS = re.compile(r"[-_.\s/:]+")


def _is_vocab_phrase(word: str) -> bool:
    """Whether ``word`` (lowercase letters) is a run of placeholder words: ``mysecretpassword``."""
    ends = [True] + [False] * len(word)
    for i in range(1, len(word) + 1):
        ends[i] = any(
            ends[j] and word[j:i] in _PLACEHOLDER_WORDS for j in range(max(0, i - _LONGEST_WORD), i)
        )
    return ends[-1]


def _is_placeholder(value: str) -> bool:
    """A whole value that stands for a secret: ``xxx``, ``<your-token>``, ``${VAR}``, ``test123``.

    "EXAMPLE" inside a well-formed key (AWS's ``AKIAIOSFODNN7EXAMPLE``) does not count: every piece
    of the value must be placeholder words, optionally followed by digits.
    """
    if not value or set(value) <= _FILLER_CHARS or _TEMPLATE.search(value):
        return True
    if len(value) > 64:
        return False
    pieces = [p for p in _PIECE_SEPARATORS.split(value.lower()) if p]
    words = [p.rstrip("0123456789") for p in pieces]
    return any(words) and all(not w or (w.isalpha() and _is_vocab_phrase(w)) for w in words)


def _entropy(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _is_varied(value: str) -> bool:
    """Digits, mixed case or symbols: how tokens look and how lowercase identifiers do not."""
    has_upper = any(c.isupper() for c in value)
    has_lower = any(c.islower() for c in value)
    return any(c.isdigit() for c in value) or (has_upper and has_lower) or not value.isalnum() and (
        any(c in "/+=!@#$%^&*~?" for c in value)
    )


# --- token rules: a credential recognised by its own shape -------------------------------------


def _token_rule(
    kind: str, pattern: str, keywords: tuple[str, ...], accept: Callable[[str], bool] | None = None
) -> _Finder:
    """A finder for ``pattern``, run only when one of ``keywords`` occurs in the text.

    The span redacted is group ``secret`` when the pattern has one, else the whole match.
    """
    compiled = re.compile(pattern, re.A)
    group = "secret" if "secret" in compiled.groupindex else 0

    def find(text: str) -> Iterator[_Span]:
        if not any(k in text for k in keywords):
            return
        for match in compiled.finditer(text):
            if accept is None or accept(match[group]):
                yield kind, match.start(group), match.end(group)

    return find


def _has_key_body(block: str) -> bool:
    return re.search(r"[A-Za-z0-9+/]{40}", block) is not None


def _mixed_token(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _mixed_case_digits(value: str) -> bool:
    return _mixed_token(value) and any(c.isupper() for c in value) and any(c.islower() for c in value)


def _is_bearer(value: str) -> bool:
    return _mixed_token(value) and _entropy(value) >= 3.0


def _is_basic_auth(value: str) -> bool:
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep and user and password and decoded.isprintable())


def _is_real_password(value: str) -> bool:
    return not _is_placeholder(value)


_PEM = r"-----(?:BEGIN|END)[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----"
_TOKEN_FINDERS: tuple[_Finder, ...] = (
    _token_rule(
        "private_key",
        # up to END, or, for a truncated block, its header and the base64 chunks that follow
        rf"{_PEM}(?:[\s\S]*?{_PEM}|(?:(?:\\[nr]|[\s\"'`,+])*[A-Za-z0-9+/=]{{16,}})+)",
        ("PRIVATE KEY",),
        _has_key_body,
    ),
    _token_rule(
        "aws_access_key_id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
    ),
    _token_rule(
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{22,255})\b",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        _mixed_token,
    ),
    _token_rule(
        "gitlab_token",
        r"\bgl(?:pat|dt|ptt|rt|soat|cbt)-[\w-]{20,}",
        ("glpat-", "gldt-", "glptt-", "glrt-", "glsoat-", "glcbt-"),
        _mixed_token,
    ),
    _token_rule(
        "slack_webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
        ("hooks.slack.com",),
    ),
    _token_rule(
        "slack_token",
        r"\bxox[abeoprs]-[A-Za-z0-9-]{10,250}|\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+",
        ("xox", "xapp-"),
        _mixed_token,
    ),
    _token_rule(
        "stripe_key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,247}\b", ("k_live_", "k_test_"),
        _mixed_token,
    ),
    _token_rule("google_api_key", r"\bAIza[\w-]{35}(?![\w-])", ("AIza",)),
    _token_rule("anthropic_api_key", r"\bsk-ant-[\w-]{32,}", ("sk-ant-",), _mixed_token),
    _token_rule(
        "openai_api_key",
        r"\bsk-(?:proj-|svcacct-|admin-)?[\w-]{20,}",
        ("sk-",),
        _mixed_case_digits,
    ),
    _token_rule("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", ("npm_",), _mixed_token),
    _token_rule("sendgrid_api_key", r"\bSG\.[\w-]{22}\.[\w-]{43}(?![\w-])", ("SG.",)),
    _token_rule("twilio_api_key", r"\bSK[0-9a-fA-F]{32}\b", ("SK",), _mixed_token),
    _token_rule("pypi_token", r"\bpypi-AgEIcHlwaS5vcmc[\w-]{50,}", ("pypi-AgEIcHlwaS5vcmc",)),
    _token_rule("huggingface_token", r"\bhf_[A-Za-z]{34}\b", ("hf_",), _is_varied),
    _token_rule("docker_token", r"\bdckr_pat_[\w-]{27,}", ("dckr_pat_",), _mixed_token),
    _token_rule("digitalocean_token", r"\bdo[opr]_v1_[a-f0-9]{64}\b", ("_v1_",)),
    _token_rule(
        "shopify_token",
        r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
        _mixed_token,
    ),
    _token_rule("vault_token", r"\bhv[sb]\.[\w-]{90,}", ("hvs.", "hvb.")),
    _token_rule(
        "azure_storage_key", r"AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)", ("AccountKey=",)
    ),
    _token_rule("jwt", r"\beyJ[\w-]{10,}\.ey[\w-]{10,}\.[\w-]{10,}", ("eyJ",)),
    _token_rule(
        "bearer_token",
        r"(?i:\bbearer)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)",
        ("earer", "EARER"),
        _is_bearer,
    ),
    _token_rule(
        "basic_auth",
        r"(?i:\bbasic)[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])",
        ("asic", "ASIC"),
        _is_basic_auth,
    ),
    _token_rule(
        "url_credentials",
        # only the password of the userinfo is redacted; the user name stays readable
        r"://[^\s:/?#@\"'`<>]{0,100}:(?P<secret>[^\s/?#@\"'`]{1,200})@[\w\[]",
        ("://",),
        _is_real_password,
    ),
)


# --- the assignment rule: a literal given to a secret-like name ---------------------------------

_NAME_HIT = re.compile(
    r"passw(?:or)?d|passphrase|pwd|secret|token|auth|credential"
    r"|(?:api|access|private|signing|encryption|master)[-_]?key",
    re.A | re.I,
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.-")
_NAME_AFTER = re.compile(r"[\w$.-]*", re.A)
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", re.A)
_PASSWORD_WORDS = ("password", "passwd", "passphrase")
_SECRET_WORDS = frozenset({"secret", "token", "auth", "credential", "credentials", "pwd"})
_SECRET_KEYS = ("apikey", "accesskey", "privatekey", "secretkey", "signingkey", "encryptionkey",
                "masterkey", "authkey", "clientsecret")
# names that describe a secret rather than hold one: ``token_url``, ``PASSWORD_MIN_LENGTH``
_DESCRIPTIVE_SUFFIXES = frozenset(
    """url uri urls endpoint type types name names path file filename dir length len size count
    ttl timeout expiry expires expiration header prefix suffix field fields format pattern regex
    re env var method mode provider backend class enabled required policy version help text label
    message msg prompt description hint title error errors warning input selector id ids arn ref
    host hostname domain server port user username email issuer audience scope scopes algorithm
    alg kind min max""".split()
)
_ASSIGNMENT = re.compile(
    r"""
    ["'`]?\]?                                               # end of a key: "password": ["token"] =
    (?:[ \t]*:[ \t]*&?(?:'static[ \t]+)?[\w.\[\]<>|?, ]{1,60}?(?=[ \t]*=[^=>]))?   # : str, : &str
    (?:[ \t]+[A-Za-z_][\w.\[\]*]*(?=[ \t]*=[^=>]))?          # Go: var token string =
    [ \t]*(?P<op>:=|=>|\?\?=|\|\|=|\?=|=|:)(?![=:])[ \t]*
    (?:(?:[rRbBuU]{1,2}|@)?(?P<quote>["'`])(?P<quoted>(?:\\.|[^\\\n])*?)(?P=quote)
      |(?P<bare>[^\s"'`][^\n]*))
    """,
    re.A | re.X,
)
# where an unquoted value is a literal: .env, YAML, INI, Dockerfile ENV, a --flag
_BARE_PREFIX = re.compile(r"[ \t]*(?:(?:export|ENV|ARG|set)[ \t]+|-[ \t]+)?", re.A)
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*", re.A)
_REFERENCE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+", re.A)
_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?/[a-z0-9_./-]*", re.A)
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}", re.A)


def _classify_name(name: str) -> str | None:
    """``password`` for password-like names, ``secret`` for other secret-like ones, else None."""
    words = [w.lower() for w in _NAME_WORD.findall(name.rsplit(".", 1)[-1])]
    if not words or words[-1] in _DESCRIPTIVE_SUFFIXES:
        return None
    if any(w.endswith(_PASSWORD_WORDS) for w in words):
        return "password"
    joined = "".join(words)
    if any(w in _SECRET_WORDS or w.endswith(("token", "secret")) for w in words):
        return "secret"
    return "secret" if any(k in joined for k in _SECRET_KEYS) else None


def _bare_value(raw: str) -> str | None:
    """The literal of an unquoted ``KEY=value`` / ``key: value``, or None where it is code."""
    value = re.split(r"[ \t]#", raw, maxsplit=1)[0].strip()
    if not value or value[-1] in ",;)" or value[0] in "$%<!&*|>":
        return None
    if any(c.isspace() or c in "\"'`()[]{}" for c in value) or _REFERENCE.fullmatch(value):
        return None
    return value


def _assignment_kind(name_class: str, name: str, value: str, ambiguous: bool) -> str | None:
    """The kind of finding ``name = value`` is, or None when the value is not a secret.

    ``ambiguous`` marks a bare identifier (``password: userPassword``) that may be code: it must
    look like a token, digits included, whatever the name.
    """
    if _is_placeholder(value) or value.isdigit() or "://" in value or _PATH_LIKE.fullmatch(value):
        return None
    if any(c.isspace() for c in value):  # prose, messages and passphrases are left for later
        return None
    lowered = name.lower()
    if ("aws" in lowered or "secret_access" in lowered) and _AWS_SECRET.fullmatch(value):
        return "aws_secret_access_key"
    if ambiguous and (not any(c.isdigit() for c in value) or _NAME_HIT.search(value)):
        return None
    if name_class == "password" and not ambiguous:
        return "password_assignment" if len(value) >= 6 else None
    if len(value) < 8 or _entropy(value) < 3.0 or not _is_varied(value):
        return None
    return "password_assignment" if name_class == "password" else "generic_secret_assignment"


def _find_assignments(text: str) -> Iterator[_Span]:
    done = 0
    for hit in _NAME_HIT.finditer(text):
        if hit.start() < done:
            continue
        start = hit.start()
        while start > 0 and hit.start() - start < 100 and text[start - 1] in _NAME_CHARS:
            start -= 1
        end = _NAME_AFTER.match(text, hit.end()).end()  # type: ignore[union-attr]
        done = end
        name = text[start:end]
        name_class = _classify_name(name)
        match = _ASSIGNMENT.match(text, end) if name_class else None
        if match is None or name_class is None:
            continue
        if match["quote"]:
            value, value_start, ambiguous = match["quoted"], match.start("quoted"), False
        else:
            line_start = text.rfind("\n", 0, start) + 1
            if _BARE_PREFIX.fullmatch(text, line_start, start) is None and not name.startswith("--"):
                continue
            if match["op"] == ":" and match.start("bare") == match.end("op"):
                continue  # YAML needs a space after the colon; this is a scheme or a path
            bare = _bare_value(match["bare"])
            if bare is None:
                continue
            value, value_start = bare, match.start("bare")
            env_style = text.startswith("=", end) and value_start == end + 1
            ambiguous = not env_style and _IDENTIFIER.fullmatch(value) is not None
        kind = _assignment_kind(name_class, name, value, ambiguous)
        if kind is not None:
            done = value_start + len(value)
            yield kind, value_start, done
