"""Count each definition's branches, nesting depth and calls from the captures in its range. Pure.

One run of the extraction query yields these captures for a whole file. Each is placed in the
innermost definition around it by a bisect over the definitions' range boundaries, so no subtree
is walked in Python, and counted for that definition and every one enclosing it: a definition's
facts describe its whole text, nested functions included, as its training example shows it.
"""

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class BodyFacts:
    """What one definition's text holds; ``calls`` is an ordered set (names, in source order)."""

    branches: int = 0
    max_depth: int = 0
    calls: dict[str, None] = field(default_factory=dict)


def body_facts(
    source: bytes,
    ranges: list[tuple[int, int]],
    branches: list[int],
    calls: list[tuple[int, int]],
    blocks: list[tuple[int, int]],
) -> list[BodyFacts]:
    """The facts of each definition, one per range, in the order of ``ranges``.

    ``ranges`` are the definitions' ``[start, end)`` byte ranges, sorted by start and nested
    (never overlapping otherwise); ``branches`` the start bytes of decision points; ``calls`` the
    byte ranges of called names in ``source``; ``blocks`` the ranges of control blocks (an
    ``else if`` left out, since it continues its ``if``'s level).
    """
    facts = [BodyFacts() for _ in ranges]
    bounds, owners, parents = _partition(ranges)

    def owner(position: int) -> int:
        return owners[bisect_right(bounds, position) - 1]

    innermost = [0] * (len(ranges) + 1)
    for position in branches:
        innermost[owner(position)] += 1  # -1 (outside every definition) is a spare last slot
    for i in reversed(range(len(ranges))):  # inner definitions come after outer ones
        facts[i].branches += innermost[i]
        if parents[i] >= 0:
            facts[parents[i]].branches += facts[i].branches
    names = [f.calls for f in facts]
    for start, end in sorted(calls):
        i = owner(start)
        if i >= 0:
            name = source[start:end].decode()
            while i >= 0:
                names[i][name] = None
                i = parents[i]
    _count_depths(ranges, sorted(blocks), owner, parents, facts)
    return facts


def _partition(ranges: list[tuple[int, int]]) -> tuple[list[int], list[int], list[int]]:
    """Flatten nested ranges (sorted by start) into boundaries, each owned by the innermost range.

    ``owners[k]`` holds from ``bounds[k]`` up to the next boundary (-1: outside every range; the
    first boundary is 0, so every position has an owner); ``parents[i]`` is the range directly
    around range ``i`` (-1: none).
    """
    bounds = [0]
    owners = [-1]
    parents: list[int] = []
    stack: list[int] = []
    for i, (start, _) in enumerate(ranges):
        while stack and ranges[stack[-1]][1] <= start:
            bounds.append(ranges[stack.pop()][1])
            owners.append(stack[-1] if stack else -1)
        parents.append(stack[-1] if stack else -1)
        bounds.append(start)
        owners.append(i)
        stack.append(i)
    while stack:
        bounds.append(ranges[stack.pop()][1])
        owners.append(stack[-1] if stack else -1)
    return bounds, owners, parents


def _count_depths(
    ranges: list[tuple[int, int]],
    blocks: list[tuple[int, int]],
    owner: Callable[[int], int],
    parents: list[int],
    facts: list[BodyFacts],
) -> None:
    """Set ``max_depth``: blocks around a block, less those already open around the definition.

    One pass over the blocks in source order keeps the stack of open blocks.
    """
    open_ends: list[int] = []
    base = [0] * len(ranges)  # blocks open where each definition starts
    next_definition = 0
    for start, end in blocks:
        while next_definition < len(ranges) and ranges[next_definition][0] <= start:
            definition_start = ranges[next_definition][0]
            while open_ends and open_ends[-1] <= definition_start:
                open_ends.pop()
            base[next_definition] = len(open_ends)
            next_definition += 1
        while open_ends and open_ends[-1] <= start:
            open_ends.pop()
        open_ends.append(end)
        depth = len(open_ends)
        i = owner(start)
        while i >= 0:
            facts[i].max_depth = max(facts[i].max_depth, depth - base[i])
            i = parents[i]
