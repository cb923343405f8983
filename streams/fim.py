"""Fill-in-the-middle spans for completion examples. Pure and deterministic per example.

Each span is ``[start, end)`` character offsets into a body: the middle a fill-in-the-middle
example leaves out, with the text before it as prefix and after it as suffix. Two shapes, as
FIM-trained code models use: whole lines of the body after its signature (a block to write) and
the rest of one line (finishing a statement). The signature itself is never a middle.
"""

from bisect import bisect_right
from itertools import accumulate, compress, repeat
from operator import add

_MASK = (1 << 64) - 1


class _Draws:
    """Uniform draws from one well-mixed 64-bit number, taken digit by digit (mixed radix).

    A few draws per example are all a span needs, and seeding a ``random.Random`` for each of
    tens of thousands of examples a second cost more than the spans themselves.
    """

    def __init__(self, seed: int) -> None:
        z = (seed * 0x9E3779B97F4A7C15) & _MASK  # splitmix64's finaliser
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        self.value = z ^ (z >> 31)

    def randrange(self, start: int, stop: int | None = None) -> int:
        low, high = (0, start) if stop is None else (start, stop)
        self.value, digit = divmod(self.value, high - low)
        return low + digit

    def randint(self, low: int, high: int) -> int:
        return self.randrange(low, high + 1)


def fim_spans(body: str, signature: str, seed: int, max_middle_lines: int = 8) -> list[list[int]]:
    """Up to two spans into ``body``; none for a body with nothing after its signature."""
    rng = _Draws(seed)
    header = len(signature) if body.startswith(signature) else body.find("\n") + 1
    rows = body.split("\n")
    starts = accumulate(map(add, map(len, rows), repeat(1)), initial=0)
    lines = list(compress(starts, map(str.strip, rows)))  # rows with text; C loops throughout
    del lines[: bisect_right(lines, header)]
    spans: list[list[int]] = []
    if lines:
        first = rng.randrange(len(lines))
        count = rng.randint(1, min(max_middle_lines, len(lines) - first))
        start = lines[first]
        stop = lines[first + count] - 1 if first + count < len(lines) else len(body)
        spans.append([start, stop])
        line = lines[rng.randrange(len(lines))]
        end = body.find("\n", line)
        end = len(body) if end < 0 else end
        text_start = line + len(body[line:end]) - len(body[line:end].lstrip())
        if end - text_start > 1:
            spans.append([rng.randrange(text_start + 1, end), end])
    return spans
