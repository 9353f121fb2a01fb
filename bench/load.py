"""The load generator's doors: Brain over REST, the baseline over the bare SDK, the tuned
baseline through the door in its worker's process (bench/tuned_door.py)."""

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client, WorkflowHandle

from api.auth import mint_token
from bench.baseline import TASK_QUEUE, BaselineDecision, BaselineInput, BaselineWorkflow
from bench.rawhttp import RawConnection
from bench.stack import JWT_SECRET
from bench.stats import now
from models.tables import RunRow
from store.tenancy import tenant_scope

LEAD: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "ada@analytical.example",
    "company": "Analytical Engines",
    "title": "VP Engineering",
    "company_size": 250,
    "source": "referral",
    "engagement": {"page_views": 12, "email_opens": 4, "demo_requested": True},
}
_TTL = 6 * 3600


def _token(tenant: str, role: str) -> str:
    return mint_token("bench", tenant, role, _TTL, JWT_SECRET)


class ApiError(RuntimeError):
    pass


@dataclass
class BrainApi:
    """Brain's REST API, as a client application uses it."""

    base_url: str
    http: httpx.AsyncClient = field(init=False)
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    # Idle raw connections per (tenant, role), reused by whichever client is free.
    _raw: dict[tuple[str, str], list[RawConnection]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=120,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
        )

    def auth_headers(self, tenant: str, role: str) -> dict[str, str]:
        key = (tenant, role)
        if key not in self._tokens:
            self._tokens[key] = _token(tenant, role)
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def _call(
        self, method: str, path: str, tenant: str, role: str, **kw: Any
    ) -> tuple[dict[str, Any], float]:
        t0 = now()
        resp = await self.http.request(method, path, headers=self.auth_headers(tenant, role), **kw)
        elapsed = now() - t0
        if resp.status_code >= 300:
            raise ApiError(f"{method} {path}: {resp.status_code} {resp.text[:500]}")
        return resp.json(), elapsed

    async def start(self, tenant: str) -> tuple[str, float]:
        """Over a raw keep-alive connection: the load generator's CPU per start (httpx cost
        about 3 ms) would otherwise be taken from the cores Brain is measured on."""
        key = (tenant, "operator")
        free = self._raw.setdefault(key, [])
        conn = free.pop() if free else RawConnection(self.base_url, self.auth_headers(*key))
        try:
            t0 = now()
            status, body = await conn.post("/workflows/lead_scoring", {"lead": LEAD})
            elapsed = now() - t0
        except BaseException:
            await conn.close()
            raise
        free.append(conn)
        if status >= 300:
            raise ApiError(f"POST /workflows/lead_scoring: {status} {body[:500]!r}")
        return json.loads(body)["workflow_id"], elapsed

    async def approve(self, tenant: str, workflow_id: str) -> float:
        _, elapsed = await self._call(
            "POST", f"/workflows/{workflow_id}/approve", tenant, "approver", json={}
        )
        return elapsed

    async def get(self, tenant: str, workflow_id: str) -> tuple[dict[str, Any], float]:
        return await self._call("GET", f"/workflows/{workflow_id}", tenant, "viewer")

    async def approvals(self, tenant: str) -> tuple[dict[str, Any], float]:
        return await self._call("GET", "/approvals", tenant, "viewer")

    async def set_policy(
        self, tenant: str, *, hitl: bool | None = None, threshold: float | None = None
    ) -> float:
        elapsed = 0.0
        if threshold is not None:
            _, t = await self._call(
                "PUT",
                "/workflows/confidence/lead_scoring",
                "*",
                "super_admin",
                json={"threshold": threshold, "tenant": tenant},
            )
            elapsed += t
        if hitl is not None:
            _, t = await self._call(
                "POST",
                "/workflows/hitl/lead_scoring/toggle",
                "*",
                "super_admin",
                json={"enabled": hitl, "tenant": tenant},
            )
            elapsed += t
        return elapsed

    async def subscribe(self, tenant: str, url: str, events: list[str]) -> str:
        body, _ = await self._call(
            "POST", "/webhooks", tenant, "admin", json={"url": url, "events": events}
        )
        return str(body["id"])

    async def wait_parked(self, tenant: str, workflow_id: str, within: float = 60) -> None:
        deadline = now() + within
        while now() < deadline:
            body, _ = await self.get(tenant, workflow_id)
            if body["state"] == "awaiting_approval":
                return
            await asyncio.sleep(0.02)
        raise ApiError(f"{workflow_id} did not park within {within} s")

    async def aclose(self) -> None:
        await self.http.aclose()
        for conns in self._raw.values():
            for conn in conns:
                await conn.close()


@dataclass
class Baseline:
    """The bare-SDK baseline, driven from the same Temporal client."""

    client: Client

    async def start(self, wait_for_decision: bool = False) -> tuple[WorkflowHandle, float]:
        t0 = now()
        handle = await self.client.start_workflow(
            BaselineWorkflow.run,
            BaselineInput(lead=LEAD, wait_for_decision=wait_for_decision),
            id=f"baseline-{uuid.uuid4().hex}",
            task_queue=TASK_QUEUE,
        )
        return handle, now() - t0

    async def wait_parked(self, handle: WorkflowHandle, within: float = 60) -> None:
        deadline = now() + within
        while now() < deadline:
            if await handle.query(BaselineWorkflow.waiting):
                return
            await asyncio.sleep(0.02)
        raise ApiError(f"{handle.id} did not park within {within} s")

    async def decide_by_update(self, handle: WorkflowHandle) -> None:
        await handle.execute_update(BaselineWorkflow.decide, BaselineDecision())

    async def decide_by_signal(self, handle: WorkflowHandle) -> None:
        await handle.signal(BaselineWorkflow.approve, BaselineDecision())


@dataclass
class TunedBaseline(Baseline):
    """The tuned baseline: started eagerly by its own worker's client, through its door; its
    result, queries and decisions through the load generator's client, as the baseline's."""

    base_url: str = ""
    started: int = 0
    eager: int = 0  # of them, how many the server handed straight to the worker
    _free: list[RawConnection] = field(default_factory=list)

    async def start(self, wait_for_decision: bool = False) -> tuple[WorkflowHandle, float]:
        conn = self._free.pop() if self._free else RawConnection(self.base_url, {})
        body = {"lead": LEAD, "wait_for_decision": wait_for_decision}
        try:
            t0 = now()
            status, answer = await conn.post("/start", body)
            elapsed = now() - t0
        except BaseException:
            await conn.close()
            raise
        self._free.append(conn)
        if status != 200:
            raise ApiError(f"tuned baseline start: {status} {answer[:500]!r}")
        started = json.loads(answer)
        self.started += 1
        self.eager += bool(started["eager"])
        return self.client.get_workflow_handle(started["workflow_id"]), elapsed

    async def aclose(self) -> None:
        for conn in self._free:
            await conn.close()


async def count_runs(sessions: async_sessionmaker[AsyncSession], tenant: str, state: str) -> int:
    stmt = (
        select(func.count())
        .select_from(RunRow)
        .where(col(RunRow.tenant) == tenant, col(RunRow.state) == state)
    )
    # The bench's tenant's rows, as its API would see them (row-level security).
    with tenant_scope(tenant):
        async with sessions() as session:
            return int((await session.execute(stmt)).scalar_one())
