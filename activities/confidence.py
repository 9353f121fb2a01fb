"""Confidence the engine can stand behind: a model's own number is one signal, never the answer.

Everything here is pure, so the gate's input is reproducible from the recorded signals.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# A body within this share of the requested length counts as on target.
LENGTH_TOLERANCE = 0.2


@dataclass(frozen=True)
class Evidence:
    """What is known about one answer. ``None`` means "not applicable", never "bad"."""

    stated: float | None
    schema_valid: bool = True
    input_valid: bool = True
    # Share of fields the engine recomputes from the input that the model got right.
    consistency: float | None = None
    # Words written / words requested (content generation only).
    length_ratio: float | None = None
    # Share of requested keywords that appear in the text.
    keyword_coverage: float | None = None
    # Geometric-mean probability of the tokens that carry the decision.
    token_prob: float | None = None


def combine(evidence: Evidence) -> tuple[float, dict[str, float]]:
    """Return ``(confidence, signals)``; every factor applied is named in ``signals``."""
    signals: dict[str, float] = {
        "schema_valid": float(evidence.schema_valid),
        "input_valid": float(evidence.input_valid),
    }
    if evidence.stated is not None:
        signals["stated_confidence"] = _clamp(evidence.stated)
    if not (evidence.schema_valid and evidence.input_valid) or evidence.stated is None:
        # Nothing usable to be confident about: a person must supply the proposal.
        return 0.0, signals

    confidence = _clamp(evidence.stated)
    if evidence.token_prob is not None:
        signals["token_prob"] = _clamp(evidence.token_prob)
        # Stated confidence tends to be inflated; believe the more cautious of the two.
        confidence = min(confidence, signals["token_prob"])
    if evidence.consistency is not None:
        signals["consistency"] = _clamp(evidence.consistency)
        confidence *= 0.5 + 0.5 * signals["consistency"]
    if evidence.length_ratio is not None:
        signals["length_ratio"] = round(evidence.length_ratio, 4)
        signals["length_factor"] = length_factor(evidence.length_ratio)
        confidence *= signals["length_factor"]
    if evidence.keyword_coverage is not None:
        signals["keyword_coverage"] = _clamp(evidence.keyword_coverage)
        confidence *= 0.5 + 0.5 * signals["keyword_coverage"]
    return round(_clamp(confidence), 4), signals


def length_factor(ratio: float) -> float:
    """1.0 within the tolerance, then down linearly with the miss, to 0."""
    miss = abs(ratio - 1.0) - LENGTH_TOLERANCE
    return round(max(0.0, min(1.0, 1.0 - max(0.0, miss))), 4)


# Spans of a JSON answer that say nothing about the decision: object keys, the values of
# free-text fields (their token probabilities measure prose, not certainty) and the stated
# confidence itself.
_KEY = re.compile(r'"(?:[^"\\]|\\.)*"\s*:')
_SCALAR = r'"(?:[^"\\]|\\.)*"|[-+.\deE]+'
NON_DECISION_FIELDS = ("rationale", "title", "body", "confidence")


def decision_token_prob(
    content: str,
    tokens: Sequence[tuple[str, float]],
    skip_fields: Sequence[str] = NON_DECISION_FIELDS,
) -> tuple[float, float] | None:
    """Geometric-mean and minimum probability of the tokens that carry the decision.

    ``tokens`` are ``(text, logprob)`` pairs as the server returned them. Returns ``None``
    when they do not spell ``content`` (some servers normalise text) or none is left.
    """
    if not tokens or "".join(text for text, _ in tokens) != content:
        return None
    masked = [m.span() for m in _KEY.finditer(content)]
    for field in skip_fields:
        pattern = rf'"{re.escape(field)}"\s*:\s*({_SCALAR})'
        masked.extend(m.span(1) for m in re.finditer(pattern, content))
    logprobs: list[float] = []
    start = 0
    for text, logprob in tokens:
        end = start + len(text)
        outside = not any(lo < end and start < hi for lo, hi in masked)
        if outside and text.strip(' \t\r\n{}[]:,"'):
            logprobs.append(logprob)
        start = end
    if not logprobs:
        return None
    mean = math.exp(sum(logprobs) / len(logprobs))
    return round(mean, 4), round(math.exp(min(logprobs)), 4)


def _clamp(value: float) -> float:
    if math.isnan(value):
        return 0.0
    return round(max(0.0, min(1.0, value)), 4)
