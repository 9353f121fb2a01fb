"""What a Slack request says. Slack posts ``application/x-www-form-urlencoded`` with one field,
``payload``, a JSON document; a button click is a ``block_actions`` payload naming the team,
the user, the button (its ``action_id`` and ``value``), what the message's inputs hold
(``state.values``), the message itself and a ``response_url`` to answer on.

Read only to find the workspace whose secret checks the signature; trusted only after that.
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from api.errors import ValidationFailed
from models.processes import Action
from models.slack import (
    APPROVE_ACTION,
    COMMENT_ACTION,
    COMMENT_BLOCK,
    REJECT_ACTION,
    ButtonValue,
    is_slack_id,
)

_ACTIONS = {APPROVE_ACTION: Action.APPROVE, REJECT_ACTION: Action.REJECT}
_MAX_RESPONSE_URL = 2048


@dataclass(frozen=True)
class Click:
    """An Approve or Reject button of a Brain message, clicked."""

    team_id: str
    slack_user: str
    action: Action
    button: ButtonValue
    comment: str | None
    response_url: str
    # The message clicked, as Slack shows it: the outcome replaces it.
    message: dict[str, Any] | None


def payload_of(body: bytes) -> dict[str, Any]:
    """The form's ``payload``; 422 naming it when it is missing or not a JSON object."""
    try:
        form = parse_qs(body.decode("utf-8"), max_num_fields=20)
        raw = form["payload"][0]
        payload = json.loads(raw)
    except (UnicodeDecodeError, ValueError, KeyError, IndexError):
        payload = None
    if not isinstance(payload, dict):
        raise ValidationFailed(
            [
                {
                    "loc": ["body", "payload"],
                    "msg": "a form field 'payload' holding a JSON object, as Slack sends",
                    "type": "value_error",
                }
            ]
        )
    return payload


def team_of(payload: dict[str, Any]) -> str | None:
    """The workspace the request is from (the team; on Enterprise Grid, the user's team)."""
    for holder, key in ((payload.get("team"), "id"), (payload.get("user"), "team_id")):
        team = holder.get(key) if isinstance(holder, dict) else None
        if is_slack_id(team):
            return str(team)
    return None


def click_of(payload: dict[str, Any], team_id: str) -> Click | None:
    """The click on one of Brain's buttons; None for anything else Slack may send (another
    app's action, a shortcut, a view), which Brain acknowledges and ignores."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    if not isinstance(first, dict) or first.get("action_id") not in _ACTIONS:
        return None
    button = ButtonValue.decode(first.get("value"))
    user = payload.get("user")
    slack_user = user.get("id") if isinstance(user, dict) else None
    response_url = payload.get("response_url")
    if (
        button is None
        or not is_slack_id(slack_user)
        or not isinstance(response_url, str)
        or len(response_url) > _MAX_RESPONSE_URL
    ):
        return None
    message = payload.get("message")
    return Click(
        team_id=team_id,
        slack_user=str(slack_user),
        action=_ACTIONS[first["action_id"]],
        button=button,
        comment=_comment(payload),
        response_url=response_url,
        message=message if isinstance(message, dict) else None,
    )


def _comment(payload: dict[str, Any]) -> str | None:
    """What the clicker typed in the message's comment input, if anything."""
    state = payload.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    block = values.get(COMMENT_BLOCK) if isinstance(values, dict) else None
    field = block.get(COMMENT_ACTION) if isinstance(block, dict) else None
    value = field.get("value") if isinstance(field, dict) else None
    if not isinstance(value, str):
        return None
    return value.strip() or None
