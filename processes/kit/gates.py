"""A process's gates (SPEC §8): the reviews a proposal passes in order, each with a name, an
optional condition, and a policy row of its own (``PUT /workflows/policies/{process}?gate=``).

A condition is a pure function of the run's input, the proposal as it stands when the gate
is reached (after the edits of earlier gates) and the gate's policy; the gate's policy
read evaluates it, so its verdict is recorded in history with the policy. A gate whose
condition is false is skipped: nobody is asked, nothing is audited for it.

Changing a process's gates changes how its open runs replay: do it with a gate version
(hitl/PATCHES.md), never by editing the tuple of a process that has runs in flight.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class GatePolicy(Protocol):
    """What a condition may read of the gate's policy (``models.hitl.Policy``)."""

    @property
    def amount_over(self) -> float | None: ...


# Gate names appear in approval ids, URLs, search attributes and audit rows.
GATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# The name of the one gate of a process that declares none.
DEFAULT_GATE = "review"

# (run input, proposal so far, the gate's policy) -> whether the gate applies.
Condition = Callable[[Any, dict[str, Any], GatePolicy], bool]


@dataclass(frozen=True, kw_only=True)
class Gate:
    name: str
    # None: the gate always applies.
    when: Condition | None = None
    # The condition in a few words, for the Web UI details and the docs.
    condition: str = ""
    # HITL for this gate when its global policy row has not been written yet; ``None``
    # takes the process's default policy.
    hitl_by_default: bool | None = None

    def __post_init__(self) -> None:
        if not GATE_NAME.fullmatch(self.name):
            raise ValueError(f"gate name {self.name!r} must match {GATE_NAME.pattern}")
        if self.when is not None and not self.condition:
            raise ValueError(f"gate {self.name!r} has a condition: describe it in `condition`")

    def applies(self, run_input: Any, proposal: dict[str, Any] | None, policy: GatePolicy) -> bool:
        """Whether a person or the policy must pass this gate. A proposal missing (a step
        that needs review before any gate) cannot be judged, so the gate applies."""
        if self.when is None or proposal is None:
            return True
        return bool(self.when(run_input, proposal, policy))


def check_gates(gates: tuple[Gate, ...]) -> None:
    if not gates:
        raise ValueError("a process has at least one gate")
    names = [g.name for g in gates]
    if len(set(names)) != len(names):
        raise ValueError(f"gate names must be unique: {names}")
    if gates[0].when is not None:
        # A run always has a decision to apply: the first gate is never skipped.
        raise ValueError(f"the first gate ({gates[0].name}) cannot have a condition")


def approval_id(workflow_id: str, gates: tuple[Gate, ...], index: int) -> str:
    """``<workflow_id>:1`` for a process with one gate (as before gates had names);
    ``<workflow_id>:<gate>:<n>`` otherwise, ``n`` being the gate's place in the order."""
    if len(gates) == 1:
        return f"{workflow_id}:1"
    return f"{workflow_id}:{gates[index].name}:{index + 1}"


# --- conditions the built-in processes share ----------------------------------------------


def amount_over(field: str) -> Condition:
    """The proposal's ``field`` exceeds the gate policy's ``amount_over``; with no amount
    set the gate does not apply."""

    def exceeds(_: Any, proposal: dict[str, Any], policy: GatePolicy) -> bool:
        value = proposal.get(field)
        limit = policy.amount_over
        return limit is not None and isinstance(value, int | float) and value > limit

    return exceeds


# A claim a lawyer reads before it goes out: a figure, a percentage, a superlative.
_NUMBER = re.compile(r"\d")
_PERCENT = re.compile(r"%|\bper ?cent\b", re.IGNORECASE)
_SUPERLATIVES = (
    "best", "fastest", "cheapest", "greatest", "largest", "biggest", "strongest", "safest",
    "easiest", "quickest", "smartest", "highest", "lowest", "most trusted", "most popular",
    "most advanced", "leading", "unmatched", "unbeatable", "unrivaled", "unrivalled",
    "world-class", "number one", "no. 1", "guaranteed",
)  # fmt: skip
_SUPERLATIVE = re.compile(
    r"#\s?1\b|(?<![\w-])(?:" + "|".join(re.escape(s) for s in _SUPERLATIVES) + r")(?![\w-])",
    re.IGNORECASE,
)


def claims_in(texts: Iterable[str], competitors: Iterable[str] = ()) -> list[str]:
    """The kinds of claim found in ``texts`` (empty: none): a number, a percentage, a
    superlative, or a competitor named by the input."""
    text = "\n".join(texts)
    found = []
    if _PERCENT.search(text):
        found.append("a percentage")
    if _NUMBER.search(text):
        found.append("a number")
    if _SUPERLATIVE.search(text):
        found.append("a superlative")
    named = [c for c in competitors if c.strip() and _mentions(text, c.strip())]
    if named:
        found.append("a competitor (" + ", ".join(named[:3]) + ")")
    return found


def _mentions(text: str, name: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text, re.IGNORECASE) is not None
