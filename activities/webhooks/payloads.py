"""What a delivery posts: the event itself (``standard``) or a Slack message (``slack``),
with Approve / Reject buttons under an approval request when the subscription is interactive
(``slack_controls.py``)."""

import json
from typing import Any

from activities.webhooks.slack_controls import approval_controls
from models.events import Event, EventType
from models.webhooks import WebhookFormat

_HEADLINES = {
    EventType.APPROVAL_REQUESTED: "approval requested",
    EventType.APPROVAL_REMINDER: "still waiting for approval",
    EventType.APPROVAL_ESCALATED: "approval escalated",
    EventType.APPROVAL_DECIDED: "decided",
    EventType.RUN_COMPLETED: "run completed",
    EventType.RUN_FAILED: "run failed",
    EventType.POLICY_CHANGED: "policy changed",
}
# Slack refuses a section text over 3,000 characters and a header over 150.
_MAX_PROPOSAL_CHARS = 2500
_MAX_HEADER_CHARS = 150


def render(event: Event, fmt: WebhookFormat, *, interactive: bool = False) -> str:
    """The request body; compact JSON, so the signed bytes are exactly what is sent."""
    body: dict[str, Any] = (
        slack_message(event, interactive=interactive)
        if fmt is WebhookFormat.SLACK
        else event.model_dump(mode="json")
    )
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def slack_message(event: Event, *, interactive: bool = False) -> dict[str, Any]:
    """``text`` (notifications, clients without blocks) and ``blocks``: the process, the
    subject, the proposal, its confidence against the threshold, and the two links; with
    ``interactive``, an approval request also gets a comment input and the buttons."""
    data = event.data
    approval = _object(data.get("approval"))
    process = _title(event.process or "brain")
    subject = data.get("subject")
    headline = f"{process}: {_HEADLINES[event.type]}" + (f": {subject}" if subject else "")
    confidence = _first(approval, data, "confidence")
    threshold = _first(approval, data, "threshold")
    proposal = _first(approval, data, "proposal") or data.get("result")

    facts = [f"*Process:* {_escape(process)}"]
    if subject:
        facts.append(f"*Subject:* {_escape(str(subject))}")
    if "state" in data:
        facts.append(f"*State:* {_escape(str(data['state']))}")
    if confidence is not None:
        versus = f" (threshold {_number(threshold)})" if threshold is not None else ""
        facts.append(f"*Confidence:* {_number(confidence)}{versus}")
    decision = data.get("decision")
    if isinstance(decision, dict) and decision.get("actor"):
        facts.append(
            f"*Decision:* {_escape(str(decision.get('action', '')))} by "
            f"{_escape(str(decision['actor']))} ({_escape(str(decision.get('channel', '')))})"
        )

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(headline[:_MAX_HEADER_CHARS])},
        {"type": "section", "text": _mrkdwn("\n".join(facts))},
    ]
    if proposal:
        shown = json.dumps(proposal, indent=2, ensure_ascii=False, default=str)
        if len(shown) > _MAX_PROPOSAL_CHARS:
            shown = shown[:_MAX_PROPOSAL_CHARS] + "\n…"
        blocks.append({"type": "section", "text": _mrkdwn(f"*Proposal*\n```{_escape(shown)}```")})
    if interactive:
        blocks.extend(approval_controls(event))
    links = _object(data.get("links"))
    shown_links = [
        f"<{links[key]}|{label}>"
        for key, label in (("web_ui", "Temporal Web UI"), ("api", "REST API"))
        if links.get(key)
    ]
    if shown_links:
        blocks.append({"type": "context", "elements": [_mrkdwn(" · ".join(shown_links))]})
    text = headline
    if confidence is not None:
        text += f" (confidence {_number(confidence)}"
        text += f", threshold {_number(threshold)})" if threshold is not None else ")"
    return {"text": text, "blocks": blocks}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(approval: dict[str, Any], data: dict[str, Any], key: str) -> Any:
    return approval.get(key) if approval.get(key) is not None else data.get(key)


def _title(process: str) -> str:
    return process.replace("_", " ").capitalize()


def _number(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else str(value)


def _escape(text: str) -> str:
    # The three characters Slack's mrkdwn reserves.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}
