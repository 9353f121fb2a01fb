"""Webhook subscriptions, and the deliveries a tenant's admin reads, in the app database.
Every tenant-facing read takes the tenant; the outbox and the deliverer read subscriptions
by tenant or by id in the scope they run in (``outbox.py``, ``claims.py``)."""

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from models.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from store.sql import rowcount

_SUB = WebhookSubscriptionRow
_DEL = WebhookDeliveryRow

# ``(id, events, process)`` of an enabled subscription: what matching an event needs.
Match = tuple[str, list[str], str | None]


class WebhookStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, row: WebhookSubscriptionRow) -> WebhookSubscriptionRow:
        async with self._sessions.begin() as session:
            session.add(row)
        return row

    async def for_tenant(self, tenant: str) -> list[WebhookSubscriptionRow]:
        stmt = (
            select(_SUB)
            .where(col(_SUB.tenant) == tenant)
            .order_by(col(_SUB.created_at), col(_SUB.id))
        )
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def get(self, tenant: str, subscription_id: str) -> WebhookSubscriptionRow | None:
        async with self._sessions() as session:
            row = await session.get(_SUB, subscription_id)
        return row if row is not None and row.tenant == tenant else None

    async def remove(self, tenant: str, subscription_id: str) -> bool:
        """Its deliveries go too: the deliverer finds nothing more to send for it (and drops
        a row an outbox wrote from a list it had read just before)."""
        async with self._sessions.begin() as session:
            gone = await session.execute(
                delete(_SUB).where(col(_SUB.id) == subscription_id, col(_SUB.tenant) == tenant)
            )
            if not rowcount(gone):
                return False
            await session.execute(delete(_DEL).where(col(_DEL.subscription_id) == subscription_id))
        return True

    async def deliveries(
        self, tenant: str, subscription_id: str, limit: int = 50
    ) -> list[WebhookDeliveryRow]:
        """Newest first."""
        stmt = (
            select(_DEL)
            .where(col(_DEL.subscription_id) == subscription_id, col(_DEL.tenant) == tenant)
            .order_by(col(_DEL.created_at).desc(), col(_DEL.id).desc())
            .limit(limit)
        )
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())


async def enabled_matches(session: AsyncSession, tenants: Sequence[str]) -> dict[str, list[Match]]:
    """The enabled subscriptions of ``tenants``, by tenant: one indexed query (tenant,
    enabled). The few rows a tenant has are filtered by the caller, which keeps the JSON
    ``events`` column portable between SQLite and PostgreSQL."""
    stmt = select(col(_SUB.tenant), col(_SUB.id), col(_SUB.events), col(_SUB.process)).where(
        col(_SUB.tenant).in_(list(tenants)),
        col(_SUB.enabled) == True,  # noqa: E712  (SQL, not Python)
    )
    found: dict[str, list[Match]] = {t: [] for t in tenants}
    for tenant, sub_id, events, process in (await session.execute(stmt)).all():
        found[tenant].append((sub_id, list(events), process))
    return found


async def subscribed_tenants(session: AsyncSession, event_type: str) -> list[str]:
    """Tenants with an enabled subscription to ``event_type``: who hears of a change that
    concerns every tenant (a global policy). Reads across tenants: the caller's scope must
    be ``ALL_TENANTS``."""
    stmt = select(col(_SUB.tenant), col(_SUB.events)).where(col(_SUB.enabled) == True)  # noqa: E712
    rows = (await session.execute(stmt)).all()
    return sorted({tenant for tenant, events in rows if event_type in events})


async def subscriptions_by_id(
    session: AsyncSession, ids: Sequence[str]
) -> dict[str, WebhookSubscriptionRow]:
    """Whole rows, secrets included: for the deliverer only."""
    stmt = select(_SUB).where(col(_SUB.id).in_(list(ids)))
    return {row.id: row for row in (await session.execute(stmt)).scalars()}


async def disable(session: AsyncSession, subscription_id: str, reason: str) -> None:
    stmt = (
        update(_SUB)
        .where(col(_SUB.id) == subscription_id)
        .values(enabled=False, disabled_reason=reason[:500])
    )
    await session.execute(stmt)
