"""When Temporal cannot confirm: no worker (503), too many updates in flight (429); cancel."""

import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest_asyncio
from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowUpdateInput
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from tests.api.conftest import close_api, open_api
from tests.api.support import Api
from tests.support import Brain, eventually


@pytest_asyncio.fixture
async def idle_api(brain: Brain, settings: Settings) -> AsyncIterator[Api]:
    """The API on a task queue that no worker polls, with a short confirm timeout."""
    opened = await open_api(
        brain, settings, task_queue=f"nobody-{uuid.uuid4().hex[:8]}", confirm_timeout=1.0
    )
    try:
        yield opened
    finally:
        await close_api(opened)


async def test_no_worker_confirming_is_503_with_retry_after(idle_api: Api) -> None:
    started = await idle_api.start()
    wid = started["workflow_id"]
    try:
        for _ in range(2):  # the retry is safe: same update id, still not confirmed
            r = await idle_api.decide(wid, sub="alice")
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "NotConfirmed" and int(r.headers["Retry-After"]) >= 1
    finally:
        await idle_api.brain.client.get_workflow_handle(wid).terminate("test over")


class _Exhausted(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        class Outbound(OutboundInterceptor):
            async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> Any:
                raise RPCError(
                    "limit on number of concurrent in-flight updates has been reached",
                    RPCStatusCode.RESOURCE_EXHAUSTED,
                    b"",
                )

        return Outbound(next)


async def test_in_flight_update_limit_is_429(api: Api, brain: Brain, settings: Settings) -> None:
    wid = (await api.parked())["workflow_id"]
    # The frontend's answer when a run has too many updates in flight, injected at the
    # client: the dev server does not reach its limit while requests time out.
    limited = Client(
        brain.client.service_client,
        namespace=brain.client.namespace,
        data_converter=pydantic_data_converter,
        interceptors=[_Exhausted()],
    )
    crowded = await open_api(brain, settings, client=limited)
    try:
        r = await crowded.decide(wid)
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "RateLimited" and r.headers["Retry-After"]
    finally:
        await close_api(crowded)
    assert (await api.decide(wid)).status_code == 200


async def test_cancel_a_parked_run(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    r = await api.http.post(f"/workflows/{wid}/cancel", headers=api.auth("operator", sub="olga"))
    assert r.status_code == 202, r.text
    assert r.json()["cancel_requested_by"] == "olga"
    run = await api.wait_state(wid, "canceled")
    assert run["cancel_requested_by"] == "olga" and run["cancel_requested_at"]
    again = await api.http.post(f"/workflows/{wid}/cancel", headers=api.auth("operator"))
    assert again.status_code == 409 and again.json()["error"] == "NotCancelable"
    decided = await api.decide(wid)
    assert decided.status_code == 409

    # The cancel is audited, and the audit log lists it.
    async def audited() -> list[dict[str, Any]]:
        r = await api.http.get("/audit", params={"workflow_id": wid}, headers=api.auth("viewer"))
        assert r.status_code == 200, r.text
        return cast(list[dict[str, Any]], r.json()["items"])

    (entry,) = await eventually(audited)
    assert (entry["decision"], entry["actor"], entry["channel"]) == ("cancel", "olga", "api")


async def test_cancel_after_apply_is_409(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    assert (await api.decide(wid)).status_code == 200
    await api.wait_state(wid, "completed")
    r = await api.http.post(f"/workflows/{wid}/cancel", headers=api.auth("operator"))
    assert r.status_code == 409 and r.json()["error"] == "NotCancelable"
