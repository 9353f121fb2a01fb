"""The app as `brain api` runs it: the lifespan builds its own clients; the SPEC's tour."""

import httpx
import pytest

from api.app import InsecureSettings, create_app
from core.settings import DEV_JWT_SECRET, Settings
from tests.api.conftest import REDIS_URL
from tests.api.support import SECRET, Api, new_tenant
from tests.support import Brain, eventually


async def test_the_lifespan_builds_and_closes_its_clients(brain: Brain) -> None:
    settings = Settings(
        temporal_address=brain.client.service_client.config.target_host,
        database_url=brain.db.url,
        redis_url=REDIS_URL,
        task_queue=brain.task_queue,
        jwt_secret=SECRET,
        _env_file=None,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://brain") as http:
            r = await http.get("/api/brain/health")
            assert r.json() == {"status": "ok", "temporal": "up", "database": "up", "redis": "up"}
            api = Api(http, brain, settings, app.state.brain)
            r = await http.get("/api/brain/workflows", headers=api.auth("viewer"))
            assert r.status_code == 200
    assert app.state.brain.owned


def test_the_app_refuses_the_built_in_jwt_secret() -> None:
    # Anyone can mint tokens with it: only `brain up` (one machine) may run with it.
    with pytest.raises(InsecureSettings, match="BRAIN_JWT_SECRET"):
        create_app(Settings(jwt_secret=DEV_JWT_SECRET, allow_dev_secret=False, _env_file=None))
    allowed = create_app(Settings(jwt_secret=DEV_JWT_SECRET, allow_dev_secret=True, _env_file=None))
    assert allowed.state.settings.uses_dev_jwt_secret


async def test_the_spec_tour(api: Api) -> None:
    """SPEC "done means": start as an operator, see it in the inbox, approve as an approver
    of the same tenant, read it back completed with the audit naming that subject."""
    started = await api.start("lead_scoring")
    wid = started["workflow_id"]

    async def in_inbox() -> bool:
        r = await api.http.get("/approvals", headers=api.auth("viewer"))
        return wid in [a["workflow_id"] for a in r.json()["items"]]

    await eventually(in_inbox, within=1.0)
    stranger = await api.http.post(
        f"/workflows/{wid}/approve", headers=api.auth("approver", new_tenant())
    )
    assert stranger.status_code == 404
    approved = await api.http.post(
        f"/workflows/{wid}/approve", headers=api.auth("approver", sub="ann")
    )  # no body at all: an empty decision payload
    assert approved.status_code == 200, approved.text
    run = await api.wait_state(wid, "completed")
    assert run["decision"]["actor"] == "ann"
    audit = await api.http.get("/audit", params={"workflow_id": wid}, headers=api.auth("viewer"))
    assert [e["actor"] for e in audit.json()["items"]] == ["ann"]
