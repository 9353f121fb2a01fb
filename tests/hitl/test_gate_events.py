"""The gate tells subscribers (SPEC §6): a parked run, each vote and decision, reminders while
it waits, one escalation, the run's end, a policy change; a real HTTP receiver, a worker that
delivers webhooks, and ids that never deliver one fact twice."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowFailureError

from activities.webhooks.store import WebhookStore
from models.events import EventType
from models.hitl import PolicyFields
from models.processes import Action, Process, RunState
from services.policies import change_policy
from services.webhooks import create_subscription
from tests.conftest import Database
from tests.support import Brain, decide, eventually, parked, running_brain
from tests.webhooks.receiver import Receiver

ALL_EVENTS = [e.value for e in EventType]


@pytest_asyncio.fixture
async def hooked(client: Client, database: Database) -> AsyncIterator[Brain]:
    async with running_brain(client, database, webhooks=True) as brain:
        yield brain


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


async def _subscribe(brain: Brain, receiver: Receiver, tenant: str | None = None) -> None:
    await create_subscription(
        WebhookStore(brain.db.sessions),
        tenant or brain.tenant,
        url=receiver.url,
        events=ALL_EVENTS,
        created_by="tester",
        allow_private=True,
        settle_seconds=0,  # a new tenant: no outbox has read its subscriptions yet
    )


def _of(receiver: Receiver, kind: EventType, workflow_id: str | None = None) -> list[Any]:
    found = [r.json() for r in receiver.requests if r.json()["type"] == kind.value]
    if workflow_id is not None:
        found = [e for e in found if e["data"].get("workflow_id") == workflow_id]
    return found


async def _arrived(receiver: Receiver, kind: EventType, count: int = 1, within: float = 10) -> Any:
    async def check() -> list[Any] | None:
        found = _of(receiver, kind)
        return found if len(found) >= count else None

    return await eventually(check, within=within)


async def test_parking_deciding_and_completing_are_told_once_each(
    hooked: Brain, receiver: Receiver
) -> None:
    await _subscribe(hooked, receiver)
    handle = await hooked.start()
    await parked(handle)
    started = asyncio.get_running_loop().time()
    [requested] = await _arrived(receiver, EventType.APPROVAL_REQUESTED, within=2)
    assert asyncio.get_running_loop().time() - started <= 2
    assert requested["data"]["workflow_id"] == handle.id
    assert requested["data"]["approval"]["approval_id"] == f"{handle.id}:1"
    assert requested["data"]["links"]["web_ui"].endswith(handle.id)
    assert requested["data"]["subject"] == "Ada Lovelace (Analytical Engines)"

    await decide(handle, Action.APPROVE, by="alice")
    await handle.result()
    [decided] = await _arrived(receiver, EventType.APPROVAL_DECIDED)
    [completed] = await _arrived(receiver, EventType.RUN_COMPLETED)
    assert decided["data"]["decision"]["actor"] == "alice"
    assert completed["data"]["state"] == "completed" and completed["data"]["result"]["score"] == 82
    # Ids from what happened (SPEC §8); timestamps RFC 3339 UTC with "Z".
    assert requested["id"] == f"{handle.id}:1:approval.requested"
    assert decided["id"] == f"{handle.id}:1:approval.decided"
    assert completed["id"] == f"{handle.id}:run.completed"
    for event in (requested, decided, completed):
        assert event["created_at"].endswith("Z"), event["created_at"]
    await asyncio.sleep(1)
    # One delivery per fact: nothing arrived twice, whatever retried underneath.
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 3


async def test_votes_are_told_and_a_reject_ends_the_run(hooked: Brain, receiver: Receiver) -> None:
    await _subscribe(hooked, receiver)
    await hooked.set_policy(min_approvals=2)
    handle = await hooked.start()
    await parked(handle)
    await decide(handle, Action.APPROVE, by="alice")
    [vote] = await _arrived(receiver, EventType.APPROVAL_DECIDED)
    assert (vote["data"]["votes"], vote["data"]["needed"]) == (1, 2)
    assert vote["data"]["vote"]["actor"] == "alice"
    await decide(handle, Action.REJECT, by="bob")
    assert (await handle.result()).state is RunState.REJECTED
    decided = await _arrived(receiver, EventType.APPROVAL_DECIDED, count=2)
    assert decided[1]["data"]["decision"]["action"] == "reject"
    [done] = await _arrived(receiver, EventType.RUN_COMPLETED)
    assert done["data"]["state"] == "rejected"


async def test_reminders_repeat_until_the_decision_and_escalation_comes_once(
    hooked: Brain, receiver: Receiver
) -> None:
    await _subscribe(hooked, receiver)
    await hooked.set_policy(remind_every_seconds=1, escalate_after_seconds=2)
    handle = await hooked.start()
    await parked(handle)
    reminders = await _arrived(receiver, EventType.APPROVAL_REMINDER, count=3, within=15)
    [escalated] = await _arrived(receiver, EventType.APPROVAL_ESCALATED)
    assert escalated["data"]["approval"]["approval_id"] == f"{handle.id}:1"
    assert [r["id"] for r in reminders[:3]] == [
        f"{handle.id}:1:approval.reminder:{n}" for n in (1, 2, 3)
    ]
    assert escalated["id"] == f"{handle.id}:1:approval.escalated"
    await decide(handle, Action.REJECT, by="alice")
    await handle.result()
    told = len(_of(receiver, EventType.APPROVAL_REMINDER))
    await asyncio.sleep(2.5)
    assert len(_of(receiver, EventType.APPROVAL_REMINDER)) == told  # they stopped
    assert len(_of(receiver, EventType.APPROVAL_ESCALATED)) == 1


async def test_a_policy_change_reaches_a_parked_runs_reminders(
    hooked: Brain, receiver: Receiver
) -> None:
    await _subscribe(hooked, receiver)
    handle = await hooked.start()
    await parked(handle)
    await change_policy(
        hooked.client,
        hooked.policies,
        task_queue=hooked.task_queue,
        process=Process("lead_scoring"),
        tenant=hooked.tenant,
        changed_by="root",
        patch=PolicyFields(remind_every_seconds=1),
    )
    [changed] = await _arrived(receiver, EventType.POLICY_CHANGED)
    assert changed["data"]["changed_by"] == "root"
    assert changed["data"]["policy"]["remind_every_seconds"] == 1
    # The parked run re-read its policy and now reminds.
    await _arrived(receiver, EventType.APPROVAL_REMINDER, count=2, within=15)
    await decide(handle, Action.REJECT, by="alice")
    await handle.result()


async def test_a_canceled_run_is_told_and_another_tenant_hears_nothing(
    hooked: Brain, receiver: Receiver
) -> None:
    other = Receiver()
    await other.start()
    try:
        await _subscribe(hooked, receiver)
        await _subscribe(hooked, other, tenant=f"{hooked.tenant}-other")
        handle = await hooked.start()
        await parked(handle)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        [failed] = await _arrived(receiver, EventType.RUN_FAILED)
        assert failed["data"]["state"] == "canceled"
        assert failed["data"]["workflow_id"] == handle.id
        await asyncio.sleep(1)
        assert other.requests == []
    finally:
        await other.stop()


async def test_a_replayed_run_sends_nothing_twice_for_the_steps_it_keeps(
    client: Client, database: Database, receiver: Receiver
) -> None:
    """A run whose apply step failed for good is replayed from its last good point: the
    approval it asked for and the decision it kept are not told again; only what the replay
    does anew (the completion) is."""
    from services.replay import replay
    from tests.ops.conftest import Guard

    guard = Guard()
    async with running_brain(client, database, webhooks=True, apply_guard=guard) as brain:
        await _subscribe(brain, receiver)
        handle = await brain.start()
        await parked(handle)
        await decide(handle, Action.APPROVE, by="alice")
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        await _arrived(receiver, EventType.RUN_FAILED)
        told = sorted(r.headers["webhook-id"] for r in receiver.requests)

        guard.broken = False
        [item] = await replay(client, tenant=brain.tenant, workflow_id=handle.id)
        assert item.outcome == "replayed", item
        again = client.get_workflow_handle(handle.id, run_id=item.new_run_id)
        await again.result()
        await _arrived(receiver, EventType.RUN_COMPLETED)
        await asyncio.sleep(1)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    kinds = [r.json()["type"] for r in receiver.requests]
    assert kinds.count("approval.requested") == kinds.count("approval.decided") == 1
    assert kinds.count("run.failed") == 1 and kinds.count("run.completed") == 1
    assert set(told) <= set(ids)
