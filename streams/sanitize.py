"""Find and redact secrets and personal data in source text before it reaches a table or a model.

Token rules know a credential by its own shape (``AKIA…``, ``ghp_…``, ``xoxb-…``, ``sk_live_…``,
a PEM private-key block, a JWT, the password in ``scheme://user:pass@host``), after the
high-confidence rules of gitleaks and detect-secrets. The assignment rule flags a literal given to a
secret-like name (``password``, ``api_key``, ``AUTH_TOKEN`` …) in Python, JS/TS, Go, Java, Rust,
YAML, JSON, INI or .env syntax, unless it is a placeholder (``changeme``, ``<your-token>``,
``${VAR}``), a reference (``os.environ[…]``, ``password=password``) or, for a name that is not
password-like, too short, too regular or too low in entropy to be a key. PII rules find e-mail and
IPv4 addresses; the exemptions are documented beside them. Overlapping findings merge into one span
named after the widest, so no part of a secret survives; ``redact`` puts ``<SECRET:kind>`` or
``<PII:kind>`` in its place and its output is a fixed point. ``is_secret_file`` names files that are
secrets by nature. Patterns compile at import and start with a literal that ``re`` can skip ahead
to, and none can backtrack catastrophically, so a clean text costs a few fast linear scans.
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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PLACEHOLDER_WORDS = _words(
    """your my the an example sample dummy fake test testing placeholder changeme change me
    changeit replace insert enter put here secret password passwd pwd pass passphrase token api
    key apikey access private client auth credential credentials value foo bar baz qux todo tbd
    fixme redacted hidden masked none null nil undefined true false default string str goes real
    actual this that some dev demo mock admin user username super xxx"""
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
    has_symbol = any(c in "/+=!@#$%^&*~?" for c in value)
    return any(c.isdigit() for c in value) or (has_upper and has_lower) or has_symbol


# --- token rules: a credential recognised by its own shape -------------------------------------


def _token_rule(
    kind: str, pattern: str, accept: Callable[[str], bool] | None = None, gate: str = ""
) -> _Finder:
    """A finder for ``pattern``, run only when ``gate`` occurs in the text.

    The span redacted is group ``secret`` when the pattern has one, else the whole match. A match
    that starts with a word character must start a word: checked here, because a leading ``\\b``
    stops ``re`` from skipping ahead to the pattern's literal prefix and costs 20x. For the same
    reason a pattern that does not start with a literal gets a ``gate``, a substring it contains.
    """
    compiled = re.compile(pattern, re.A)
    group = "secret" if "secret" in compiled.groupindex else 0

    def find(text: str) -> Iterator[_Span]:
        if gate not in text:
            return
        for match in compiled.finditer(text):
            start = match.start()
            if start and text[start - 1] in _WORD_CHARS and match[0][0] in _WORD_CHARS:
                continue
            if accept is None or accept(match[group]):
                yield kind, match.start(group), match.end(group)

    return find


def _has_key_body(block: str) -> bool:
    return re.search(r"[A-Za-z0-9+/]{40}", block) is not None


def _mixed_token(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _mixed_case_digits(value: str) -> bool:
    return (
        _mixed_token(value) and any(c.isupper() for c in value) and any(c.islower() for c in value)
    )


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


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_PEM = r"-----(?:BEGIN|END)[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----"
_TOKEN_FINDERS: tuple[_Finder, ...] = (
    _token_rule(
        "private_key",
        # up to END, or, for a truncated block, its header and the base64 chunks that follow
        rf"{_PEM}(?:[\s\S]*?{_PEM}|(?:(?:\\[nr]|[\s\"'`,+])*[A-Za-z0-9+/=]{{16,}})+)",
        _has_key_body,
    ),
    _token_rule("aws_access_key_id", r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"),
    _token_rule(
        "github_token", r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{22,255})\b", _mixed_token
    ),
    _token_rule("gitlab_token", r"gl(?:pat|dt|ptt|rt|soat|cbt)-[\w-]{20,}", _mixed_token),
    _token_rule(
        "slack_webhook", r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}"
    ),
    _token_rule(
        "slack_token",
        r"xox[abeoprs]-[A-Za-z0-9-]{10,250}|xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+",
        _mixed_token,
    ),
    _token_rule(
        "stripe_key", r"[rs]k_(?:live|test)_[A-Za-z0-9]{10,247}\b", _mixed_token, gate="k_"
    ),
    _token_rule("google_api_key", r"AIza[\w-]{35}(?![\w-])"),
    _token_rule("anthropic_api_key", r"sk-ant-[\w-]{32,}", _mixed_token),
    _token_rule("openai_api_key", r"sk-(?:proj-|svcacct-|admin-)?[\w-]{20,}", _mixed_case_digits),
    _token_rule("npm_token", r"npm_[A-Za-z0-9]{36}\b", _mixed_token),
    _token_rule("sendgrid_api_key", r"SG\.[\w-]{22}\.[\w-]{43}(?![\w-])"),
    _token_rule("twilio_api_key", r"SK[0-9a-fA-F]{32}\b", _mixed_token),
    _token_rule("pypi_token", r"pypi-AgEIcHlwaS5vcmc[\w-]{50,}"),
    _token_rule("huggingface_token", r"hf_[A-Za-z]{34}\b", _is_varied),
    _token_rule("docker_token", r"dckr_pat_[\w-]{27,}", _mixed_token),
    _token_rule("digitalocean_token", r"do[opr]_v1_[a-f0-9]{64}\b"),
    _token_rule("shopify_token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b", _mixed_token),
    _token_rule("vault_token", r"hv[sb]\.[\w-]{90,}"),
    _token_rule("azure_storage_key", r"AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)"),
    _token_rule("jwt", r"eyJ[\w-]{10,}\.ey[\w-]{10,}\.[\w-]{10,}"),
    _token_rule(
        "bearer_token",
        r"[Bb]earer[ \t]+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)",
        _is_bearer,
        gate="earer",
    ),
    _token_rule(
        "basic_auth",
        r"Basic[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])",
        _is_basic_auth,
    ),
    _token_rule(
        "url_credentials",
        # only the password of the userinfo is redacted; the user name stays readable
        r"://[^\s:/?#@\"'`<>]{0,100}:(?P<secret>[^\s/?#@\"'`]{1,200})@[\w\[]",
        _is_real_password,
    ),
)


# --- the assignment rule: a literal given to a secret-like name ---------------------------------

_NAME_HIT = re.compile(
    r"pass|pwd|secret|token|auth|credential"
    r"|(?:api|access|private|signing|encryption|master)[-_]?key",
    re.A | re.I,
)
_NAME_KEYWORDS = ("pass", "pwd", "secret", "token", "auth", "credential")
_KEY_QUALIFIER = re.compile(r"(?:api|access|private|signing|encryption|master)[-_]?$", re.A)
_NAME_CHARS = _WORD_CHARS | frozenset("$.-")
_NAME_AFTER = re.compile(r"[\w$.-]*", re.A)
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", re.A)
_PASSWORD_WORDS = ("password", "passwd", "passphrase")
_SECRET_WORDS = _words("secret token auth authorization credential credentials pwd")
_SECRET_KEYS = tuple(
    _words("""apikey accesskey privatekey secretkey signingkey encryptionkey masterkey authkey
    clientsecret""")
)
# names that describe a secret rather than hold one: ``token_url``, ``PASSWORD_MIN_LENGTH``
_DESCRIPTIVE_SUFFIXES = _words(
    """url uri urls endpoint type types name names path file filename dir length len size count
    ttl timeout expiry expires expiration header prefix suffix field fields format pattern regex
    re env var method mode provider backend class enabled required policy version help text label
    message msg hdr prompt description hint title error errors warning input selector arn ref
    host hostname domain server port user username email issuer audience scope scopes algorithm
    alg kind min max start end begin sep separator delimiter char chars"""
)
_ASSIGNMENT = re.compile(
    r"""
    ["'`]?\]?                                               # end of a key: "password": ["token"] =
    (?:[ \t]*:[ \t]*&?(?:'static[ \t]+)?[\w.\[\]<>|?, ]{1,60}?(?=[ \t]*=[^=>]))?   # : str, : &str
    (?:[ \t]+[A-Za-z_][\w.\[\]*]*(?=[ \t]*=[^=>]))?          # Go: var token string =
    [ \t]*(?P<op>:=|=>|\?\?=|\|\|=|\?=|=|:)(?![=:])[ \t]*
    (?:(?:[rRbBuU]{1,2}|@)?(?P<quote>["'`])(?P<quoted>(?:\\.|[^\\\n]){0,1024}?)(?P=quote)
      |(?P<bare>[^\s"'`][^\n]{0,1023}))                    # bounded: each name costs O(1)
    """,
    re.A | re.X,
)
# where an unquoted value is a literal: .env, YAML, INI, Dockerfile ENV, a --flag
_BARE_PREFIX = re.compile(r"[ \t]*(?:(?:export|ENV|ARG|set)[ \t]+|-[ \t]+)?", re.A)
_COMMENT = re.compile(r"[ \t]#")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*", re.A)
_REFERENCE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+", re.A)
_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?/[a-z0-9_./-]*", re.A)
_WORDS = re.compile(r"(?:[A-Z]?[a-z]+[-_.]?)+", re.A)  # "Proxy-Authorization", "client_credentials"
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}", re.A)


def _classify_name(name: str) -> str | None:
    """``password`` for password-like names, ``secret`` for other secret-like ones, else None."""
    words = [w.lower() for w in _NAME_WORD.findall(name.rsplit(".", 1)[-1])]
    if not words or words[-1] in _DESCRIPTIVE_SUFFIXES:
        return None
    if words[-1] == "pass" or any(w.endswith(_PASSWORD_WORDS) for w in words):
        return "password"  # DB_PASS, but not pass_rate or bypass
    joined = "".join(words)
    if any(w in _SECRET_WORDS or w.endswith(("token", "secret")) for w in words):
        return "secret"
    return "secret" if any(k in joined for k in _SECRET_KEYS) else None


def _bare_literal(text: str, match: re.Match[str], start: int, end: int) -> tuple[str, bool] | None:
    """The unquoted value of ``text[start:end]`` (a name) and whether it is ambiguous, or None.

    Unquoted values are literals only in .env, YAML, INI, Dockerfile ``ENV`` and ``--flag=``
    syntax, where the name starts its line or is a flag. ``KEY=value`` and ``--flag=value`` end at
    whitespace, as in a shell; ``key: value`` runs to a `` #`` comment. Code is not a literal: a
    value with brackets or quotes, ending with ``,``/``;`` or a dotted reference. A bare identifier
    in spaced syntax (``password: userPassword``) is ambiguous: it may be a variable.
    """
    flag = text.startswith("--", start)
    window = max(0, start - 200)  # bounded so a long line with many names stays linear
    line_start = text.rfind("\n", window, start) + 1 or window
    if not flag and _BARE_PREFIX.fullmatch(text, line_start, start) is None:
        return None
    if match["op"] == ":" and match.start("bare") == match.end("op"):
        return None  # YAML needs a space after the colon; this is a scheme or a path
    raw = match["bare"]
    shell_style = text.startswith("=", end) and match.start("bare") == end + 1
    value = raw.split(maxsplit=1)[0] if shell_style else _COMMENT.split(raw, maxsplit=1)[0].strip()
    if not value or value[-1] in ",;)" or value[0] in "$%<!&*|>":
        return None
    if any(c.isspace() or c in "\"'`()[]{}" for c in value) or _REFERENCE.fullmatch(value):
        return None
    return value, not shell_style and _IDENTIFIER.fullmatch(value) is not None


def _assignment_kind(name_class: str, name: str, value: str, ambiguous: bool) -> str | None:
    """The kind of finding ``name = value`` is, or None when the value is not a secret.

    ``ambiguous`` marks a bare identifier (``password: userPassword``) that may be code: it must
    look like a token, digits included, whatever the name.
    """
    if _is_placeholder(value) or value.isdigit() or "://" in value or _PATH_LIKE.fullmatch(value):
        return None
    if any(c.isspace() for c in value):  # prose, messages and passphrases are left for later
        return None
    squashed = name.lower().replace("_", "").replace("-", "")
    if ("aws" in squashed or "secretaccess" in squashed) and _AWS_SECRET.fullmatch(value):
        return "aws_secret_access_key"
    if ambiguous and (not any(c.isdigit() for c in value) or _NAME_HIT.search(value)):
        return None
    if name_class == "password" and not ambiguous:
        return "password_assignment" if len(value) >= 6 else None
    if len(value) < 8 or _entropy(value) < 3.0 or not _is_varied(value) or _WORDS.fullmatch(value):
        return None
    if "\\" in value or _NAME_HIT.search(value):  # a regex, "types-auth0-python", "token_v2"
        return None
    return "password_assignment" if name_class == "password" else "generic_secret_assignment"


def _name_hits(text: str) -> list[int]:
    """Offsets of the keywords every secret-like name contains, in order.

    ``str.find`` over the lowercased text is ten times faster than one case-insensitive regex.
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # a non-ASCII letter lowercased to two characters
        return [hit.start() for hit in _NAME_HIT.finditer(text)]
    hits = [i for keyword in _NAME_KEYWORDS for i in _find_all(lowered, keyword)]
    for i in _find_all(lowered, "key"):
        if _KEY_QUALIFIER.search(lowered, max(0, i - 12), i):
            hits.append(i)
    return sorted(hits)


def _find_all(haystack: str, needle: str) -> Iterator[int]:
    i = haystack.find(needle)
    while i != -1:
        yield i
        i = haystack.find(needle, i + len(needle))


def _find_assignments(text: str) -> Iterator[_Span]:
    done = 0
    for hit in _name_hits(text):
        if hit < done:
            continue
        start = hit
        while start > 0 and hit - start < 100 and text[start - 1] in _NAME_CHARS:
            start -= 1
        after = _NAME_AFTER.match(text, hit)
        end = after.end() if after else hit
        done = end
        name = text[start:end]
        name_class = _classify_name(name)
        match = _ASSIGNMENT.match(text, end) if name_class else None
        if match is None or name_class is None:
            continue
        if match["quote"]:
            value, value_start, ambiguous = match["quoted"], match.start("quoted"), False
        else:
            bare = _bare_literal(text, match, start, end)
            if bare is None:
                continue
            (value, ambiguous), value_start = bare, match.start("bare")
        kind = _assignment_kind(name_class, name, value, ambiguous)
        if kind is not None:
            done = value_start + len(value)
            yield kind, value_start, done


# --- PII -------------------------------------------------------------------------------------

_EMAIL_DOMAIN = re.compile(
    r"@(?P<domain>(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24})(?![\w-])", re.A
)
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}\Z", re.A)
# Not personal: RFC 2606/6761 reserved names, role senders such as ``noreply@company.com``, ssh
# remotes (``git@github.com``). GitHub's ``123+login@users.noreply.github.com`` names a person, so
# it is redacted. The top-level domain must be a country code or a common one, so that code such
# as ``icon@2x.png`` or ``x@layer.weight`` is not an address; rare long TLDs are missed for now.
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
_COMMON_TLDS = _words(
    """com org net edu gov mil int io dev app ai co info biz me tech cloud xyz site online email
    name pro jobs corp internal lan intranet home mail"""
)
_FILE_EXTENSIONS = _words("js py ts md rs go rb sh pl cc hh db gz xz so mk")
_ROLE_SENDERS = frozenset({"noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon"})


def _find_emails(text: str) -> Iterator[_Span]:
    for match in _EMAIL_DOMAIN.finditer(text):
        at = match.start()
        local = _EMAIL_LOCAL.search(text, max(0, at - 64), at)
        if local is None:
            continue
        domain = match["domain"].lower()
        user = local[0].lower()
        scheme = text.rfind("://", max(0, at - 300), at)
        if scheme != -1 and not any(c.isspace() for c in text[scheme:at]):
            continue  # the userinfo of a URL: url_credentials covers its password
        if user == "git":  # an ssh remote, git@github.com:org/repo
            continue
        tld = domain.rsplit(".", 1)[-1]
        if domain.endswith(_RESERVED_DOMAINS) or tld in _FILE_EXTENSIONS:
            continue
        if len(tld) != 2 and tld not in _COMMON_TLDS:  # also .test, .invalid, .localhost
            continue
        if user in _ROLE_SENDERS and domain != "users.noreply.github.com":
            continue
        yield "email", local.start(), match.end()


# Not redacted: 0.*, loopback 127.*, multicast and reserved 224+ (so 255.255.255.255 and netmasks),
# network addresses (*.0), the RFC 5737 documentation nets, quads whose first three parts are single
# digits (versions, RFC sections and OIDs such as 1.2.5.3, 8.2.4.44, 1.3.6.1; also 1.1.1.1 and
# 8.8.8.8, which are nobody's), and a quad after "version", "==", ">=" or "~=" on its line
# (``version = "10.2.3.4"``, ``pkg==14.0.0.1``). Private nets are redacted: they map our network.
_DIGITS = frozenset("0123456789")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w-]|\.\d)", re.A)
# a regex that starts with a literal "." skips through text 30x faster than one starting with \d
_IPV4_HINT = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")
_VERSION_CONTEXT = re.compile(r"(?i)version|(?:==|>=|<=|~=|\^|~)\s*$")
_DOCUMENTATION_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")


def _find_ipv4(text: str) -> Iterator[_Span]:
    for hint in _IPV4_HINT.finditer(text):
        start = hint.start()
        while start > hint.start() - 3 and start > 0 and text[start - 1] in _DIGITS:
            start -= 1
        match = _IPV4.match(text, start)
        if match is None:
            continue
        address = match[0]
        octets = [int(octet) for octet in address.split(".")]
        if octets[0] in (0, 127) or octets[0] >= 224 or octets[3] == 0 or max(octets[:3]) < 10:
            continue
        if address.startswith(_DOCUMENTATION_NETS):
            continue
        window = max(0, start - 40)
        line_start = text.rfind("\n", window, start) + 1 or window
        if _VERSION_CONTEXT.search(text, line_start, start):
            continue
        yield "ipv4", start, match.end()


# --- the API ---------------------------------------------------------------------------------

# order breaks ties between findings of the same width: specific rules before generic ones
_FINDERS: tuple[_Finder, ...] = (*_TOKEN_FINDERS, _find_assignments, _find_emails, _find_ipv4)


def find_secrets(text: str) -> list[Finding]:
    """Every secret and piece of PII in ``text``, in order, overlapping findings merged."""
    spans = sorted(
        (start, end, order, kind)
        for order, finder in enumerate(_FINDERS)
        for kind, start, end in finder(text)
    )
    findings: list[Finding] = []
    line, counted = 1, 0
    for kind, start, end in _merge(spans):
        line += text.count("\n", counted, start)
        counted = start
        findings.append(Finding(kind=kind, line=line, start=start, end=end))
    return findings


def _merge(spans: list[tuple[int, int, int, str]]) -> Iterator[_Span]:
    """Runs of overlapping ``(start, end, rule order, kind)`` spans, sorted by start, as one span.

    The run covers the union of its spans, so no part of any secret is left out, and takes the kind
    of the widest span; ties go to the one that starts first, then to the earlier rule.
    """
    if not spans:
        return
    run_start, run_end, order, kind = spans[0]
    best = (run_start - run_end, run_start, order)
    for start, end, order, candidate in spans[1:]:
        if start >= run_end:
            yield kind, run_start, run_end
            run_start, run_end, kind, best = start, end, candidate, (start - end, start, order)
            continue
        run_end = max(run_end, end)
        if (start - end, start, order) < best:
            kind, best = candidate, (start - end, start, order)
    yield kind, run_start, run_end


def redact(text: str) -> tuple[str, list[Finding]]:
    """``text`` with every finding replaced by ``<SECRET:kind>`` or ``<PII:kind>``, and them."""
    findings = find_secrets(text)
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts += (text[position : finding.start], finding.placeholder)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts), findings


_SECRET_FILE_NAMES = _words(
    """.npmrc .pypirc .netrc _netrc .git-credentials .pgpass .htpasswd .dockercfg .vault-token
    .s3cfg credentials.json id_rsa id_dsa id_ecdsa id_ed25519 terraform.tfstate"""
)
_SECRET_SUFFIXES = tuple(_words(".pem .key .p12 .pfx .jks .keystore .ppk .kdbx .keytab .tfstate"))
_SECRET_PATHS = (".aws/credentials", ".docker/config.json", ".kube/config", ".tfstate.backup")
_TEMPLATE_MARKERS = ("example", "sample", "template", "dist", "defaults", "tmpl", "tpl")


def is_secret_file(path: str) -> bool:
    """Whether the file at ``path`` is a secret by nature (keys, keystores, .env, credentials).

    ``.env``, ``.env.*`` and ``*.env`` count unless their name marks a template (``.env.example``,
    ``.env.sample``, ``.env.template``, ``.env.dist`` …); public halves (``id_rsa.pub``) do not.
    """
    normalized = path.replace("\\", "/").lower()
    name = normalized.rsplit("/", 1)[-1]
    if name in _SECRET_FILE_NAMES or name.endswith(_SECRET_SUFFIXES):
        return True
    if normalized.endswith(_SECRET_PATHS) or re.fullmatch(r"ssh_host_\w+_key", name):
        return True
    if name.startswith("client_secret") and name.endswith(".json"):
        return True
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return not any(marker in name for marker in _TEMPLATE_MARKERS)
    return False
