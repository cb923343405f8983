"""Unit tests for ``anonymize_identifiers`` and ``summarize``: stable pseudonyms that respect word
boundaries, and the per-commit count of findings by kind."""

import re

from streams.sanitize import Finding, anonymize_identifiers, find_secrets, summarize
from streams.sanitize.anonymize import pseudonym

SOURCE = """\
# Maintained by Jane Doe (jdoe); ask jane or JDoe on build01.corp.acme.io
def deploy(host: str = "build01.corp.acme.io") -> None:
    run(f"ssh jdoe@{host} sudo -u jdoe systemctl restart app")  # jdoe2 is a different login
"""


def test_each_identifier_gets_one_stable_pseudonym() -> None:
    out = anonymize_identifiers(SOURCE, ["Jane Doe", "jdoe", "build01.corp.acme.io"])
    user, host = pseudonym("jdoe"), pseudonym("build01.corp.acme.io")
    assert re.fullmatch(r"user_[0-9a-f]{6}", user) and re.fullmatch(r"host_[0-9a-f]{6}", host)
    assert out.count(user) == 4  # jdoe, JDoe, jdoe@, -u jdoe
    assert out.count(host) == 2
    assert pseudonym("Jane Doe") in out
    assert "jdoe2" in out and "jane or" in out  # whole words only; "jane" was not listed
    assert anonymize_identifiers(SOURCE, ["jdoe"]) == anonymize_identifiers(SOURCE, ["JDOE"])


def test_longer_names_win_and_regex_characters_are_literal() -> None:
    text = "j.doe and jxdoe and Jane and Jane Doe"
    out = anonymize_identifiers(text, ["Jane", "Jane Doe", "j.doe"])
    assert out == (
        f"{pseudonym('j.doe')} and jxdoe and {pseudonym('jane')} and {pseudonym('jane doe')}"
    )


def test_the_salt_changes_every_pseudonym_and_nothing_else() -> None:
    plain = anonymize_identifiers(SOURCE, ["jdoe"])
    salted = anonymize_identifiers(SOURCE, ["jdoe"], salt="per-deployment secret")
    assert plain != salted
    assert re.sub(r"user_[0-9a-f]{6}", "U", plain) == re.sub(r"user_[0-9a-f]{6}", "U", salted)


def test_anonymising_twice_changes_nothing_more() -> None:
    once = anonymize_identifiers(SOURCE, ["jdoe", "Jane Doe"])
    assert anonymize_identifiers(once, ["jdoe", "Jane Doe"]) == once


def test_no_names_leave_the_text_alone() -> None:
    assert anonymize_identifiers(SOURCE, []) == SOURCE
    assert anonymize_identifiers(SOURCE, ["", "  "]) == SOURCE


def test_summarize_counts_findings_by_kind() -> None:
    text = (
        'DB_PASSWORD = "Kx9#mP2vL7q"\n'
        'ADMIN_PASSWORD = "Zq8!vB3nM6x"\n'
        "# Jane <jane.doe@acme-corp.io>\n"
        'const host = "10.12.3.45";\n'
    )
    assert summarize(find_secrets(text)) == {"email": 1, "ipv4": 1, "password_assignment": 2}
    assert summarize([]) == {}
    assert list(summarize([Finding("jwt", 1, 0, 1), Finding("email", 1, 2, 3)])) == [
        "email",
        "jwt",
    ]
