"""What makes a Slack message interactive (SPEC §8 "Slack"): under an approval request, a
comment input and the Approve / Reject buttons. A click comes back to the API
(``api/slack``) as a ``block_actions`` payload that carries the button's value and, in
``state.values``, what was typed in the input: no modal and no bot token needed."""

from typing import Any

from models.events import Event, EventType
from models.slack import (
    ACTIONS_BLOCK,
    APPROVE_ACTION,
    COMMENT_ACTION,
    COMMENT_BLOCK,
    REJECT_ACTION,
    ButtonValue,
)

# Slack's plain_text_input takes at most 3,000 characters (a REST comment may be longer).
_MAX_COMMENT_CHARS = 3000


def approval_controls(event: Event) -> list[dict[str, Any]]:
    """The input and the buttons for an ``approval.requested`` event; nothing for any other
    event, or one that does not name its approval."""
    if event.type is not EventType.APPROVAL_REQUESTED:
        return []
    approval = event.data.get("approval")
    workflow_id = event.data.get("workflow_id")
    approval_id = approval.get("approval_id") if isinstance(approval, dict) else None
    if not isinstance(workflow_id, str) or not isinstance(approval_id, str):
        return []
    value = ButtonValue(workflow_id=workflow_id, approval_id=approval_id).encode()
    return [comment_input(), decide_buttons(value)]


def comment_input() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": COMMENT_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": "Comment (optional)"},
        "element": {
            "type": "plain_text_input",
            "action_id": COMMENT_ACTION,
            "multiline": True,
            "max_length": _MAX_COMMENT_CHARS,
        },
    }


def decide_buttons(value: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            _button(APPROVE_ACTION, "Approve", "primary", value),
            _button(REJECT_ACTION, "Reject", "danger", value),
        ],
    }


def _button(action_id: str, label: str, style: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "style": style,
        "value": value,
    }
