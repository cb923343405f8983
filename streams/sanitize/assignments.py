"""The assignment rule: a literal given to a secret-like name, in any language we read.

``password = "…"`` in Python, ``const apiKey = '…'`` in JS/TS, ``Password: "…"`` in Go, ``String
DB_PASSWORD = "…"`` in Java, ``let token: &str = "…"`` in Rust, ``password: …`` in YAML, JSON keys,
INI, ``.env`` and ``.properties`` lines, Dockerfile ``ENV``, ``--password=…`` flags, XML elements
and ``key="…" value="…"`` pairs, and setters such as ``setPassword("…")`` or ``.token("…")``. The
value is not a secret when it is a placeholder (``changeme``, ``<your-token>``, ``${VAR}``), a
reference (``os.environ[…]``, ``process.env.X``, ``password=password``) or, for a name that is not
password-like, too short, too regular or too low in entropy to be a key; names that describe a
secret (``token_url``, ``PASSWORD_MIN_LENGTH``, ``key_id``, ``api_key_sha256``) hold no secret.
"""

import re
from collections.abc import Iterator

from streams.sanitize.engine import Rule, Span
from streams.sanitize.values import entropy, has_space, is_placeholder, is_varied, words

_KEYWORDS = ("pass", "pwd", "secret", "token", "auth", "credential")
_KEY_QUALIFIERS = r"(?:api|access|private|signing|encryption|master)[-_]?"
_NAME_HIT = re.compile(rf"pass|pwd|secret|token|auth|credential|{_KEY_QUALIFIERS}key", re.A | re.I)
_KEY_QUALIFIER = re.compile(rf"{_KEY_QUALIFIERS}$", re.A)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.-")
_NAME_AFTER = re.compile(r"[\w$.-]*", re.A)
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", re.A)
_PASSWORD_WORDS = ("password", "passwd", "passphrase")
_SECRET_WORDS = words("secret token auth authorization credential credentials pwd")
_SECRET_KEYS = tuple(
    words("""apikey accesskey privatekey secretkey signingkey encryptionkey masterkey authkey
    clientsecret""")
)
# names that describe a secret rather than hold one: ``token_url``, ``PASSWORD_MIN_LENGTH``
_DESCRIPTIVE_SUFFIXES = words(
    """url uri urls endpoint type types name names path file filename dir length len size count
    ttl timeout expiry expires expiration header prefix suffix field fields format pattern regex
    re env var method mode provider backend class enabled required policy version help text label
    message msg hdr prompt description hint title error errors warning input selector arn ref
    host hostname domain server port user username email issuer audience scope scopes algorithm
    alg kind min max start end begin sep separator delimiter char chars id ids uuid kid hash hashed
    digest checksum fingerprint sha md5 crc"""
)
# a call whose first argument a secret-like name receives: setPassword("…"), .token("…")
_SETTER_VERBS = words("set with use put")
_SECRET_VOCABULARY = words(
    "password passwd pass pwd secret token key api access auth credential credentials bearer"
)
_ASSIGNMENT = re.compile(
    r"""
    ["'`]?\]?                                               # end of a key: "password": ["token"] =
    (?:[ \t]*:[ \t]*&?(?:'static[ \t]+)?[\w.\[\]<>|?, ]{1,60}?(?=[ \t]*=[^=>]))?   # : str, : &str
    (?P<go>[ \t]+[A-Za-z_][\w.\[\]*]*(?=[ \t]*=[^=>]))?      # Go: var token string =
    [ \t]*(?P<op>:=|=>|\?\?=|\|\|=|\?=|=|:|\()(?![=:])[ \t]*
    (?:(?:[rRbBuU]{1,2}|@)?(?P<quote>["'`])(?P<quoted>(?:\\.|[^\\\n]){0,1024}?)(?P=quote)
      |(?P<bare>[^\s"'`][^\n]{0,1023}))                    # bounded: each name costs O(1)
    """,
    re.A | re.X,
)
# a quoted name and its value as a call's first two arguments: put("password", "…"),
# Map.of("api_token", "…"), getenv("TOKEN", "…"); the name ends in the secret's own word
_PAIR_CALL = re.compile(r"[\w$]\([ \t]*\Z", re.A)
_PAIR_NAME_ENDS = _SECRET_VOCABULARY | words("passphrase authorization apikey")
_PAIR = re.compile(
    r"""(?P<close>["'])[ \t]*,[ \t]*(?P<quote>["'])(?P<quoted>(?:\\.|[^\\\n]){1,1024}?)(?P=quote)"""
    r"[ \t]*[),]",
    re.A,
)
_XML_VALUE = re.compile(r">(?P<value>[^<\n]{1,512})</", re.A)
# where an unquoted value is a literal: .env, YAML, INI, Dockerfile ENV, a --flag
_BARE_PREFIX = re.compile(r"[ \t]*(?:(?:export|ENV|ARG|set)[ \t]+|-[ \t]+)?", re.A)
_COMMENT = re.compile(r"[ \t]#")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*", re.A)
_REFERENCE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+", re.A)
_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?/[a-z0-9_./-]*", re.A)
_WORDS = re.compile(r"(?:[A-Z]?[a-z]+[-_.]?)+", re.A)  # "Proxy-Authorization", "client_credentials"
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}", re.A)
_CODE_CHARS = re.compile(r"[\s\"'`()\[\]{}]", re.A)
_EXPRESSION_CHARS = re.compile(r"[\[\](){}<>,;]")
_DIGIT = re.compile(r"\d", re.A)
_CONSTANT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*", re.A)  # DEFAULT_TIMEOUT, HTTP2


def _name_words(name: str) -> list[str]:
    return [w.lower() for w in _NAME_WORD.findall(name.rsplit(".", 1)[-1])]


def _classify_name(name: str) -> str | None:
    """``password`` for password-like names, ``secret`` for other secret-like ones, else None."""
    found = _name_words(name)
    named = [w for w in found if not w.isdigit()]  # api_key_sha256 ends in "sha"
    if not named or named[-1] in _DESCRIPTIVE_SUFFIXES:
        return None
    if found[-1] == "pass" or any(w.endswith(_PASSWORD_WORDS) for w in found):
        return "password"  # DB_PASS, but not pass_rate or bypass
    if any(w in _SECRET_WORDS or w.endswith(("token", "secret")) for w in found):
        return "secret"
    joined = "".join(found)
    return "secret" if any(k in joined for k in _SECRET_KEYS) else None


def _is_setter(name: str) -> bool:
    """``setPassword``, ``WithAuthToken``, ``builder.token``: a call that stores its argument.

    A method named only for the secret (``.password("…")``, ``.apiKey("…")``) is a builder's
    setter; ``add_password(realm, …)`` or ``get_token(name)`` take something else first.
    """
    found = _name_words(name)
    if found[0] in _SETTER_VERBS:
        return True
    return "." in name and all(w in _SECRET_VOCABULARY for w in found)


def _bare_literal(text: str, match: re.Match[str], start: int, end: int) -> tuple[str, bool] | None:
    """The unquoted value of ``text[start:end]`` (a name) and whether it is ambiguous, or None.

    Unquoted values are literals only in .env, YAML, INI, Dockerfile ``ENV`` and ``--flag=``
    syntax, where the name starts its line or is a flag. ``KEY=value`` and ``--flag=value`` end at
    whitespace, as in a shell; ``key: value`` runs to a `` #`` comment. Code is not a literal: a
    value with brackets or quotes, ending with ``,``/``;`` or a dotted reference. A bare identifier
    in spaced syntax (``password: userPassword``) is ambiguous: it may be a variable.
    """
    if match["op"] == "(":
        return None
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
    # a variable or redirection in a shell; also an alias, anchor, tag or block scalar in YAML
    if not value or value[-1] in ",;)" or value[0] in ("$<|>" if shell_style else "$%<!&*|>"):
        return None
    if _CODE_CHARS.search(value) or _REFERENCE.fullmatch(value):
        return None
    return value, not shell_style and _IDENTIFIER.fullmatch(value) is not None


def _looks_like_literal(value: str) -> bool:
    """Whether a bare identifier is more likely a password than a variable: digits inside it
    (``M4ple_435``) or case too irregular for words (``VRJrzbBDDagO``), and no keyword."""
    if _NAME_HIT.search(value) or _WORDS.fullmatch(value) or _CONSTANT.fullmatch(value):
        return False
    if _DIGIT.search(value):
        return True
    return len(value) >= 10 and entropy(value) >= 3.0


def _assignment_kind(name_class: str, name: str, value: str, ambiguous: bool) -> str | None:
    """The kind of finding ``name = value`` is, or None when the value is not a secret.

    ``ambiguous`` marks a bare identifier (``password: userPassword``) that may be code: it must
    look like a literal, whatever the name.
    """
    if is_placeholder(value) or value.isdigit() or "://" in value or _PATH_LIKE.fullmatch(value):
        return None
    if has_space(value):  # prose, messages and passphrases are left for later
        return None
    squashed = name.lower().replace("_", "").replace("-", "")
    if ("aws" in squashed or "secretaccess" in squashed) and _AWS_SECRET.fullmatch(value):
        return "aws_secret_access_key"
    if ambiguous and not _looks_like_literal(value):
        return None
    if name_class == "password":
        if len(value) < 6 or (_WORDS.fullmatch(value) and _NAME_HIT.search(value)):
            return None  # a field's name: "challengePassword", "sasl.password", "bandpass"
        if (value[0], value[-1]) == ("[", "]") or "(?" in value:
            return None  # an expression ("[parameters('adminPassword')]") or a pattern
        return "password_assignment"
    if len(value) < 8 or entropy(value) < 3.0 or not is_varied(value) or _WORDS.fullmatch(value):
        return None
    if "\\" in value or _NAME_HIT.search(value):  # a regex, "types-auth0-python", "token_v2"
        return None
    if _REFERENCE.fullmatch(value) or (_EXPRESSION_CHARS.search(value) and not _random(value)):
        return None  # an expression or a path: "Jobs[-1].JobId", "settings.SECRET_KEY"
    return "password_assignment" if name_class == "password" else "generic_secret_assignment"


def _random(value: str) -> bool:
    """Too long and too varied to be an expression: a key drawn from punctuation as well, as
    Django's ``SECRET_KEY`` is (``!@#$%^&*(-_=+)``). The expressions seen stay under 4.6 bits
    a character; 50 characters drawn from Django's 50 score about 5.4."""
    return len(value) >= 32 and entropy(value) >= 4.8


def _name_hits(text: str, lo: int, hi: int) -> list[int]:
    """Offsets of the keywords every secret-like name contains, in order.

    ``str.find`` over the lowercased text is ten times faster than one case-insensitive regex.
    """
    lowered = text[lo:hi].lower()
    if len(lowered) != hi - lo:  # a non-ASCII letter lowercased to two characters
        return [hit.start() for hit in _NAME_HIT.finditer(text, lo, hi)]
    hits = [lo + i for keyword in _KEYWORDS for i in _find_all(lowered, keyword)]
    for i in _find_all(lowered, "key"):
        if _KEY_QUALIFIER.search(lowered, max(0, i - 12), i):
            hits.append(lo + i)
    return sorted(hits)


def _find_all(haystack: str, needle: str) -> Iterator[int]:
    i = haystack.find(needle)
    while i != -1:
        yield i
        i = haystack.find(needle, i + len(needle))


def _value(text: str, start: int, end: int) -> tuple[str, int, bool] | None:
    """The literal the name ``text[start:end]`` receives, where it starts, whether ambiguous."""
    if start and text[start - 1] == "<" and text.startswith(">", end):
        element = _XML_VALUE.match(text, end)  # <password>…</password>
        return (element["value"], element.start("value"), False) if element else None
    match = _ASSIGNMENT.match(text, end)
    if match is None:
        pair = _PAIR.match(text, end)
        if pair is None or not start or text[start - 1] != pair["close"]:
            return None
        named = _name_words(text[start:end])
        if not named or named[-1] not in _PAIR_NAME_ENDS:
            return None  # "HTTPPasswordMgr", "token-classification"
        if _PAIR_CALL.search(text, max(0, start - 41), start - 1) is None:
            return None  # a tuple or a set of names, not a call
        return pair["quoted"], pair.start("quoted"), False
    if match["quote"]:
        if match["op"] == "(" and not _is_setter(text[start:end]):
            return None
        if match["go"] and match["quote"] == "'":  # a rune in Go; prose: "pass refit='x'"
            return None
        return match["quoted"], match.start("quoted"), False
    bare = _bare_literal(text, match, start, end)
    return None if bare is None else (bare[0], match.start("bare"), bare[1])


def find_assignments(text: str, lo: int, hi: int) -> Iterator[Span]:
    done = lo
    for hit in _name_hits(text, lo, hi):
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
        found = _value(text, start, end) if name_class else None
        if found is None or name_class is None:
            continue
        value, value_start, ambiguous = found
        kind = _assignment_kind(name_class, name, value, ambiguous)
        if kind is not None:
            done = value_start + len(value)
            yield kind, value_start, done


ASSIGNMENT_RULE = Rule(
    find_assignments,
    (
        # a keyword inside a name, then an operator, a type annotation, a Go type or an XML ">"
        rf"(?:pass|pwd|secret|token|auth|credential|{_KEY_QUALIFIERS}key)[\w$.-]*(?:[\"'`]?\]?"
        r"[ \t]*(?:[:=(?|>]|[ \t][A-Za-z_][\w.\[\]*]*[ \t]*=)|[\"'][ \t]*,[ \t]*[\"'])",
    ),
    caseless=True,
)
