"""Unit tests for phone numbers and IPv6 addresses in ``streams.sanitize``, and their look-alikes.

Code is full of digit runs and colons (dates, versions, ids, hex, slices, paths, times), so the
negatives matter as much as the positives.
"""

import pytest

from streams.sanitize import find_secrets, redact

PHONES = [
    ("+1 415 867 2671", "# escalate to the on-call lead at +1 415 867 2671 after 22:00"),
    ("+1 (415) 867-2671", 'SUPPORT_PHONE = "+1 (415) 867-2671"'),
    ("+44 20 7123 4567", "const hotline = '+44 20 7123 4567';"),
    ("+49 30 12345678", '  support_phone: "+49 30 12345678"'),
    ("+33 6 12 34 56 78", 'contact := "+33 6 12 34 56 78"'),
    ("+14158672671", 'client.messages.create(to="+14158672671", from_=sender, body=text)'),
    ("+14158672671", '<a href="tel:+14158672671">Call us</a>'),
    ("(415) 867-2671", 'private static final String SUPPORT = "(415) 867-2671";'),
    ("415-867-2671", "// ask Jane, 415-867-2671, before deploying"),
    ("415.867.2671", 'let fax = "415.867.2671";'),
    ("1-800-867-2671", "Call 1-800-867-2671 for support"),
    ("030 1234567", "Telefon: 030 1234567"),
    ("020 7123 4567", '  "phone": "020 7123 4567",'),
    ("06 12 34 56 78", "mobile = 06 12 34 56 78"),
    ("+1.4158672671", "Registrant Phone: +1.4158672671"),  # EPP/WHOIS (RFC 5733)
]


@pytest.mark.parametrize(("number", "text"), PHONES)
def test_phone_numbers_are_redacted(number: str, text: str) -> None:
    redacted, findings = redact(text)
    assert redact(text, engine="re") == (redacted, findings)
    assert "<PII:phone>" in redacted, findings
    assert number not in redacted


@pytest.mark.parametrize(
    "text",
    [
        'released = "2024-01-15"',
        "timestamp_ms = 1700000000123",
        'order_ref = "ORD-2024-000123"',
        'isbn = "978-3-16-148410-0"',
        "mask = 0x7fffffff",
        'version = "10.15.7.1234"',
        'tag = "1.2.3-beta.4"',
        "a = +4294967296  # 1 << 32",
        'format(1234, "+b") == "+10011010010"',
        "Decimal('+35236450.6')",
        "resx565 rescale   222 +2.00000000    -> 2E+2 Inexact Rounded",
        "pi = +3.14159265358  # not EPP's +1.4158672671 without a label",
        "[+3.86102275, 0.62118120, 1.33016426],",
        'formats = ("+44(0)131 4960###", "+44(0)1154960###", "01632 960###")',
        "drama = '+44 131 496 0123' and '0113 496 0999' and '029 2018 0456'",
        'File "app.py", line 1234567, in main',
        "ssn_like = 123-45-6789",
        'placeholder = "123-456-7890"',
        'fictional = "(415) 555-0142"',
        "drama = '07700 900123' and '020 7946 0321'",
        "cell = sheet.cell(row=3, column=4)",
        "uuid = 123e4567-e89b-12d3-a456-426614174000",
        "ports = [8080, 8443, 9090, 9443]",
        "coords = (51.5074, -0.1278, 12.4964)",
        "hex_dump = '01 23 45 67 89 ab cd ef'",
    ],
)
def test_numbers_that_are_not_phones(text: str) -> None:
    for engine in ("auto", "re"):
        assert [f for f in find_secrets(text, engine=engine) if f.kind == "phone"] == []


IPV6 = [
    ("2a00:1450:4001:82b::200e", 'UPSTREAM = "2a00:1450:4001:82b::200e"'),
    ("2607:f8b0:4012:809::200e", "server [2607:f8b0:4012:809::200e]:443;"),
    ("2a01:4f8:c17:2b3a:0:0:0:1", "  bind_address: 2a01:4f8:c17:2b3a:0:0:0:1"),
    ("fd12:3456:789a:1::42", 'addr := netip.MustParseAddr("fd12:3456:789a:1::42")'),
    ("fe80::207:e9ff:fe9b:1", 'conn = socket.create_connection(("fe80::207:e9ff:fe9b:1", 80))'),
    ("::ffff:10.20.30.40", "const mapped = '::ffff:10.20.30.40';"),
]


@pytest.mark.parametrize(("address", "text"), IPV6)
def test_ipv6_addresses_are_redacted(address: str, text: str) -> None:
    redacted, findings = redact(text)
    assert redact(text, engine="re") == (redacted, findings)
    assert "<PII:ipv6>" in redacted, findings
    assert address not in redacted


@pytest.mark.parametrize(
    "text",
    [
        'HOST = "::1"',
        "listen [::]:8080;",
        'DOC = "2001:db8::1"',
        "net = ipaddress.ip_network('2001:db8:1::/48')",
        "prefix = '2a00:1450:4001::/48'",
        "multicast = 'ff02::1'",
        "xs[1::2] + xs[::-1]",
        "std::vector<int> v; std::cout << v.size();",
        "use std::collections::HashMap;",
        "let x = Self::new(a::b::c);",
        'started = "12:30:45"',
        "mac = 00:1a:2b:3c:4d:5e",
        "dead::beef",
        "compat = '::c0a8:1'",
    ],
)
def test_colons_that_are_not_ipv6_addresses(text: str) -> None:
    for engine in ("auto", "re"):
        assert [f for f in find_secrets(text, engine=engine) if f.kind == "ipv6"] == []


def test_pii_and_secrets_on_one_line_keep_their_families() -> None:
    text = "# Jane <jane.doe@acme-corp.io>, +1 415 867 2671, host 2a00:1450:4001:82b::200e"
    redacted = redact(text)[0]
    assert redacted == "# Jane <<PII:email>>, <PII:phone>, host <PII:ipv6>"
