"""The pieces without a stack: the interactive message, reading a click, the replies, and
the signature check with its replay memory (two engines on one database: two API
processes)."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from activities.webhooks.payloads import slack_message
from api.schemas import VoteRecorded
from api.slack import replies
from api.slack.interaction import click_of, team_of
from api.slack.signature import SlackUnverified, verify
from models.events import Event, EventType
from models.processes import Action
from models.slack import ACTIONS_BLOCK, COMMENT_BLOCK, VOTES_BLOCK, ButtonValue
from store.db import make_engine, make_sessionmaker
from store.slack import SlackStore
from tests.conftest import Database
from tests.slack.standin import sign

WID = "lead_scoring:acme:3f2c"
APPROVAL = f"{WID}:1"
SECRET = "8f14e45fceea167a5a36dedd4bea2543"


def _event(event_type: EventType = EventType.APPROVAL_REQUESTED) -> Event:
    return Event(
        id=f"{APPROVAL}:{event_type.value}",
        type=event_type,
        created_at=datetime.now(UTC),
        tenant="acme",
        data={
            "workflow_id": WID,
            "process": "lead_scoring",
            "state": "awaiting_approval",
            "approval": {"approval_id": APPROVAL, "proposal": {"score": 64}, "confidence": 0.6},
            "links": {"api": f"http://127.0.0.1:8001/api/brain/workflows/{WID}"},
        },
    )


def _ids(message: dict[str, Any]) -> list[Any]:
    return [b.get("block_id") for b in message["blocks"]]


def test_an_interactive_approval_request_carries_the_input_and_the_buttons() -> None:
    message = slack_message(_event(), interactive=True)
    assert _ids(message)[-3:] == [COMMENT_BLOCK, ACTIONS_BLOCK, None]  # then the links
    buttons = message["blocks"][-2]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Approve", "Reject"]
    for button in buttons:
        assert ButtonValue.decode(button["value"]) == ButtonValue(
            workflow_id=WID, approval_id=APPROVAL
        )
    # The same event to a subscription that is not interactive, and other events: as before.
    assert slack_message(_event()) == {
        **message,
        "blocks": [b for b in message["blocks"] if b.get("block_id") is None],
    }
    reminder = slack_message(_event(EventType.APPROVAL_REMINDER), interactive=True)
    assert COMMENT_BLOCK not in _ids(reminder) and ACTIONS_BLOCK not in _ids(reminder)


def _payload(**over: Any) -> dict[str, Any]:
    value = ButtonValue(workflow_id=WID, approval_id=APPROVAL).encode()
    return {
        "type": "block_actions",
        "team": {"id": "T0ACME", "domain": "acme"},
        "user": {"id": "U0ANN", "team_id": "T0ACME"},
        "response_url": "https://hooks.slack.com/actions/T0ACME/1/x",
        "state": {"values": {COMMENT_BLOCK: {"comment": {"value": "  ok \n"}}}},
        "actions": [{"action_id": "brain_reject", "value": value}],
        **over,
    }


def test_a_click_is_read_from_the_payload_and_anything_else_ignored() -> None:
    payload = _payload()
    assert team_of(payload) == "T0ACME"
    assert team_of({"user": {"team_id": "T0GRID"}}) == "T0GRID"
    assert team_of({"team": {"id": "not a team"}}) is None
    click = click_of(payload, "T0ACME")
    assert click is not None
    assert (click.slack_user, click.action, click.comment) == ("U0ANN", Action.REJECT, "ok")
    assert click.button.approval_id == APPROVAL
    assert click_of(_payload(type="view_submission"), "T0ACME") is None
    assert click_of(_payload(actions=[{"action_id": "other", "value": "x"}]), "T0ACME") is None
    bad_value = [{"action_id": "brain_approve", "value": '{"workflow_id": 1}'}]
    assert click_of(_payload(actions=bad_value), "T0ACME") is None


def test_replies_replace_the_message_or_speak_to_the_clicker_only() -> None:
    message = slack_message(_event(), interactive=True)
    vote = VoteRecorded(approval_id=APPROVAL, votes=1, needed=2, voters=["ann"])
    tallied = replies.votes(message, vote)
    assert tallied["replace_original"] is True
    assert _ids(tallied).index(VOTES_BLOCK) < _ids(tallied).index(COMMENT_BLOCK)
    assert ACTIONS_BLOCK in _ids(tallied)
    again = replies.votes(tallied, vote.model_copy(update={"votes": 2, "needed": 3}))
    assert _ids(again).count(VOTES_BLOCK) == 1
    assert replies.refused("no") == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": "no",
    }


async def test_a_signature_is_taken_once_across_processes(database: Database) -> None:
    first = SlackStore(database.sessions)
    other_engine = make_engine(database.url)
    try:
        second = SlackStore(make_sessionmaker(other_engine))
        body = f"payload={uuid.uuid4().hex}".encode()
        now = int(time.time())
        ts = str(now)
        signature = sign(SECRET, ts, body)
        await verify(first, SECRET, body, ts, signature)
        with pytest.raises(SlackUnverified, match="replayed"):
            await verify(second, SECRET, body, ts, signature)
        with pytest.raises(SlackUnverified, match="bad signature"):
            await verify(second, SECRET, body + b"x", ts, signature)
        with pytest.raises(SlackUnverified, match="stale"):
            await verify(second, SECRET, body, ts, signature, now=now + 301)
        with pytest.raises(SlackUnverified, match="Timestamp"):
            await verify(second, SECRET, body, "12e3", signature)
        # Past the window a signature is forgotten (the window refuses it by then).
        old = f"v0={uuid.uuid4().hex}"
        past = datetime.now(UTC) - timedelta(seconds=1)
        assert await first.first_time(old, past)
        assert await second.first_time(f"v0={uuid.uuid4().hex}", past + timedelta(hours=1))
        assert await first.first_time(old, past + timedelta(hours=1))
    finally:
        await other_engine.dispose()


async def test_background_work_is_held_and_awaited_at_shutdown() -> None:
    from api.background import Background

    done: list[str] = []
    release = asyncio.Event()

    async def reply() -> None:
        await release.wait()
        done.append("posted")

    async def broken() -> None:
        raise RuntimeError("logged, not raised")

    async def stuck() -> None:
        await asyncio.Event().wait()  # never set

    background = Background()
    background.start(reply(), name="reply")
    background.start(broken(), name="broken")
    assert len(background) == 2
    asyncio.get_running_loop().call_soon(release.set)
    await background.drain(within=10)
    assert done == ["posted"] and len(background) == 0

    background.start(stuck(), name="stuck")
    await background.drain(within=0.05)  # cancelled once its time is up
    assert len(background) == 0
