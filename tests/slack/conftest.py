"""Deciding from Slack end to end, one stack per module: the session's dev server and
database, a worker that delivers its webhooks, the API in-process, and a stand-in for Slack
on 127.0.0.1 (``standin.py``). Each test makes a tenant of its own: its Slack workspace,
mapped users, policy and interactive subscription."""

import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from activities.webhooks.store import WebhookStore
from core.settings import Settings
from models.hitl import PolicyFields
from models.processes import Process
from services.webhooks import create_subscription
from tests.api.conftest import REDIS_URL, close_api, open_api
from tests.api.support import BODIES, Api
from tests.conftest import Database
from tests.slack.standin import SlackStandIn, Workspace
from tests.support import SECRET, Brain, ai_result, running_brain
from tests.webhooks.receiver import Receiver


@pytest.fixture(scope="module")
def slack_settings() -> Settings:
    return Settings(
        jwt_secret=SecretStr(SECRET),
        redis_url=REDIS_URL,
        rate_limit_per_minute=100_000,
        auth_failures_per_minute=0,
        # The stand-in's response_url is on 127.0.0.1.
        webhook_allow_private=True,
        _env_file=None,
    )


@pytest_asyncio.fixture(scope="module")
async def slack_brain(
    temporal_env: WorkflowEnvironment, database: Database
) -> AsyncIterator[Brain]:
    async with running_brain(temporal_env.client, database, webhooks=True) as brain:
        # Every run parks: unsure enough for a person.
        brain.model.default = ai_result(confidence=0.5)
        yield brain


@pytest_asyncio.fixture(scope="module")
async def slack_api(slack_brain: Brain, slack_settings: Settings) -> AsyncIterator[Api]:
    api = await open_api(slack_brain, slack_settings)
    try:
        yield api
    finally:
        # What the lifespan does at shutdown: replies still being posted finish first.
        await api.state.background.drain(30)
        await close_api(api)


@pytest_asyncio.fixture(scope="module")
async def slack(slack_api: Api) -> AsyncIterator[SlackStandIn]:
    receiver = Receiver()
    await receiver.start()
    try:
        yield SlackStandIn(receiver, slack_api.http)
    finally:
        await receiver.stop()


def admin(api: Api, tenant: str) -> dict[str, str]:
    return api.auth("admin", tenant=tenant, sub=f"admin@{tenant}")


async def workspace(
    api: Api,
    slack: SlackStandIn,
    users: dict[str, tuple[str, list[str]]],
    **policy: Any,
) -> Workspace:
    """A new tenant with its Slack workspace, its ``users`` (Slack id: subject, groups),
    the lead_scoring ``policy``, and an interactive slack subscription to the stand-in."""
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    ws = Workspace(tenant, f"T{uuid.uuid4().hex[:10].upper()}", secrets.token_hex(16))
    r = await api.http.put(
        "/slack/workspace",
        json={"team_id": ws.team_id, "signing_secret": ws.signing_secret},
        headers=admin(api, tenant),
    )
    assert r.status_code == 200, r.text
    for slack_user, (subject, groups) in users.items():
        r = await api.http.put(
            f"/slack/users/{slack_user}",
            json={"subject": subject, "groups": groups},
            headers=admin(api, tenant),
        )
        assert r.status_code == 200, r.text
    if policy:
        await api.state.policies.set(
            Process("lead_scoring"), tenant, PolicyFields(**policy), changed_by="admin"
        )
    await create_subscription(
        WebhookStore(api.state.sessions),
        tenant,
        url=slack.webhook_url(tenant),
        events=["approval.requested"],
        fmt="slack",
        interactive=True,
        created_by="admin",
        allow_private=True,
        # A new tenant: no outbox holds a list of its subscriptions to wait out.
        settle_seconds=0,
    )
    return ws


async def parked_message(
    api: Api, slack: SlackStandIn, ws: Workspace, sub: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Start a lead for the tenant (requested by ``sub``), wait for it to park; its id and
    the interactive message Slack got for it."""
    headers = api.auth("operator", tenant=ws.tenant, sub=sub)
    r = await api.http.post("/workflows/lead_scoring", json=BODIES["lead_scoring"], headers=headers)
    assert r.status_code == 201, r.text
    wid = r.json()["workflow_id"]
    await api.wait_state(wid, "awaiting_approval", tenant=ws.tenant)
    return wid, await slack.message(ws.tenant, wid)
