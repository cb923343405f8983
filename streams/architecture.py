"""The architecture dataset: a module's requirements (its docstrings and the README sections that
speak of it) → its design (the skeleton of its signatures, nested as in the file). Pure.

A module makes an example only when it says what it is for (a module or class docstring, or a
README section naming it) and has at least ``min_symbols`` definitions to design.
"""

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from streams.extract import Symbol

_HEADING = re.compile(r"^(#{1,6}\s+\S.*|[^\n]+\n[=-]{3,}\s*)$", re.M)


@dataclass(frozen=True)
class ModuleDesign:
    requirements: str
    design: str
    symbols: int


def readme_sections(text: str) -> list[str]:
    """A Markdown or reStructuredText README cut at its headings (each section with its own)."""
    starts = [m.start() for m in _HEADING.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = [*starts, len(text)]
    return [text[a:b].strip() for a, b in itertools.pairwise(bounds) if text[a:b].strip()]


def sections_about(path: str, sections: Sequence[str]) -> list[str]:
    """The README sections that name the module (its file name, or its stem as a word)."""
    module = PurePosixPath(path)
    stem = module.stem
    if stem in {"__init__", "index", "mod", "main", "lib"}:
        stem = module.parent.name
    if len(stem) < 3:
        return []
    naming = [s for s in sections if stem in s or module.name in s]
    if not naming:  # most modules: no pattern to compile
        return []
    word = re.compile(rf"(?<![\w/.-]){re.escape(stem)}(?![\w-])")
    return [s for s in naming if module.name in s or word.search(s)]


def skeleton(symbols: Sequence[Symbol]) -> str:
    """One line per definition: its signature on one line, indented by nesting depth."""
    lines = []
    for symbol in symbols:
        depth = symbol.qualified_name.count(".")
        signature = " ".join(symbol.signature.split())
        lines.append("    " * depth + signature)
    return "\n".join(lines)


def module_design(
    path: str,
    module_docstring: str,
    symbols: Sequence[Symbol],
    readme: Sequence[str] = (),
    min_symbols: int = 2,
) -> ModuleDesign | None:
    """The requirements → design pair of one module, or None when it has too little of either."""
    if len(symbols) < min_symbols:
        return None
    parts = [module_docstring.strip()] if module_docstring.strip() else []
    parts += [
        f"{s.qualified_name}: {s.docstring.strip()}"
        for s in symbols
        if s.kind == "class" and s.docstring.strip()
    ]
    parts += sections_about(path, readme)
    if not parts:
        return None
    return ModuleDesign("\n\n".join(parts), skeleton(symbols), len(symbols))
