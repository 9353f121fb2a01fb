"""Driving the API in-process: tokens per role, start/park/decide helpers, polling."""

import uuid
from dataclasses import dataclass
from typing import Any, cast

import httpx

from api.auth import mint_token
from api.state import AppState
from core.settings import Settings
from tests.support import LEAD, SECRET, Brain, ai_result, eventually

ROLES = ("viewer", "operator", "approver", "admin", "super_admin")

SOURCING: dict[str, Any] = {
    "product": "M6 bolts",
    "quantity": 1000,
    "max_unit_price": 0.5,
    "suppliers": [
        {
            "name": "Acme",
            "unit_price": 0.3,
            "lead_time_days": 5,
            "rating": 4.5,
            "min_order_qty": 100,
        },
        {
            "name": "Bolt Co",
            "unit_price": 0.25,
            "lead_time_days": 9,
            "rating": 3.9,
            "min_order_qty": 500,
        },
    ],
}
CAMPAIGN: dict[str, Any] = {
    "campaign_id": "spring",
    "total_budget": 1000,
    "channels": [
        {"name": "search", "spend": 400, "clicks": 900, "conversions": 40, "revenue": 4000},
        {"name": "social", "spend": 300, "clicks": 1200, "conversions": 10, "revenue": 600},
    ],
}
CONTENT: dict[str, Any] = {
    "brief": {"topic": "Durable workflows", "audience": "CTOs", "keywords": ["temporal"]}
}
BODIES: dict[str, dict[str, Any]] = {
    "lead_scoring": LEAD,
    "product_sourcing": SOURCING,
    "campaign_tuning": CAMPAIGN,
    "content_generation": CONTENT,
}
PROPOSALS: dict[str, dict[str, Any]] = {
    "lead_scoring": {"score": 82, "tier": "hot", "rationale": "senior title, referral"},
    "product_sourcing": {
        "supplier": "Acme",
        "unit_price": 0.3,
        "total_cost": 300.0,
        "rationale": "best rating",
    },
    "campaign_tuning": {"budgets": {"search": 700, "social": 300}, "rationale": "roas"},
    "content_generation": {"title": "Durable", "body": "Workflows that last.", "rationale": "r"},
}


@dataclass
class Api:
    http: httpx.AsyncClient
    brain: Brain
    settings: Settings
    state: AppState

    @property
    def tenant(self) -> str:
        return self.brain.tenant

    def auth(
        self,
        role: str = "super_admin",
        tenant: str | None = None,
        sub: str | None = None,
        groups: list[str] | None = None,
    ) -> dict[str, str]:
        tenant = tenant or self.tenant
        extra: dict[str, Any] = {"groups": groups} if groups is not None else {}
        token = mint_token(sub or f"{role}@{tenant}", tenant, role, 600, SECRET, **extra)
        return {"Authorization": f"Bearer {token}"}

    def script(self, process: str, confidence: float = 0.95) -> None:
        """The scripted AI answers with a valid proposal for ``process``."""
        self.brain.model.default = ai_result(PROPOSALS[process], confidence=confidence)

    async def start(
        self,
        process: str = "lead_scoring",
        body: dict[str, Any] | None = None,
        tenant: str | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        headers = self.auth("operator", tenant)
        if key:
            headers["Idempotency-Key"] = key
        r = await self.http.post(
            f"/workflows/{process}", json=body or BODIES[process], headers=headers
        )
        assert r.status_code == 201, r.text
        return cast(dict[str, Any], r.json())

    async def get(self, workflow_id: str, tenant: str | None = None) -> dict[str, Any]:
        r = await self.http.get(f"/workflows/{workflow_id}", headers=self.auth("viewer", tenant))
        assert r.status_code == 200, r.text
        return cast(dict[str, Any], r.json())

    async def wait_state(
        self, workflow_id: str, *states: str, tenant: str | None = None, within: float = 10.0
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            run = await self.get(workflow_id, tenant)
            return run if run["state"] in states else None

        return await eventually(check, within)

    async def parked(self, process: str = "lead_scoring", **kw: Any) -> dict[str, Any]:
        started = await self.start(process, **kw)
        return await self.wait_state(
            started["workflow_id"], "awaiting_approval", tenant=kw.get("tenant")
        )

    async def decide(
        self, workflow_id: str, action: str = "approve", role: str = "approver", **body: Any
    ) -> httpx.Response:
        sub, groups = body.pop("sub", None), body.pop("groups", None)
        return await self.http.post(
            f"/workflows/{workflow_id}/{action}",
            json=body,
            headers=self.auth(role, sub=sub, groups=groups),
        )


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"
