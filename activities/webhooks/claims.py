"""The deliverer's side of the outbox: claim due rows, record what their attempts did.

A claim is one statement: the due pending rows of the queue, at most ``per_subscription`` of
each subscription not already being sent to, get their attempt counted and their
``next_attempt_at`` moved to the end of a lease. While the lease runs no other deliverer
takes them; if the claimant dies (a SIGKILLed worker) they fall due again when it ends, and
are sent again with the same ``webhook-id`` (at least once). On PostgreSQL the rows are
locked with ``SKIP LOCKED``, so two deliverers claiming at once split the rows instead of
queueing on each other; SQLite has one writer, which serializes the claims anyway.

Every statement stands alone (autocommit on PostgreSQL: no BEGIN, no COMMIT): each is
atomic, and a crash between two leaves rows that are still correct. The deliverer reads
and writes every tenant's rows: each statement runs in the ``ALL_TENANTS`` scope, opened
here rather than trusted to the caller (a subscription it cannot see is one it drops).
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.webhooks import store
from models.timestamps import as_utc
from models.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from models.webhooks import DeliveryState
from store.db import single_statement
from store.tenancy import ALL_TENANTS, tenant_scope

# Core, not ORM: executemany and RETURNING exactly as written.
_T = cast(Table, WebhookDeliveryRow.__table__)  # type: ignore[attr-defined]
_PENDING = DeliveryState.PENDING.value


@dataclass(frozen=True)
class Claimed:
    id: int
    subscription_id: str
    event_id: str
    payload: dict[str, Any]
    # This attempt's number (counted when claimed, so an attempt cut short counts too).
    attempt: int
    queued_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row."""

    id: int
    state: DeliveryState
    status: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    # Set when the receiver asked to be left alone (410): the subscription is disabled.
    disable: str | None = None


class Claims:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        queue: str,
        *,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._queue = queue
        self.lease = lease
        self._clock = clock

    async def claim(
        self, *, per_subscription: int, limit: int, busy: Collection[str] = ()
    ) -> list[Claimed]:
        now = self._clock()
        due = and_(
            _T.c.queue == self._queue,
            _T.c.state == _PENDING,
            _T.c.next_attempt_at <= now,
        )
        if busy:
            due = and_(due, _T.c.subscription_id.not_in(list(busy)))
        ranked = (
            select(
                _T.c.id,
                _T.c.next_attempt_at,
                func.row_number()
                .over(partition_by=_T.c.subscription_id, order_by=(_T.c.next_attempt_at, _T.c.id))
                .label("n"),
            )
            .where(due)
            .subquery()
        )
        picked = (
            select(ranked.c.id)
            .where(ranked.c.n <= per_subscription)
            .order_by(ranked.c.next_attempt_at)
            .limit(limit)
        )
        # The conditions again where the rows are locked: a row another deliverer claimed
        # after this statement's snapshot is checked anew there (and skipped).
        lockable = select(_T.c.id).where(_T.c.id.in_(picked), due).with_for_update(skip_locked=True)
        stmt = (
            update(_T)
            .where(_T.c.id.in_(lockable.scalar_subquery()), due)
            .values(next_attempt_at=now + self.lease, attempts=_T.c.attempts + 1, updated_at=now)
            .returning(
                _T.c.id,
                _T.c.subscription_id,
                _T.c.event_id,
                _T.c.payload,
                _T.c.attempts,
                _T.c.created_at,
            )
        )
        with tenant_scope(ALL_TENANTS):
            async with self._sessions() as session:
                await single_statement(session)
                rows = (await session.execute(stmt)).all()
                await session.commit()
        return [
            Claimed(row_id, sub_id, event_id, payload, attempt, as_utc(queued_at))
            for row_id, sub_id, event_id, payload, attempt, queued_at in rows
        ]

    async def subscriptions(self, ids: Sequence[str]) -> dict[str, WebhookSubscriptionRow]:
        with tenant_scope(ALL_TENANTS):
            async with self._sessions() as session:
                await single_statement(session)
                return await store.subscriptions_by_id(session, ids)

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Every outcome in one statement. A row no longer pending (delivered by an earlier
        claimant whose lease ran out, say) or gone (its subscription deleted) is left as is."""
        if not outcomes:
            return
        now = self._clock()
        stmt = (
            update(_T)
            .where(_T.c.id == bindparam("o_id"), _T.c.state == _PENDING)
            .values(
                state=bindparam("o_state"),
                last_status=bindparam("o_status"),
                last_error=bindparam("o_error"),
                next_attempt_at=bindparam("o_next"),
                delivered_at=bindparam("o_delivered"),
                updated_at=now,
            )
        )
        params = [
            {
                "o_id": o.id,
                "o_state": o.state.value,
                "o_status": o.status,
                "o_error": o.error[:500] if o.error else None,
                "o_next": o.next_attempt_at,
                "o_delivered": now if o.state is DeliveryState.DELIVERED else None,
            }
            for o in outcomes
        ]
        with tenant_scope(ALL_TENANTS):
            async with self._sessions() as session:
                await single_statement(session)
                await session.execute(stmt, params)
                await session.commit()

    async def release(self, ids: Sequence[int]) -> None:
        """Claims cut short (the worker stops): due again at once, for the next deliverer."""
        if not ids:
            return
        stmt = (
            update(_T)
            .where(_T.c.id.in_(list(ids)), _T.c.state == _PENDING)
            .values(next_attempt_at=self._clock())
        )
        await self._alone(stmt)

    async def drop(self, ids: Sequence[int]) -> None:
        """Rows of a subscription that no longer exists (written from a list read just
        before it was deleted): nobody can list them, nobody wants them."""
        if ids:
            await self._alone(delete(_T).where(_T.c.id.in_(list(ids))))

    async def disable(self, subscription_id: str, reason: str) -> None:
        with tenant_scope(ALL_TENANTS):
            async with self._sessions.begin() as session:
                await store.disable(session, subscription_id, reason)

    async def _alone(self, stmt: Any) -> None:
        with tenant_scope(ALL_TENANTS):
            async with self._sessions() as session:
                await single_statement(session)
                await session.execute(stmt)
                await session.commit()
