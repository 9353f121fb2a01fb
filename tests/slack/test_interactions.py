"""Deciding from Slack (SPEC §8 "Slack"): a click on an interactive message's button, sent
by the stand-in exactly as Slack sends it, is decided through the REST door's rules as the
Slack user's mapped subject and groups, audited with channel slack and the Slack user and
team, and answered on the click's response_url."""

import time

from models.processes import Channel
from models.slack import ACTIONS_BLOCK, COMMENT_BLOCK
from tests.api.support import Api
from tests.slack.conftest import parked_message, workspace
from tests.slack.standin import SlackStandIn

ANN, BOB, EVE = "U0ANN", "U0BOB", "U0EVE"


async def test_a_signed_click_decides_audits_and_replaces_the_message(
    slack_api: Api, slack: SlackStandIn
) -> None:
    api = slack_api
    ws = await workspace(api, slack, {ANN: ("ann", ["sales"])})
    wid, message = await parked_message(api, slack, ws)
    block_ids = [b.get("block_id") for b in message["blocks"]]
    assert COMMENT_BLOCK in block_ids and ACTIONS_BLOCK in block_ids

    sent = await slack.click(message, ws, ANN, "Approve", comment="Fits our ICP.\nGo ahead.")
    assert sent.response.status_code == 200, sent.response.text

    reply = await slack.reply(sent)
    assert reply["replace_original"] is True
    assert reply["text"].startswith("Approved by ann")
    shown = [b.get("block_id") for b in reply["blocks"]]
    assert ACTIONS_BLOCK not in shown and COMMENT_BLOCK not in shown
    assert "Fits our ICP." in reply["blocks"][-1]["text"]["text"]

    run = await api.wait_state(wid, "completed", tenant=ws.tenant)
    assert run["decision"]["actor"] == "ann"
    (row,) = await api.brain.audit(wid)
    assert (row.decision, row.actor, row.channel) == ("approve", "ann", Channel.SLACK.value)
    assert row.origin == {"slack_user": ANN, "slack_team": ws.team_id}
    assert row.comment == "Fits our ICP.\nGo ahead."


async def test_a_reject_click_rejects(slack_api: Api, slack: SlackStandIn) -> None:
    api = slack_api
    ws = await workspace(api, slack, {ANN: ("ann", [])})
    wid, message = await parked_message(api, slack, ws)
    sent = await slack.click(message, ws, ANN, "Reject")
    assert sent.response.status_code == 200
    assert (await slack.reply(sent))["text"].startswith("Rejected by ann")
    await api.wait_state(wid, "rejected", tenant=ws.tenant)
    (row,) = await api.brain.audit(wid)
    assert (row.decision, row.channel, row.comment) == ("reject", "slack", None)


async def test_only_a_fresh_request_signed_by_the_workspace_is_taken(
    slack_api: Api, slack: SlackStandIn
) -> None:
    api = slack_api
    ws = await workspace(api, slack, {ANN: ("ann", []), BOB: ("bob", [])})
    wid, message = await parked_message(api, slack, ws)
    refused = [
        await slack.click(message, ws, ANN, secret="0" * 32),  # bad signature
        await slack.click(message, ws, ANN, timestamp=int(time.time()) - 6 * 60),  # stale
        await slack.click(message, ws, ANN, team_id="TNOBODY0"),  # unknown workspace
    ]
    for sent in refused:
        assert sent.response.status_code == 401, sent.response.text
    assert (await api.get(wid, tenant=ws.tenant))["state"] == "awaiting_approval"

    taken = await slack.click(message, ws, BOB)
    assert taken.response.status_code == 200
    # The same request again, within the window: a replay.
    replayed = await slack.send(taken.body, taken.headers)
    assert replayed.status_code == 401
    assert "replayed" in replayed.json()["detail"]

    await slack.reply(taken)
    await api.wait_state(wid, "completed", tenant=ws.tenant)
    assert [(r.actor, r.channel) for r in await api.brain.audit(wid)] == [("bob", "slack")]


async def test_an_unmapped_slack_user_is_refused_to_them_only(
    slack_api: Api, slack: SlackStandIn
) -> None:
    api = slack_api
    ws = await workspace(api, slack, {ANN: ("ann", [])})
    wid, message = await parked_message(api, slack, ws)
    sent = await slack.click(message, ws, EVE)
    assert sent.response.status_code == 200
    reply = await slack.reply(sent)
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "not mapped" in reply["text"] and EVE in reply["text"]
    assert (await api.get(wid, tenant=ws.tenant))["state"] == "awaiting_approval"
    assert await api.brain.audit(wid) == []


async def test_four_eyes_refuses_the_requester_to_them_only(
    slack_api: Api, slack: SlackStandIn
) -> None:
    api = slack_api
    ws = await workspace(
        api, slack, {ANN: ("ann", []), BOB: ("bob", [])}, requester_may_approve=False
    )
    # Ann started the run (as "Ann": one subject after normalization).
    wid, message = await parked_message(api, slack, ws, sub="Ann")
    sent = await slack.click(message, ws, ANN)
    reply = await slack.reply(sent)
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "FourEyes" in reply["text"]
    assert (await api.get(wid, tenant=ws.tenant))["state"] == "awaiting_approval"

    by_bob = await slack.click(message, ws, BOB)
    assert (await slack.reply(by_bob))["replace_original"] is True
    await api.wait_state(wid, "completed", tenant=ws.tenant)
    assert [r.actor for r in await api.brain.audit(wid)] == ["bob"]


async def test_a_quorum_counts_each_click_then_decides(slack_api: Api, slack: SlackStandIn) -> None:
    api = slack_api
    ws = await workspace(api, slack, {ANN: ("ann", []), BOB: ("bob", [])}, min_approvals=2)
    wid, message = await parked_message(api, slack, ws)

    first = await slack.click(message, ws, ANN, comment="one")
    votes = await slack.reply(first)
    assert votes["replace_original"] is True
    tally = " ".join(str(b) for b in votes["blocks"])
    assert "1 of 2 approvals" in tally and "ann" in tally
    # The buttons stay for the next approver: the second click is on the message as shown.
    message = {"text": votes["text"], "blocks": votes["blocks"]}
    assert ACTIONS_BLOCK in [b.get("block_id") for b in message["blocks"]]

    again = await slack.click(message, ws, ANN)
    assert "AlreadyVoted" in (await slack.reply(again))["text"]

    second = await slack.click(message, ws, BOB)
    decided = await slack.reply(second)
    assert decided["text"].startswith("Approved by ann, bob")
    await api.wait_state(wid, "completed", tenant=ws.tenant)
    (row,) = await api.brain.audit(wid)
    assert row.channel == "slack" and sorted(row.approvers or []) == ["ann", "bob"]


async def test_a_gate_for_a_group_refuses_a_mapped_user_outside_it(
    slack_api: Api, slack: SlackStandIn
) -> None:
    api = slack_api
    ws = await workspace(
        api, slack, {ANN: ("ann", ["legal"]), BOB: ("bob", ["finance"])},
        approver_groups=["finance"],
    )  # fmt: skip
    wid, message = await parked_message(api, slack, ws)
    outside = await slack.click(message, ws, ANN)
    reply = await slack.reply(outside)
    assert reply["response_type"] == "ephemeral" and "NotEligible" in reply["text"]
    assert await api.brain.audit(wid) == []

    inside = await slack.click(message, ws, BOB)
    assert (await slack.reply(inside))["replace_original"] is True
    await api.wait_state(wid, "completed", tenant=ws.tenant)
    assert [r.actor for r in await api.brain.audit(wid)] == ["bob"]


async def test_a_gate_closed_to_slack_refuses_the_click(
    slack_api: Api, slack: SlackStandIn
) -> None:
    api = slack_api
    ws = await workspace(api, slack, {ANN: ("ann", [])}, doors=["api"])
    wid, message = await parked_message(api, slack, ws)
    reply = await slack.reply(await slack.click(message, ws, ANN))
    assert reply["response_type"] == "ephemeral" and "DoorClosed" in reply["text"]
    assert (await api.get(wid, tenant=ws.tenant))["state"] == "awaiting_approval"


async def test_a_button_of_another_tenants_run_finds_nothing(
    slack_api: Api, slack: SlackStandIn
) -> None:
    """The button names a run, but the click decides as the clicker's tenant: a message of
    one tenant clicked in another tenant's workspace (signed by that workspace) is refused."""
    api = slack_api
    ours = await workspace(api, slack, {ANN: ("ann", [])})
    theirs = await workspace(api, slack, {BOB: ("bob", [])})
    wid, message = await parked_message(api, slack, ours)
    reply = await slack.reply(await slack.click(message, theirs, BOB))
    assert reply["response_type"] == "ephemeral" and "WorkflowNotFound" in reply["text"]
    assert (await api.get(wid, tenant=ours.tenant))["state"] == "awaiting_approval"
    assert await api.brain.audit(wid) == []
