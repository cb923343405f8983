"""Real git repositories for tests, built with the git CLI."""

import os
import subprocess
from pathlib import Path


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self._n = 0
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ada Lovelace",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada Lovelace",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_AUTHOR_DATE": f"2026-01-01T00:{self._n // 60:02d}:{self._n % 60:02d}Z",
            "GIT_COMMITTER_DATE": f"2026-01-01T00:{self._n // 60:02d}:{self._n % 60:02d}Z",
            "GIT_CONFIG_GLOBAL": "/dev/null",
        }
        out = subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True
        )
        return out.stdout.strip()

    def commit(self, files: dict[str, str | bytes], message: str = "change") -> str:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        self.git("add", "-A")
        self._n += 1
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def module_source(index: int, functions: int = 5) -> str:
    """A small, valid Python module whose functions differ by ``index``."""
    parts = [f'"""Module {index}."""\n\nimport os\n']
    for f in range(functions):
        parts.append(
            f"\n\ndef compute_{index}_{f}(value: int) -> int:\n"
            f'    """Add {f} to value."""\n'
            f"    return value + {f} + {index}\n"
        )
    parts.append(
        f"\n\nclass Service{index}:\n"
        f"    def run(self) -> str:\n"
        f"        return os.getcwd() + '{index}'\n"
    )
    return "".join(parts)
