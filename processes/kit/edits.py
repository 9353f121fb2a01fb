"""Proposals checked against their run's input, and a person's edits applied to them.

Validation needs the input (a supplier must be one of the input's, budgets must stay within
the total), so proposal models read it from the validation context. Derived fields are
recomputed there, so an edit can never leave them inconsistent: an edit that sets one to
anything else is refused, naming the field it derives from.
"""

from typing import Any

from pydantic import BaseModel, ValidationError

from processes.kit.models import Proposal
from processes.kit.text import clip

# A person edits a handful of fields; anything larger is a mistake or an attack, and its
# errors would not fit in a workflow payload.
MAX_EDITED_FIELDS = 20
# Error details travel through Temporal payloads and HTTP answers: keep them small.
MAX_ERRORS = 20
_MAX_MSG = 300
_MAX_LOC_PART = 100


class EditsRefused(ValueError):
    """The edits cannot apply; ``errors`` are ``{"loc", "msg", "type"}`` like pydantic's."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"invalid edits: {len(errors)} error(s)")
        self.errors = errors


def compact_errors(found: list[Any], limit: int = MAX_ERRORS) -> list[dict[str, Any]]:
    """pydantic errors reduced to small, JSON-safe ``{"loc", "msg", "type"}``: no ``input``
    or ``ctx`` (they echo what was sent), long parts clipped, at most ``limit`` of them."""
    out = [
        {
            "loc": [p if isinstance(p, int) else clip(str(p), _MAX_LOC_PART) for p in e["loc"]],
            "msg": clip(str(e.get("msg", "")), _MAX_MSG),
            "type": clip(str(e.get("type", "")), _MAX_LOC_PART),
        }
        for e in found[:limit]
    ]
    if len(found) > limit:
        more = f"and {len(found) - limit} more error(s)"
        out.append({"loc": [], "msg": more, "type": "too_many_errors"})
    return out


def validate_proposal(
    model: type[Proposal], run_input: BaseModel, data: dict[str, Any]
) -> dict[str, Any]:
    """Validate a proposal against ``run_input``; return it normalised (derived fields
    recomputed). Raises ``pydantic.ValidationError`` naming the failing fields."""
    return model.model_validate(data, context={"input": run_input}).model_dump(mode="json")


def apply_edits(
    model: type[Proposal],
    run_input: BaseModel,
    original: dict[str, Any] | None,
    edits: dict[str, Any],
) -> dict[str, Any]:
    """Patch ``original`` with ``edits`` and validate the result; raise ``EditsRefused``
    (each error's ``loc`` relative to the edits)."""
    if len(edits) > MAX_EDITED_FIELDS:
        raise EditsRefused(
            [
                {
                    "loc": [],
                    "msg": f"at most {MAX_EDITED_FIELDS} fields may be edited at once",
                    "type": "too_many_edits",
                }
            ]
        )
    merged = {**(original or {}), **edits}
    for name in model.derived:
        if name not in edits:
            merged.pop(name, None)  # recomputed from what it derives from
    try:
        final = validate_proposal(model, run_input, merged)
    except ValidationError as err:
        raise EditsRefused(compact_errors(err.errors(include_url=False))) from None
    overridden = [n for n in model.derived if n in edits and final.get(n) != edits[n]]
    if overridden:
        raise EditsRefused(
            [
                {
                    "loc": [name],
                    "msg": f"{name} is derived from the other fields (it would be "
                    f"{final.get(name)!r}); change what it derives from instead",
                    "type": "derived_field",
                }
                for name in overridden
            ]
        )
    if original is not None and "rationale" not in edits:
        final["rationale"] = _edited_rationale(original, final)
    return final


def _edited_rationale(original: dict[str, Any], final: dict[str, Any]) -> str:
    """The AI's reasoning no longer explains an edited proposal on its own: say what a
    person changed, then keep the AI's words for context."""
    changed = [
        f"{k}: {original.get(k)!r} → {v!r}"
        for k, v in final.items()
        if k != "rationale" and original.get(k) != v
    ]
    if not changed:
        return str(original.get("rationale", final["rationale"]))
    note = f"Edited by a person ({'; '.join(changed)}). The AI's rationale: "
    return clip(note + str(original.get("rationale", "")), 5000)
