"""``/webhooks`` over REST (SPEC §4): admins of a tenant manage its subscriptions only.

The app here is the webhooks router with the API's own error handling and dependencies
(real tokens, roles, database and Temporal client), without the process routes.
"""

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from standardwebhooks import Webhook
from temporalio.client import Client

from api import errors
from api.auth import mint_token
from api.routes import webhooks
from api.state import AppState
from core.settings import Settings
from store.policies import PolicyStore
from tests.conftest import Database
from tests.polling import eventually
from tests.webhooks.conftest import Hooks, new_tenant
from tests.webhooks.receiver import Receiver

SECRET = "webhook-api-test-secret-" + "0123456789abcdef" * 3
PUBLIC = "https://93.184.215.14/brain-hooks"  # a global address literal: no DNS needed


class Api:
    def __init__(self, http: httpx.AsyncClient, tenant: str) -> None:
        self.http = http
        self.tenant = tenant

    def auth(self, role: str = "admin", tenant: str | None = None) -> dict[str, str]:
        tenant = tenant or self.tenant
        token = mint_token(f"{role}@{tenant}", tenant, role, 600, SECRET)
        return {"Authorization": f"Bearer {token}"}

    async def create(self, role: str = "admin", tenant: str | None = None, **body: Any) -> Any:
        body = {"url": PUBLIC, "events": ["approval.requested"], **body}
        return await self.http.post("/webhooks", json=body, headers=self.auth(role, tenant))


def make_app(client: Client, db: Database, settings: Settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    app.state.brain = AppState(
        client=client,
        engine=db.engine,
        sessions=db.sessions,
        task_queue="unused",
        policies=PolicyStore(db.sessions),
    )
    errors.install(app)
    app.include_router(webhooks.router, prefix="/api/brain")
    return app


@asynccontextmanager
async def open_api(client: Client, db: Database, allow_private: bool = False) -> AsyncIterator[Api]:
    settings = Settings(
        _env_file=None, jwt_secret=SecretStr(SECRET), webhook_allow_private=allow_private
    )
    transport = httpx.ASGITransport(app=make_app(client, db, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://brain/api/brain") as h:
        yield Api(h, new_tenant())


@pytest_asyncio.fixture
async def api(client: Client, database: Database) -> AsyncIterator[Api]:
    async with open_api(client, database) as opened:
        yield opened


async def test_create_shows_the_secret_once(api: Api) -> None:
    r = await api.create(events=["approval.requested", "run.failed"], process="lead_processing")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"].startswith("wh_")
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 24
    assert created["events"] == ["approval.requested", "run.failed"]
    assert (created["process"], created["format"], created["enabled"]) == (
        "lead_scoring",
        "standard",
        True,
    )
    listed = await api.http.get("/webhooks", headers=api.auth())
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["id"] == created["id"] and "secret" not in item
    assert created["secret"] not in listed.text


async def test_a_given_secret_is_kept(api: Api) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    r = await api.create(secret=secret, format="slack")
    assert r.status_code == 201, r.text
    assert (r.json()["secret"], r.json()["format"]) == (secret, "slack")


@pytest.mark.parametrize("role", ["viewer", "operator", "approver"])
async def test_below_admin_is_forbidden(api: Api, role: str) -> None:
    sub = (await api.create()).json()["id"]
    calls = [
        api.http.post(
            "/webhooks", json={"url": PUBLIC, "events": ["run.failed"]}, headers=api.auth(role)
        ),
        api.http.get("/webhooks", headers=api.auth(role)),
        api.http.delete(f"/webhooks/{sub}", headers=api.auth(role)),
        api.http.get(f"/webhooks/{sub}/deliveries", headers=api.auth(role)),
    ]
    for call in calls:
        r = await call
        assert (r.status_code, r.json()["error"]) == (403, "Forbidden")
    assert (await api.http.get("/webhooks")).status_code == 401


async def test_another_tenants_subscription_is_not_found(api: Api) -> None:
    sub = (await api.create()).json()["id"]
    other = new_tenant()
    gone = await api.http.delete(f"/webhooks/{sub}", headers=api.auth(tenant=other))
    assert (gone.status_code, gone.json()["error"]) == (404, "WebhookNotFound")
    seen = await api.http.get(f"/webhooks/{sub}/deliveries", headers=api.auth(tenant=other))
    assert seen.status_code == 404
    theirs = await api.http.get("/webhooks", headers=api.auth(tenant=other))
    assert theirs.json()["items"] == []
    # Still there for its own tenant; then deleted, and deleted only once.
    assert len((await api.http.get("/webhooks", headers=api.auth())).json()["items"]) == 1
    assert (await api.http.delete(f"/webhooks/{sub}", headers=api.auth())).status_code == 204
    assert (await api.http.delete(f"/webhooks/{sub}", headers=api.auth())).status_code == 404
    assert (await api.http.get("/webhooks", headers=api.auth())).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"process": "payroll"}, "process"),
        ({"events": ["approval.approved"]}, "events"),
        ({"events": []}, "events"),
        ({"url": "ftp://93.184.215.14/x"}, "url"),
        ({"url": "http:///nohost"}, "url"),
        ({"format": "teams"}, "format"),
        ({"secret": "whsec_not*base64*at*all"}, "secret"),
        ({"secret": "short"}, "secret"),
    ],
)
async def test_invalid_bodies_are_422(api: Api, body: dict[str, Any], field: str) -> None:
    r = await api.create(**body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "ValidationFailed"
    assert field in r.json()["fields"][0]["loc"]


PRIVATE = [
    "http://10.0.0.1/hook",
    "http://192.168.1.10/hook",
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://100.64.0.1/hook",
]


@pytest.mark.parametrize("url", PRIVATE)
async def test_private_targets_are_refused(api: Api, url: str) -> None:
    r = await api.create(url=url)
    assert r.status_code == 422, r.text
    assert r.json()["fields"][0]["loc"] == ["body", "url"]
    assert "BRAIN_WEBHOOK_ALLOW_PRIVATE" in r.json()["fields"][0]["msg"]


async def test_private_targets_are_allowed_when_configured(
    client: Client, database: Database
) -> None:
    async with open_api(client, database, allow_private=True) as api:
        for url in PRIVATE:
            r = await api.create(url=url)
            assert r.status_code == 201, (url, r.text)


async def test_deliveries_show_a_dead_400(
    client: Client, database: Database, hooks: Hooks, receiver: Receiver
) -> None:
    receiver.default = 400
    async with open_api(client, database, allow_private=True) as api:
        created = (await api.create(url=receiver.url)).json()
        event = hooks.event(tenant=api.tenant)
        assert await hooks.publisher.publish(event) == 1
        [request] = await receiver.wait_for(1)
        Webhook(created["secret"]).verify(request.body, request.headers)

        async def dead() -> Any:
            r = await api.http.get(f"/webhooks/{created['id']}/deliveries", headers=api.auth())
            items = r.json()["items"]
            return items if items and items[0]["state"] == "dead" else None

        [delivery] = await eventually(dead)
    assert delivery["event_id"] == event.id
    assert delivery["event_type"] == "approval.requested"
    assert (delivery["attempts"], delivery["last_status"], delivery["next_attempt_at"]) == (
        1,
        400,
        None,
    )
