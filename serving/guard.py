"""What the inference API lets in and out. Pure.

Out: every completion passes the ingest sanitizer, so a secret or personal datum the model might
have memorised comes back as a typed placeholder (``<SECRET:aws_access_key_id>``), never as
itself. In: a heuristic for adversarial prompts. A code model takes instructions only as code,
so a prompt that mainly talks to the model (asks it to ignore its instructions, reveal its
prompt, training data or keys) or floods it with one repeated token is refused with a reason;
a prompt that merely contains such a phrase inside code (a comment, a string) is flagged, served,
and counted.
"""

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from streams.sanitize import redact

Verdict = Literal["ok", "flag", "refuse"]

_INJECTION = re.compile(
    r"ignore (all |any )?(the )?(previous|prior|above) (instructions|prompts?|rules)"
    r"|disregard (all |the )?(previous|prior|above)"
    r"|(reveal|print|show|repeat|output|leak) (me )?(your|the) (system prompt|instructions|"
    r"training data|api keys?|secrets?|credentials|passwords?)"
    r"|you are now (a|an|in) "
    r"|jailbreak|do anything now",
    re.IGNORECASE,
)
_CODE_LINE = re.compile(
    r"^\s*(#|//|/\*|\*|--|[\w.]+\s*[=(:{]|(def|class|fn|func|function|import|return)\b)"
)
_MIN_FLOOD_TOKENS = 200


@dataclass(frozen=True, slots=True)
class Screening:
    verdict: Verdict
    reason: str = ""


def screen_prompt(prompt: str, suffix: str = "") -> Screening:
    """Whether to serve a prompt: refuse instructions aimed at the model and token floods."""
    text = f"{prompt}\n{suffix}"
    words = text.split()
    if len(words) >= _MIN_FLOOD_TOKENS:
        word, count = Counter(words).most_common(1)[0]
        if count / len(words) > 0.5:
            return Screening("refuse", f"the prompt repeats {word[:20]!r} {count} times")
    hits = list(_INJECTION.finditer(text))
    if not hits:
        return Screening("ok")
    lines = [line for line in text.splitlines() if line.strip()]
    prose = [line for line in lines if not _CODE_LINE.match(line)]
    phrase = hits[0].group(0)
    if len(prose) * 2 > len(lines):  # mostly prose: an instruction to the model
        return Screening("refuse", f"the prompt addresses the model ({phrase!r}), not code")
    return Screening("flag", f"the prompt contains {phrase!r} inside code")


def clean_completion(text: str) -> tuple[str, list[str]]:
    """The completion with secrets and personal data redacted, and the kinds found."""
    cleaned, findings = redact(text)
    return cleaned, [finding.kind for finding in findings]
