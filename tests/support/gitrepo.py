"""Real git repositories for tests, built with the git CLI."""

import os
import subprocess
from collections.abc import Mapping
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

    def commit(self, files: Mapping[str, str | bytes], message: str = "change") -> str:
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


_WORDS = """apple river stone cloud ember falcon garden harbor island jungle kettle lantern
meadow nectar orchard pepper quartz raven saddle timber umbra velvet willow yonder zephyr anchor
bramble cinder dune fable glacier hollow ivory juniper kelp lagoon marble nimbus opal prairie
quill ridge spruce thistle urchin valley walnut yarrow zinnia acorn birch coral delta fern grove
heron indigo jasper kiwi lotus maple nova onyx pine quince reef sage tulip ursa vine wren"""
WORDS = _WORDS.split()


def _pick(seed: int, count: int) -> list[str]:
    """``count`` words, deterministic in ``seed`` (a linear congruential walk, no imports)."""
    out = []
    for _ in range(count):
        seed = (seed * 1103515245 + 12345) % 2**31
        out.append(WORDS[seed % len(WORDS)])
    return out


def module_source(index: int, functions: int = 5) -> str:
    """A small, valid Python module whose functions differ by ``index``.

    Bodies use words drawn per function, so no two functions are near-duplicates of each other
    (the dataset's MinHash de-duplication would rightly keep only one of them).
    """
    parts = [f'"""Module {index}."""\n\nimport os\n']
    for f in range(functions):
        a, b, c, d, e = _pick(index * 100 + f, 5)
        parts.append(
            f"\n\ndef compute_{index}_{f}(value: int) -> int:\n"
            f'    """Add {f} to the {a} of {b}."""\n'
            f"    {c}_{d} = value * {index * 7 + f + 3}\n"
            f'    return {c}_{d} + {f} + {index} - len("{e} {a}")\n'
        )
    a, b, c = _pick(index * 100 + 99, 3)
    parts.append(
        f"\n\nclass Service{index}:\n"
        f"    def run(self) -> str:\n"
        f'        {a}_{b} = os.getcwd() + "{c}"\n'
        f"        return {a}_{b} + '{index}'\n"
    )
    return "".join(parts)


def go_source(index: int, functions: int = 5) -> str:
    """A small, valid Go file whose functions differ by ``index``: another language, naming
    style and shape than :func:`module_source`'s (what a team's new service might bring)."""
    parts = [f'package service{index}\n\nimport (\n\t"fmt"\n\t"strings"\n)\n']
    for f in range(functions):
        a, b, c, d, e = _pick(index * 100 + f + 7, 5)
        name = f"{a.capitalize()}{b.capitalize()}{index}x{f}"
        parts.append(
            f"\n// {name} joins the {c} of {d}.\n"
            f"func {name}(items []string, limit int) (string, error) {{\n"
            f"\t{c}Count := 0\n"
            f"\tfor _, item := range items {{\n"
            f'\t\tif strings.HasPrefix(item, "{e}") && {c}Count < limit {{\n'
            f"\t\t\t{c}Count += {f + index + 1}\n"
            f"\t\t}}\n"
            f"\t}}\n"
            f"\tif {c}Count == 0 {{\n"
            f'\t\treturn "", fmt.Errorf("no {d} in %d items", len(items))\n'
            f"\t}}\n"
            f'\treturn fmt.Sprintf("%s-%d", "{a}", {c}Count), nil\n'
            f"}}\n"
        )
    return "".join(parts)
