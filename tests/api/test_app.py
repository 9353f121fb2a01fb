"""The app as `brain api` runs it: the lifespan builds its own clients; the SPEC's tour."""

import httpx
import pytest
from pydantic import SecretStr

from api.app import InsecureSettings, create_app
from core.settings import DEV_JWT_SECRET, Settings
from temporal.door import derive_key
from temporal.door_key import door_key
from tests.api.conftest import REDIS_URL
from tests.api.support import SECRET, Api, new_tenant
from tests.support import Brain, eventually


async def test_the_lifespan_builds_and_closes_its_clients(brain: Brain) -> None:
    settings = Settings(
        temporal_address=brain.client.service_client.config.target_host,
        database_url=brain.db.url,
        redis_url=REDIS_URL,
        task_queue=brain.task_queue,
        jwt_secret=SecretStr(SECRET),
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
        create_app(
            Settings(jwt_secret=SecretStr(DEV_JWT_SECRET), allow_dev_secret=False, _env_file=None)
        )
    allowed = create_app(
        Settings(jwt_secret=SecretStr(DEV_JWT_SECRET), allow_dev_secret=True, _env_file=None)
    )
    assert allowed.state.settings.uses_dev_jwt_secret


def test_the_door_key_comes_from_its_own_setting_or_the_jwt_secret() -> None:
    # HS256 off: the built-in secret mints nothing the API accepts, but it is no door key.
    hs256_off = Settings(
        jwt_secret=SecretStr(DEV_JWT_SECRET), jwt_hs256_enabled=False, _env_file=None
    )
    with pytest.raises(InsecureSettings, match="BRAIN_DOOR_KEY"):
        create_app(hs256_off)
    with pytest.raises(InsecureSettings, match="BRAIN_DOOR_KEY"):
        create_app(hs256_off.model_copy(update={"door_key": SecretStr("too-short")}))
    own = "door-key-" + "0123456789abcdef" * 2
    started = create_app(hs256_off.model_copy(update={"door_key": SecretStr(own)}))
    assert started.state.verifier.oidc is None
    # Unset, it is derived from the JWT secret as it always was: existing deployments keep
    # their key; set to that same secret, it is the same key (rotate the JWT secret alone).
    assert door_key(Settings(jwt_secret=SecretStr(SECRET), _env_file=None)) == derive_key(SECRET)
    own_key = Settings(jwt_secret=SecretStr(own), door_key=SecretStr(SECRET), _env_file=None)
    assert door_key(own_key) == derive_key(SECRET)


def test_oidc_settings_must_name_issuer_and_audience() -> None:
    base = Settings(jwt_secret=SecretStr(SECRET), _env_file=None)
    for update, missing in (
        ({"oidc_issuer": "https://idp.example"}, "BRAIN_OIDC_AUDIENCE"),
        ({"oidc_jwks_url": "https://idp.example/keys", "oidc_audience": "b"}, "BRAIN_OIDC_ISSUER"),
        ({"oidc_issuer": "http://idp.example", "oidc_audience": "brain"}, "https"),
    ):
        with pytest.raises(InsecureSettings, match=missing):
            create_app(base.model_copy(update=update))


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
