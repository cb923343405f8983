"""`codemill scan`: where secrets are, never what they are; exit 1 when something is found."""

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemill.cli import app
from streams.audit import AuditFinding, Skipped, audit

AWS_ID = "AKIAIOSFODNN7EXAMPLE"


def make_tree(root: Path) -> None:
    (root / "app").mkdir(parents=True)
    (root / "app" / "settings.py").write_text(f'DEBUG = True\nAWS_KEY = "{AWS_ID}"\n')
    (root / "app" / "clean.py").write_text("def f():\n    return 1\n")
    (root / ".env").write_text("TOKEN=abc\n")
    (root / "vendor" / "lib").mkdir(parents=True)
    (root / "vendor" / "lib" / "x.py").write_text(f'K = "{AWS_ID}"\n')
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "index.js").write_text(f'const k = "{AWS_ID}";\n')
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f'k = "{AWS_ID}"\n')
    (root / "logo.png").write_bytes(b"\x89PNG\x00" + AWS_ID.encode())


def test_audit_finds_by_file_and_line(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = sorted(audit([tmp_path]), key=lambda f: f.file)
    root = tmp_path.as_posix()
    assert found == [
        AuditFinding(f"{root}/.env", 0, "secret_file"),
        AuditFinding(f"{root}/app/settings.py", 2, "aws_access_key_id"),
    ]
    everything = {f.file for f in audit([tmp_path], include_vendored=True)} - {
        f.file for f in found
    }
    assert everything == {f"{root}/node_modules/pkg/index.js", f"{root}/vendor/lib/x.py"}


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r"], ids=["windows", "classic-mac"])
def test_a_finding_is_on_its_line_whatever_the_line_ends(tmp_path: Path, line_end: bytes) -> None:
    lines = [b"DEBUG = True", b"", f'AWS_KEY = "{AWS_ID}"'.encode(), b""]
    (tmp_path / "settings.py").write_bytes(line_end.join(lines))
    assert list(audit([tmp_path])) == [
        AuditFinding(f"{tmp_path.as_posix()}/settings.py", 3, "aws_access_key_id")
    ]


def test_a_folder_named_is_scanned_wherever_it_lies(tmp_path: Path) -> None:
    """Vendored folders are left out below the path named, not above it: a repository checked
    out under ``vendor/`` (or a package audited inside ``node_modules``) is scanned."""
    make_tree(tmp_path)
    inside = tmp_path / "vendor"
    found = list(audit([inside]))
    assert [(f.file, f.kind) for f in found] == [
        (f"{inside.as_posix()}/lib/x.py", "aws_access_key_id")
    ]
    named = tmp_path / "node_modules" / "pkg" / "index.js"
    assert [f.kind for f in audit([named])] == ["aws_access_key_id"]


def test_scan_command_prints_json_lines_and_fails_on_findings(tmp_path: Path) -> None:
    make_tree(tmp_path)
    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(line["kind"], line["line"]) for line in lines} == {
        ("secret_file", 0),
        ("aws_access_key_id", 2),
    }
    assert AWS_ID not in result.stdout
    clean = CliRunner().invoke(app, ["scan", str(tmp_path / "app" / "clean.py")])
    assert clean.exit_code == 0


def test_what_could_not_be_scanned_is_named_not_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file too large, or not a regular file (a named pipe would block a read forever), is
    reported as skipped: on stderr by the command, which still exits 0 when nothing was found.
    A dangling link has nothing to read."""
    monkeypatch.setattr("streams.audit.MAX_BYTES", 1024)
    (tmp_path / "big.sql").write_bytes(b"-- dump\n" * 200)
    (tmp_path / "link.py").symlink_to(tmp_path / "gone.py")
    os.mkfifo(tmp_path / "pipe.py")
    found = list(audit([tmp_path]))
    skipped = {Path(f.file).name: f.reason for f in found if isinstance(f, Skipped)}
    assert skipped == {"big.sql": "larger than 1024 bytes (1600)", "pipe.py": "not a regular file"}
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "big.sql")])
    assert result.exit_code == 0
    assert f"not scanned: {(tmp_path / 'big.sql').as_posix()}: larger than" in result.stderr


def test_scan_refuses_a_path_that_does_not_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "typo")])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
    missing = list(audit([tmp_path / "typo"]))
    assert missing == [Skipped((tmp_path / "typo").as_posix(), "no such file or folder")]
