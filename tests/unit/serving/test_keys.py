"""API keys: parsing with scopes, the bearer check (401 vs 403), generation on first start."""

import re
import stat
from pathlib import Path

import pytest

from common.errors import ConfigError
from common.settings import Settings
from serving.keys import AuthError, authorize, ensure_keys, keys_file, parse_keys

ADMIN = "admin-key-0123456789abcdef"
IDE = "ide-key-0123456789abcdef"
BOT = "bot-key-0123456789abcdef"


def test_entries_carry_their_scopes_and_a_bare_key_may_complete_and_give_feedback() -> None:
    keys = parse_keys(f" {ADMIN}:admin+complete , {IDE} ,{BOT}:feedback,")
    assert [sorted(k.scopes) for k in keys] == [
        ["admin", "complete"],
        ["complete", "feedback"],
        ["feedback"],
    ]
    assert len({k.id for k in keys}) == 3 and all(len(k.id) == 12 for k in keys)
    assert all(ADMIN not in repr(k) for k in keys)  # only digests are kept


@pytest.mark.parametrize(
    ("spec", "problem"),
    [(f"{IDE}:complete+root", "unknown scopes ['root']"), ("short:admin", "under 16 characters")],
)
def test_a_malformed_entry_is_refused_with_its_position(spec: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)) as refused:
        parse_keys(f"{ADMIN},{spec}")
    assert "entry 2" in str(refused.value)


def test_the_bearer_check_answers_401_for_who_and_403_for_what() -> None:
    keys = parse_keys(f"{ADMIN}:admin,{IDE}")
    assert authorize(f"Bearer {IDE}", keys, "complete").scopes == {"complete", "feedback"}
    assert authorize(f"bearer  {ADMIN} ", keys, "admin").id == keys[0].id
    for header in (None, "", "Bearer ", f"Basic {IDE}", IDE):
        with pytest.raises(AuthError, match="missing API key") as missing:
            authorize(header, keys, "complete")
        assert missing.value.status == 401
    with pytest.raises(AuthError, match="unknown API key") as unknown:
        authorize(f"Bearer {IDE}x", keys, "complete")
    assert unknown.value.status == 401
    with pytest.raises(AuthError, match="'admin' scope") as scope:
        authorize(f"Bearer {IDE}", keys, "admin")
    assert scope.value.status == 403


def test_keys_are_generated_once_owner_readable_unless_configured(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    first = ensure_keys(settings)
    assert ensure_keys(settings) == first
    [key] = parse_keys(first)
    assert key.scopes == {"admin", "complete", "feedback"}
    assert stat.S_IMODE(keys_file(settings).stat().st_mode) == 0o600
    configured = Settings(home=tmp_path / "other", api_keys=IDE)
    assert ensure_keys(configured) == IDE and not keys_file(configured).exists()
