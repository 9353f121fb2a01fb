"""The orchestrator's probes beside /health: live asks nothing, ready asks Temporal, the
database and the task queue (README, Production)."""

from temporalio.client import Client

from core.settings import Settings
from store.db import make_engine, make_sessionmaker
from tests.api.conftest import close_api, open_api
from tests.api.support import Api
from tests.support import Brain


async def test_live_and_ready_when_all_is_up(api: Api) -> None:
    live = await api.http.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await api.http.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready", "temporal": "up", "database": "up", "task_queue": "up"
    }  # fmt: skip


async def test_ready_is_503_naming_what_is_down_and_live_stays_200(
    brain: Brain, settings: Settings
) -> None:
    dead_db = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nope")
    nowhere = await Client.connect("127.0.0.1:1", lazy=True)
    no_db = await open_api(brain, settings, engine=dead_db, sessions=make_sessionmaker(dead_db))
    no_temporal = await open_api(brain, settings, client=nowhere)
    try:
        r = await no_db.http.get("/health/ready")
        assert r.status_code == 503
        assert r.json() == {
            "status": "not_ready", "temporal": "up", "database": "down", "task_queue": "up"
        }  # fmt: skip
        r = await no_temporal.http.get("/health/ready")
        assert r.status_code == 503
        assert r.json() == {
            "status": "not_ready", "temporal": "down", "database": "up", "task_queue": "down"
        }  # fmt: skip
        # A restart cures no outage: liveness does not depend on them.
        for down in (no_db, no_temporal):
            assert (await down.http.get("/health/live")).status_code == 200
    finally:
        await close_api(no_db)
        await close_api(no_temporal)
        await dead_db.dispose()
