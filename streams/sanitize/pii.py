"""Personal data in source text: e-mail addresses, phone numbers, IPv4 and IPv6 addresses.

Each finder documents what it exempts: reserved and role addresses, documentation networks,
loopback, version strings, fictional phone ranges and the many digit runs of code (dates, line
numbers, versions, hex, ids) that look like numbers but call nobody.
"""

import ipaddress
import re
from collections.abc import Iterator

from streams.sanitize.engine import Rule, Span
from streams.sanitize.values import words

PII_KINDS = frozenset({"email", "ipv4", "ipv6", "phone"})

# --- e-mail ------------------------------------------------------------------------------------

_EMAIL_DOMAIN = re.compile(
    r"@(?P<domain>(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24})(?![\w-])", re.A
)
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}\Z", re.A)
# Not personal: RFC 2606/6761 reserved names, role senders such as ``noreply@company.com``, ssh
# remotes (``git@github.com``). GitHub's ``123+login@users.noreply.github.com`` names a person, so
# it is redacted. The top-level domain must be a country code or a common one, so that code such
# as ``icon@2x.png`` or ``x@layer.weight`` is not an address; rare long TLDs are missed for now.
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
_COMMON_TLDS = words(
    """com org net edu gov mil int io dev app ai co info biz me tech cloud xyz site online email
    name pro jobs corp internal lan intranet home mail"""
)
_FILE_EXTENSIONS = words("js py ts md rs go rb sh pl cc hh db gz xz so mk")
_ROLE_SENDERS = frozenset({"noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon"})


def find_emails(text: str, lo: int, hi: int) -> Iterator[Span]:
    for match in _EMAIL_DOMAIN.finditer(text, lo, hi):
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


# --- IPv4 --------------------------------------------------------------------------------------

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


def _is_nobodys_ipv4(address: str) -> bool:
    octets = [int(octet) for octet in address.split(".")]
    if octets[0] in (0, 127) or octets[0] >= 224 or octets[3] == 0 or max(octets[:3]) < 10:
        return True
    return address.startswith(_DOCUMENTATION_NETS)


def find_ipv4(text: str, lo: int, hi: int) -> Iterator[Span]:
    for hint in _IPV4_HINT.finditer(text, lo, hi):
        start = hint.start()
        while start > hint.start() - 3 and start > lo and text[start - 1] in _DIGITS:
            start -= 1
        match = _IPV4.match(text, start)
        if match is None:
            continue
        if _is_nobodys_ipv4(match[0]):
            continue
        window = max(0, start - 40)
        line_start = text.rfind("\n", window, start) + 1 or window
        if _VERSION_CONTEXT.search(text, line_start, start):
            continue
        yield "ipv4", start, match.end()


# --- IPv6 --------------------------------------------------------------------------------------

# Groups of hex separated by colons, optionally ending in an IPv4 quad (``::ffff:10.1.2.3``). Not
# redacted, as for IPv4: what is nobody's (the unspecified ``::``, loopback ``::1``, multicast,
# reserved and IPv4-compatible ``::/8``, the documentation and benchmarking nets ``2001:db8::/32``
# and ``2001:2::/48``, IPv4-mapped forms of the IPv4 addresses exempt above) and networks, not hosts
# (``2001:db8:1::``, anything followed by a ``/prefix``). Private (``fc00::/7``) and link-local
# (``fe80::/10``) addresses are redacted like private IPv4 ones: they map a network or, with an
# EUI-64 interface id, a device. Code is full of colons, so a compressed address (with ``::``)
# needs two groups, one of three or more characters and a digit: ``fe80::1`` is an address,
# ``x[1::2]``, ``dead::beef`` and ``a::b`` are not; an uncompressed one needs all eight groups,
# so times (``12:30:45``) and MAC addresses (six groups) are not addresses.
_IPV6 = re.compile(
    r"(?<![\w:.%])(?:[0-9A-Fa-f]{1,4}|(?=:))(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)",
    re.A,
)
_NOBODYS_V6 = tuple(ipaddress.IPv6Network(n) for n in ("2001:db8::/32", "2001:2::/48", "::/8"))


def _is_personal_ipv6(candidate: str, followed_by: str) -> bool:
    if candidate.endswith("::") or followed_by.startswith("/"):
        return False  # a network
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    mapped = address.ipv4_mapped
    if mapped is not None:  # inside ::/8, but names the IPv4 address it maps
        return not _is_nobodys_ipv4(str(mapped))
    if address.is_unspecified or address.is_loopback or address.is_multicast:
        return False
    if any(address in net for net in _NOBODYS_V6):
        return False
    groups = [g for g in re.split(r"[:.]", candidate) if g]
    if "::" not in candidate:
        return len(candidate.split(":")) == 8 or "." in candidate
    has_digit = any(c.isdigit() for c in candidate)
    return len(groups) >= 2 and has_digit and max(map(len, groups)) >= 3


def find_ipv6(text: str, lo: int, hi: int) -> Iterator[Span]:
    for match in _IPV6.finditer(text, lo, hi):
        if _is_personal_ipv6(match[0], text[match.end() : match.end() + 1]):
            yield "ipv6", match.start(), match.end()


# --- phone numbers -----------------------------------------------------------------------------

# A run of digits with phone separators, starting with "+", "(" or a digit. Three shapes count:
#   international: "+" and a country code, 8 to 15 digits in all (E.164), in groups of at most eight
#     digits, or one unseparated run of 10 to 15 (``+14155552671``), or EPP's ``+1.4155552671``
#     after a label (it is also how a decimal looks);
#   North American: ``(415) 555-2671``, ``415-555-2671``, ``415.555.2671``, optionally after
#     ``1-``/``+1``; area code and exchange start with 2-9, so ``123-456-7890`` is not one;
#   any other national format (``020 7946 0958``, ``030 1234567``, ``06 12 34 56 78``) only after a
#     word such as "phone", "tel", "fax" or "mobile" on the same line, starting with a trunk "0".
# Dates, versions, IP addresses, hex, ids and line numbers fit none of these, nor does a number with
# a run of five or more of one digit (``+2.00000000``). The ranges reserved
# for fiction (``555-0100``-``555-0199``, Ofcom's 07700 900xxx and 020 7946 0xxx) are not redacted.
_PHONE = re.compile(r"(?:\+|\(\+?)?\d[\d ().-]{5,22}\d", re.A)
_GROUP_SEPARATORS = re.compile(r"[ .()-]+")
_NANP = re.compile(
    r"(?:\+?1[ .-]?)?(?:\([2-9]\d\d\)[ ]?|[2-9]\d\d(?P<sep>[-.]))"  # area code
    r"[2-9]\d\d(?(sep)(?P=sep)|[-.])\d{4}",  # exchange and line, "-" or "." as after the area
    re.A,
)
_PHONE_CONTEXT = re.compile(
    r"(?i)(?:phone|(?<![a-z])tel(?![a-z]{2})|telefon|fax|mobile?|(?<![a-z])cell|whatsapp|hotline)",
    re.A,
)
_NATIONAL = re.compile(r"\(?0\d{1,4}\)?(?:[ .-]?\d{2,5}){1,4}", re.A)
# Ofcom's numbers for drama, nationally written: 0113 496 0xxx … 020 7946 0xxx, 07700 900xxx
_FICTIONAL_UK = tuple(
    words(
        """01134960 01144960 01154960 01164960 01174960 01184960 01214960 01314960 01414960 01514960
    01614960 01914980 02079460 02890180 02920180 01632960 07700900 08081570 09098790 03069990"""
    )
)


def _phone_shape(text: str, start: int, number: str) -> bool:
    digits = "".join(c for c in number if c.isdigit())
    groups = [g for g in _GROUP_SEPARATORS.split(number.lstrip("+(")) if g]
    if any(len(g) >= 5 and g.count(g[0]) == len(g) for g in groups):
        return False  # "+2.00000000", "+1 00000 00000": a formatted number, no one's line
    if number.startswith(("+", "(+")):
        if len(groups) == 1:  # E.164 quoted, in prose or labelled, not ``x = +4294967296``
            varied = len(set(digits)) >= 4  # not "+10011010010", a binary format
            return 10 <= len(digits) <= 15 and varied and _stands_alone(text, start)
        if len(groups) == 2 and set(number[1:]) - _DIGITS == {"."}:  # +1.4155552671 or +3.86102
            return len(groups[0]) <= 3 and 8 <= len(digits) <= 15 and _labelled(text, start)
        singles = sum(len(g) == 1 for g in groups[1:])
        return (
            8 <= len(digits) <= 15
            and len(groups[0]) <= 3
            and max(map(len, groups[1:])) <= 8
            and singles <= 1
        )
    if _NANP.fullmatch(number):
        return True
    if not 9 <= len(digits) <= 12 or _NATIONAL.fullmatch(number) is None:
        return False
    return _labelled(text, start)


def _stands_alone(text: str, start: int) -> bool:
    """After a quote, a word or a colon (``"+1…``, ``at +1…``, ``tel: +1…``), not an operator."""
    before = text[max(0, start - 40) : start].rstrip(" \t")
    return not before or before[-1].isalpha() or before[-1] in "\"'`:<>" or _labelled(text, start)


def _labelled(text: str, start: int) -> bool:
    """Whether "phone", "tel", "fax" … comes shortly before ``start`` on its line."""
    window = max(0, start - 60)
    line_start = text.rfind("\n", window, start) + 1 or window
    return _PHONE_CONTEXT.search(text, line_start, start) is not None


def _is_fictional(digits: str) -> bool:
    """555-0100 to 555-0199 after any North American area code, or one of Ofcom's drama ranges."""
    national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
    nanp_fiction = len(national) == 10 and national[3:8] == "55501"
    uk = digits.removeprefix("44")  # +44 (0)131 … or +44 131 …: nationally 0131 …
    uk = uk if uk.startswith("0") else "0" + uk
    return nanp_fiction or uk.startswith(_FICTIONAL_UK)


def find_phones(text: str, lo: int, hi: int) -> Iterator[Span]:
    for match in _PHONE.finditer(text, lo, hi):
        start, end = match.span()
        before = text[start - 1] if start else " "
        after = text[end : end + 2]
        if (
            before.isalnum()
            or before in "_.+-/#$"
            or (after[:1].isalnum() or after[:1] in ("_", "#"))
        ):
            continue  # inside a word or a number, or a template's digits ("+44 131 496 0###")
        if after[:1] in ".-/:" and after[1:].isdigit():  # 10.12.3.45.6, 2024-01-15-1
            continue
        number = match[0]
        if number.count("(") != number.count(")") and not number.startswith("(+"):
            continue
        if _phone_shape(text, start, number):
            digits = "".join(c for c in number if c.isdigit())
            if not _is_fictional(digits):
                yield "phone", start, start + len(number)


PII_RULES: tuple[Rule, ...] = (
    Rule(find_emails, (r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]{1,63}\.[A-Za-z]{2}",), gate="@"),
    Rule(find_ipv4, (r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]",), gate="."),
    Rule(
        find_ipv6,
        (
            r"(?:^|[^\w:.%])[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:",
            r"(?:^|[^\w:.%])::[0-9A-Fa-f]",
        ),
        gate=":",
        hints=(r":[0-9A-Fa-f]{0,4}:",),
    ),
    Rule(
        find_phones,
        (
            r"(?:^|[^\w+.])\(?\+[0-9][0-9 ().-]{6}",
            r"\([2-9][0-9][0-9]\) ?[2-9][0-9][0-9][-.][0-9]{4}",
            r"[2-9][0-9][0-9][-.][2-9][0-9][0-9][-.][0-9]{4}",
            r"(?:phone|tel|fax|mobil|cell|whatsapp|hotline)[^\n]{0,60}\(?0[0-9]",
        ),
        hints=(
            r"\+\d",
            r"\(\d\d\d\)",
            r"-\d\d\d-\d\d\d\d",
            r"\.\d\d\d\.\d\d\d\d",
            *words("phone tel fax mobil cell whatsapp hotline"),
        ),
        caseless=True,
    ),
)
