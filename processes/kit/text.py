"""Small text measures shared by the rules models and the checks on a model's answer."""

import re
from collections.abc import Sequence


def word_count(text: str) -> int:
    return len(re.findall(r"\b\w[\w'-]*\b", text))


def keyword_coverage(text: str, keywords: Sequence[str]) -> float | None:
    """Share of ``keywords`` found in ``text``; ``None`` when none was asked for."""
    wanted = [k.strip().lower() for k in keywords if k.strip()]
    if not wanted:
        return None
    lowered = text.lower()
    return sum(1 for k in wanted if k in lowered) / len(wanted)


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
