from pathlib import Path

import pytest
from pydantic import ValidationError

from common.settings import Settings


def test_env_reaches_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEMILL_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("CODEMILL_LAKE_URI", "s3://bucket/lake")
    monkeypatch.setenv("CODEMILL_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("CODEMILL_ALLOW_UNSIGNED", "1")
    monkeypatch.setenv("CODEMILL_API_KEYS", "a:complete,b")
    monkeypatch.setenv("CODEMILL_BASE_MODEL", "tiny")
    monkeypatch.setenv("CODEMILL_RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setenv("CODEMILL_GIT_MAX_FILE_BYTES", "1000")
    s = Settings()
    assert s.kafka.bootstrap == "k1:9092,k2:9092"
    assert s.table_uri("completion") == "s3://bucket/lake/completion"
    assert s.webhook.secret is not None and s.webhook.secret.get_secret_value() == "s3cret"
    assert s.allow_unsigned is True
    assert (s.api_keys, s.base_model, s.ray_address) == ("a:complete,b", "tiny", "ray://head:10001")
    assert s.git.max_file_bytes == 1000


def test_defaults_use_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.kafka.bootstrap == ""
    assert s.lake_uri == str((tmp_path / ".codemill" / "lake").resolve())
    assert "**" in repr(Settings(webhook={"secret": "x"}).webhook)


def test_toml_file_flat_and_nested_keys_env_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "codemill.toml").write_text(
        'kafka_bootstrap = "file:9092"\nhome = "/srv/codemill"\n[lake]\nbatch_size = 7\n'
    )
    s = Settings()
    assert (s.kafka.bootstrap, s.home, s.lake.batch_size) == ("file:9092", Path("/srv/codemill"), 7)
    monkeypatch.setenv("CODEMILL_KAFKA_BOOTSTRAP", "env:9092")
    assert Settings().kafka.bootstrap == "env:9092"


def test_typos_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError):
        Settings(kafka={"bootstrp": "x"})
    (tmp_path / "codemill.toml").write_text("[lake]\nbatchsize = 7\n")
    with pytest.raises(ValidationError):
        Settings()
