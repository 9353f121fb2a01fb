"""The API (a ``brain api`` process) SIGKILLed in the middle of approvals (issue 10): once it
is back, the same requests retried each get the first outcome (the same decision, never a
second), and the runs the first requests never reached are decided by the retry."""

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import mint_token
from processes.lead_scoring import LeadRow
from tests.cli.conftest import BRAIN, clean_env
from tests.cli.procs import free_ports
from tests.support import SECRET, Brain, eventually, parked

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

RUNS = 10
IN_FLIGHT = 3
ANSWERED_BEFORE_THE_KILL = 4


async def _spawn_api(brain: Brain, port: int, log: Path) -> asyncio.subprocess.Process:
    env = clean_env(
        temporal_address=brain.client.service_client.config.target_host,
        database_url=brain.db.url, task_queue=brain.task_queue, home=str(log.parent),
        jwt_secret=SECRET, redis_url="",
    )  # fmt: skip
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            str(BRAIN), "api", "--port", str(port),
            env=env, cwd=str(log.parent), stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


async def _healthy(http: httpx.AsyncClient) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return (await http.get("/health")).status_code == 200
    return False


def _approve(http: httpx.AsyncClient, brain: Brain, workflow_id: str, who: str) -> Any:
    token = mint_token(who, brain.tenant, "approver", 600, SECRET)
    return http.post(
        f"/workflows/{workflow_id}/approve",
        json={"comment": f"ok from {who}"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


async def test_approvals_retried_after_the_api_was_killed_get_the_first_outcome(
    brain: Brain, tmp_path: Path
) -> None:
    handles = [await brain.start() for _ in range(RUNS)]
    for handle in handles:
        await parked(handle)
    approvers = {h.id: f"approver{n}" for n, h in enumerate(handles)}
    (port,) = free_ports(1)
    log = tmp_path / "api.log"
    api = await _spawn_api(brain, port, log)
    first: dict[str, httpx.Response] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/brain") as http:
            await eventually(lambda: _healthy(http), within=60)
            # A few approvals at a time; the API dies once some are answered, others are
            # in flight, and the rest were never sent.
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def send(workflow_id: str) -> None:
                async with gate:
                    if api.returncode is not None:
                        return
                    with contextlib.suppress(httpx.TransportError):
                        r = await _approve(http, brain, workflow_id, approvers[workflow_id])
                        first[workflow_id] = r

            sending = [asyncio.create_task(send(h.id)) for h in handles]
            await eventually(_count(first, ANSWERED_BEFORE_THE_KILL), within=60)
            api.send_signal(signal.SIGKILL)
            await api.wait()
            await asyncio.gather(*sending)
        assert all(r.status_code == 200 for r in first.values()), [r.text for r in first.values()]
        assert ANSWERED_BEFORE_THE_KILL <= len(first) < RUNS

        api = await _spawn_api(brain, port, log)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/brain") as http:
            await eventually(lambda: _healthy(http), within=60)
            for handle in handles:
                retried = await _approve(http, brain, handle.id, approvers[handle.id])
                assert retried.status_code == 200, (handle.id, retried.text)
                decision = retried.json()
                assert (decision["actor"], decision["action"]) == (approvers[handle.id], "approve")
                if handle.id in first:
                    assert decision == first[handle.id].json()
    except BaseException as err:
        raise AssertionError(f"{err!r}; the API's log:\n" + log.read_text()[-3000:]) from err
    finally:
        if api.returncode is None:
            api.send_signal(signal.SIGKILL)
            await api.wait()

    for handle in handles:
        result = await asyncio.wait_for(handle.result(), 30)
        assert result.decision is not None and result.decision.actor == approvers[handle.id]
        [audit] = await brain.audit(handle.id)
        assert (audit.actor, audit.decision, audit.channel) == (
            approvers[handle.id],
            "approve",
            "api",
        )
        assert len(await brain.rows(LeadRow, handle.id)) == 1


def _count(answers: dict[str, httpx.Response], n: int) -> Any:
    async def check() -> bool:
        return len(answers) >= n

    return check
