"""Reads of the tables the gate keeps current (runs, decisions): no worker needed, no
visibility lag. Filters arrive already parsed into enums; nothing is pasted into SQL."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api import paging
from models.processes import Process, RunState
from models.tables import DecisionRow, RunRow, utcnow
from store.db import single_statement
from store.sql import rowcount

Sessions = async_sessionmaker[AsyncSession]
CANCELABLE = (RunState.RUNNING.value, RunState.AWAITING_APPROVAL.value)
_Row = TypeVar("_Row", RunRow, DecisionRow)


def utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every timestamp Brain writes is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _ts(raw: Any) -> datetime:
    return utc(datetime.fromisoformat(paging.text(raw)))


async def get_run(sessions: Sessions, workflow_id: str) -> RunRow | None:
    async with sessions() as session:
        await single_statement(session)
        return await session.get(RunRow, workflow_id)


async def list_runs(
    sessions: Sessions,
    tenant: str | None,
    *,
    process: Process | None,
    state: RunState | None,
    page_size: int,
    page_token: str | None,
) -> tuple[list[RunRow], str | None]:
    """Newest first, keyed by (created_at, workflow_id); ``tenant=None``: every tenant."""
    stmt = select(RunRow)
    if tenant is not None:
        stmt = stmt.where(col(RunRow.tenant) == tenant)
    if process is not None:
        stmt = stmt.where(col(RunRow.process) == process.value)
    if state is not None:
        stmt = stmt.where(col(RunRow.state) == state.value)
    key = paging.decode(page_token, _ts, paging.text)
    if key is not None:
        created, wid = key
        stmt = stmt.where(
            or_(
                col(RunRow.created_at) < created,
                and_(col(RunRow.created_at) == created, col(RunRow.workflow_id) < wid),
            )
        )
    stmt = stmt.order_by(col(RunRow.created_at).desc(), col(RunRow.workflow_id).desc())
    rows = await _page(sessions, stmt, page_size)
    return _next(rows, page_size, lambda r: [utc(r.created_at).isoformat(), r.workflow_id])


# ``mine=true`` filters rows after reading them (who may decide is in each row's approval):
# a page reads at most this many rows, then answers with what it found and a token to go on.
_SCAN_LIMIT = 2000


async def list_approvals(
    sessions: Sessions,
    tenant: str | None,
    *,
    process: Process | None,
    page_size: int,
    page_token: str | None,
    keep: Callable[[RunRow], bool] | None = None,
) -> tuple[list[RunRow], str | None]:
    """Pending approvals, oldest first, keyed by (requested_at, workflow_id); ``keep``:
    only rows it accepts (a page may then hold fewer than ``page_size`` and still have a
    next one)."""
    stmt = select(RunRow).where(
        col(RunRow.state) == RunState.AWAITING_APPROVAL.value, col(RunRow.approval).is_not(None)
    )
    if tenant is not None:
        stmt = stmt.where(col(RunRow.tenant) == tenant)
    if process is not None:
        stmt = stmt.where(col(RunRow.process) == process.value)
    key = paging.decode(page_token, _ts, paging.text)
    if key is not None:
        requested, wid = key
        stmt = stmt.where(
            or_(
                col(RunRow.requested_at) > requested,
                and_(col(RunRow.requested_at) == requested, col(RunRow.workflow_id) > wid),
            )
        )
    stmt = stmt.order_by(col(RunRow.requested_at).asc(), col(RunRow.workflow_id).asc())

    def position(r: RunRow) -> list[Any]:
        return [utc(r.requested_at or r.created_at).isoformat(), r.workflow_id]

    if keep is None:
        return _next(await _page(sessions, stmt, page_size), page_size, position)
    scanned = await _page(sessions, stmt, _SCAN_LIMIT)
    kept: list[RunRow] = []
    for row in scanned[:_SCAN_LIMIT]:
        if keep(row):
            kept.append(row)
            if len(kept) > page_size:
                return kept[:page_size], paging.encode(position(kept[page_size - 1]))
        last = row
    if len(scanned) > _SCAN_LIMIT:
        # Read as far as allowed: the caller goes on from the last row read.
        return kept, paging.encode(position(last))
    return kept, None


async def list_audit(
    sessions: Sessions,
    tenant: str | None,
    *,
    workflow_id: str | None,
    process: Process | None,
    page_size: int,
    page_token: str | None,
) -> tuple[list[DecisionRow], str | None]:
    """Newest first, keyed by the row id."""
    stmt = select(DecisionRow)
    if tenant is not None:
        stmt = stmt.where(col(DecisionRow.tenant) == tenant)
    if workflow_id is not None:
        stmt = stmt.where(col(DecisionRow.workflow_id) == workflow_id)
    if process is not None:
        stmt = stmt.where(col(DecisionRow.process) == process.value)
    key = paging.decode(page_token, paging.integer)
    if key is not None:
        stmt = stmt.where(col(DecisionRow.id) < key[0])
    stmt = stmt.order_by(col(DecisionRow.id).desc())
    rows = await _page(sessions, stmt, page_size)
    return _next(rows, page_size, lambda r: [r.id])


async def mark_cancel_requested(sessions: Sessions, workflow_id: str, by: str | None) -> bool:
    """Record who asked to cancel, only while the run has not applied; ``by=None`` undoes."""
    stmt = update(RunRow).where(col(RunRow.workflow_id) == workflow_id)
    if by is not None:
        stmt = stmt.where(col(RunRow.state).in_(CANCELABLE))
    stmt = stmt.values(
        cancel_requested_by=by, cancel_requested_at=utcnow() if by else None, updated_at=utcnow()
    )
    async with sessions.begin() as session:
        result = await session.execute(stmt)
    return bool(rowcount(result))


async def _page(sessions: Sessions, stmt: Select[_Row], page_size: int) -> list[_Row]:
    async with sessions() as session:
        await single_statement(session)
        # One extra row tells whether another page exists.
        return list((await session.execute(stmt.limit(page_size + 1))).scalars())


def _next(
    rows: list[_Row], page_size: int, key: Callable[[_Row], list[Any]]
) -> tuple[list[_Row], str | None]:
    if len(rows) <= page_size:
        return rows, None
    rows = rows[:page_size]
    return rows, paging.encode(key(rows[-1]))
