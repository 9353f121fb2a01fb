"""Webhook subscriptions and deliveries in the app database. Every tenant-facing read takes
the tenant; only the delivery activity reads a subscription by id alone (it was handed the
id by the publisher, which matched it on the tenant)."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from models.events import Event
from models.tables import utcnow
from models.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from models.webhooks import DeliveryState
from store.db import single_statement
from store.sql import insert, rowcount

_SUB = WebhookSubscriptionRow
_DEL = WebhookDeliveryRow


class WebhookStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- subscriptions ----------------------------------------------------------------

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
        """Its deliveries go too; one still retrying finds no subscription and stops."""
        async with self._sessions.begin() as session:
            gone = await session.execute(
                delete(_SUB).where(col(_SUB.id) == subscription_id, col(_SUB.tenant) == tenant)
            )
            if not rowcount(gone):
                return False
            await session.execute(delete(_DEL).where(col(_DEL.subscription_id) == subscription_id))
        return True

    async def enabled(self, tenant: str) -> list[tuple[str, list[str], str | None]]:
        """``(id, events, process)`` of the tenant's enabled subscriptions: one indexed query
        (tenant, enabled); the few rows a tenant has are filtered by the caller, which keeps
        the JSON ``events`` column portable between SQLite and PostgreSQL."""
        stmt = select(col(_SUB.id), col(_SUB.events), col(_SUB.process)).where(
            col(_SUB.tenant) == tenant,
            col(_SUB.enabled) == True,  # noqa: E712  (SQL, not Python)
        )
        async with self._sessions() as session:
            await single_statement(session)
            rows = (await session.execute(stmt)).all()
        return [(sub_id, list(events), sub_process) for sub_id, events, sub_process in rows]

    async def subscribed_tenants(self, event_type: str) -> list[str]:
        """Tenants with an enabled subscription to ``event_type``: who hears of a change
        that concerns every tenant (a global policy)."""
        stmt = select(col(_SUB.tenant), col(_SUB.events)).where(col(_SUB.enabled) == True)  # noqa: E712
        async with self._sessions() as session:
            rows = (await session.execute(stmt)).all()
        return sorted({tenant for tenant, events in rows if event_type in events})

    async def secret_and_target(self, subscription_id: str) -> WebhookSubscriptionRow | None:
        """The whole row, secret included: for the delivery activity only."""
        async with self._sessions() as session:
            await single_statement(session)
            return await session.get(_SUB, subscription_id)

    async def disable(self, subscription_id: str, reason: str) -> None:
        stmt = (
            update(_SUB)
            .where(col(_SUB.id) == subscription_id)
            .values(enabled=False, disabled_reason=reason[:500])
        )
        async with self._sessions.begin() as session:
            await session.execute(stmt)

    # --- deliveries -------------------------------------------------------------------

    async def add_pending(self, event: Event, subscription_ids: list[str]) -> None:
        """A pending row per subscription; one already there (a re-publish) stays as it is."""
        if not subscription_ids:
            return
        now = utcnow()
        values = [
            {
                "subscription_id": sub_id,
                "tenant": event.tenant,
                "event_id": event.id,
                "event_type": event.type.value,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for sub_id in subscription_ids
        ]
        async with self._sessions.begin() as session:
            # The rows as parameters, not in the statement: a multi-row VALUES has no cache
            # key, so SQLAlchemy compiled the statement again for every event published.
            stmt = insert(session, _DEL).on_conflict_do_nothing()
            await session.execute(stmt, values)

    async def record(
        self,
        subscription_id: str,
        event: Event,
        *,
        state: DeliveryState,
        attempts: int | None = None,
        status: int | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """The outcome of an attempt (or the end of the delivery). An upsert: the row exists
        unless the publisher's write was lost, and then this one restores it."""
        now = utcnow()
        changes: dict[str, Any] = {
            "state": state.value,
            "last_error": error[:500] if error else None,
            "next_attempt_at": next_attempt_at,
            "updated_at": now,
        }
        if attempts is not None:
            changes |= {"attempts": attempts, "last_status": status}
        if state is DeliveryState.DELIVERED:
            changes["delivered_at"] = now
        async with self._sessions.begin() as session:
            stmt = insert(session, _DEL).values(
                subscription_id=subscription_id,
                tenant=event.tenant,
                event_id=event.id,
                event_type=event.type.value,
                created_at=now,
                **{"attempts": 0, **changes},
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["subscription_id", "event_id"], set_=changes
            )
            await session.execute(stmt)

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
