"""A stand-in for Slack on 127.0.0.1: it takes the incoming-webhook posts (the interactive
messages), clicks their buttons as Slack does (a form-encoded ``payload`` signed with the
app's signing secret: ``X-Slack-Request-Timestamp``, ``X-Slack-Signature``), and takes the
posts Brain makes to each click's ``response_url``.

The click is built from the message as received, the way Slack builds it: the button's
``action_id`` and ``value`` and the input's block and action ids come from the blocks.
"""

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.polling import eventually
from tests.webhooks.receiver import Receiver


@dataclass(frozen=True)
class Workspace:
    tenant: str
    team_id: str
    signing_secret: str


@dataclass(frozen=True)
class Sent:
    """A click as sent: its answer, the exact request (to replay), where Brain answers."""

    response: httpx.Response
    body: bytes
    headers: dict[str, str]
    reply_path: str


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackStandIn:
    def __init__(self, receiver: Receiver, api: httpx.AsyncClient) -> None:
        self.receiver = receiver
        self.api = api

    def webhook_url(self, tenant: str) -> str:
        return f"http://127.0.0.1:{self.receiver.port}/hook/{tenant}"

    def _posts(self, path: str) -> list[dict[str, Any]]:
        return [r.json() for r in self.receiver.requests if r.path == path]

    async def message(self, tenant: str, workflow_id: str) -> dict[str, Any]:
        """The interactive message posted for ``workflow_id``'s approval request."""

        async def posted() -> dict[str, Any] | None:
            for message in self._posts(f"/hook/{tenant}"):
                if any(workflow_id in b.get("value", "") for b in _buttons(message)):
                    return message
            return None

        found: dict[str, Any] = await eventually(posted, within=30)
        return found

    def posts(self, tenant: str) -> list[Any]:
        return self._posts(f"/hook/{tenant}")

    async def click(
        self,
        message: dict[str, Any],
        workspace: Workspace,
        slack_user: str,
        label: str = "Approve",
        *,
        comment: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        team_id: str | None = None,
    ) -> Sent:
        """Click ``label`` on ``message`` as ``slack_user`` of the workspace, with
        ``comment`` typed in the message's input; ``secret``, ``timestamp`` and ``team_id``
        to send what Slack would not."""
        button = next(b for b in _buttons(message) if b["text"]["text"] == label)
        team = team_id or workspace.team_id
        reply_path = f"/respond/{uuid.uuid4().hex}"
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": slack_user, "username": slack_user.lower(), "team_id": team},
            "api_app_id": "A0BRAIN",
            "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0APPROVE"},
            "trigger_id": "1.2.3",
            "channel": {"id": "C0APPROVE", "name": "approvals"},
            "message": {"type": "message", "ts": "1.2", **message},
            "state": {"values": _typed(message, comment)},
            "response_url": f"http://127.0.0.1:{self.receiver.port}{reply_path}",
            "actions": [
                {
                    "type": "button",
                    "block_id": _block_of(message, button),
                    "action_id": button["action_id"],
                    "text": button["text"],
                    "value": button["value"],
                    "action_ts": str(time.time()),
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(secret or workspace.signing_secret, ts, body),
        }
        return Sent(await self.send(body, headers), body, headers, reply_path)

    async def send(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.api.post("/slack/interactions", content=body, headers=headers)

    async def reply(self, sent: Sent) -> dict[str, Any]:
        """What Brain posted to the click's ``response_url`` (it answers each click once)."""

        async def posted() -> dict[str, Any] | None:
            replies = self._posts(sent.reply_path)
            return replies[0] if replies else None

        found: dict[str, Any] = await eventually(posted, within=30)
        return found


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]


def _block_of(message: dict[str, Any], button: dict[str, Any]) -> str:
    blocks = message["blocks"]
    block_id: str = next(b.get("block_id", "") for b in blocks if button in b.get("elements", []))
    return block_id


def _typed(message: dict[str, Any], comment: str | None) -> dict[str, Any]:
    """Slack's ``state.values``: every input of the message, by block and action id."""
    values: dict[str, Any] = {}
    for block in message.get("blocks", []):
        if block.get("type") == "input":
            element = block["element"]
            values[block["block_id"]] = {
                element["action_id"]: {"type": element["type"], "value": comment}
            }
    return values
