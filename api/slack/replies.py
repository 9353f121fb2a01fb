"""What Brain posts to a click's ``response_url``: the message replaced with the outcome
(who decided what, or the votes so far under a quorum), or a refusal that only the clicker
sees (``ephemeral``; the message stays as it was)."""

from typing import Any

from api.schemas import VoteRecorded
from models.hitl import Decision
from models.processes import Action
from models.slack import ACTIONS_BLOCK, COMMENT_BLOCK, VOTES_BLOCK

_CONTROLS = frozenset({ACTIONS_BLOCK, COMMENT_BLOCK, VOTES_BLOCK})
# Slack refuses a section text over 3,000 characters.
_MAX_COMMENT_CHARS = 2000


def decided(message: dict[str, Any] | None, decision: Decision, slack_user: str) -> dict[str, Any]:
    """The original message without its buttons and input, and the outcome under it."""
    verb = "Approved" if decision.action is Action.APPROVE else "Rejected"
    people = decision.approvers if decision.action is Action.APPROVE and decision.approvers else []
    by = ", ".join(people) if len(people) > 1 else decision.actor
    line = f"*{verb}* by {_escape(by)} (<@{slack_user}> in Slack)"
    if decision.gate:
        line += f" at gate {_escape(decision.gate)}"
    if decision.comment:
        line += f"\n> {_escape(decision.comment[:_MAX_COMMENT_CHARS])}"
    blocks = [b for b in _blocks(message) if b.get("block_id") not in _CONTROLS]
    blocks.append({"type": "section", "block_id": VOTES_BLOCK, "text": _mrkdwn(line)})
    headline = _text(message)
    text = f"{verb} by {by}" + (f": {headline}" if headline else "")
    return {"replace_original": True, "text": text, "blocks": blocks}


def votes(message: dict[str, Any] | None, vote: VoteRecorded) -> dict[str, Any]:
    """The original message, buttons kept for the others, with the votes so far."""
    more = vote.needed - vote.votes
    line = (
        f"*{vote.votes} of {vote.needed} approvals* so far: {_escape(', '.join(vote.voters))}; "
        f"waiting for {more} more"
    )
    kept = [b for b in _blocks(message) if b.get("block_id") != VOTES_BLOCK]
    tally = {"type": "context", "block_id": VOTES_BLOCK, "elements": [_mrkdwn(line)]}
    # Above the comment input and the buttons, where the next approver looks.
    at = next(
        (i for i, b in enumerate(kept) if b.get("block_id") in (COMMENT_BLOCK, ACTIONS_BLOCK)),
        len(kept),
    )
    kept.insert(at, tally)
    return {"replace_original": True, "text": _text(message), "blocks": kept}


def refused(reason: str) -> dict[str, Any]:
    """To the clicker only; the message itself is left as it was."""
    return {"response_type": "ephemeral", "replace_original": False, "text": reason}


def _blocks(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    blocks = message.get("blocks") if isinstance(message, dict) else None
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []


def _text(message: dict[str, Any] | None) -> str:
    text = message.get("text") if isinstance(message, dict) else None
    return text if isinstance(text, str) else ""


def _escape(text: str) -> str:
    # The three characters Slack's mrkdwn reserves.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}
