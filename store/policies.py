"""Policies (SPEC §2): a global ``*`` row per process, tenant rows that override only what they
set, every change versioned and audited in the same transaction. A process with no global
row yet (one just added) runs on its definition's default policy; the first change to it
writes that row."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from models.hitl import GLOBAL_TENANT, Policy, PolicyChange, PolicyFields
from models.processes import Process
from models.tables import PolicyChangeRow, PolicyRow, utcnow
from store.db import single_statement, sqlite_immediate
from store.sql import insert

log = logging.getLogger(__name__)

_FIELDS = tuple(PolicyFields.model_fields)
# Stored as 0, read as None: "off" set explicitly, where NULL would inherit the global row.
_OFF_WHEN_ZERO = ("remind_every_seconds", "escalate_after_seconds")
_T = TypeVar("_T")


class PolicyCache(Protocol):
    async def get(self, key: str) -> Policy | None: ...
    async def set(self, key: str, policy: Policy) -> None: ...
    async def invalidate(self, process: Process) -> None: ...


# What ``PolicyStore.set`` calls inside its transaction, with the change it is writing.
PolicyWritten = Callable[[AsyncSession, PolicyChange], Awaitable[Any]]


def cache_key(process: Process, tenant: str) -> str:
    return f"brain:policy:{process.value}:{tenant}"


class PolicyStore:
    """On SQLite the engine must come from ``store.db.make_engine`` (it implements the
    ``BEGIN IMMEDIATE`` that keeps concurrent ``set`` calls from sharing a version)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], cache: PolicyCache | None = None
    ) -> None:
        self._sessions = sessionmaker
        self._cache = cache

    async def effective(
        self,
        process: Process,
        tenant: str,
        *,
        min_version: int = 0,
        session: AsyncSession | None = None,
    ) -> Policy:
        """``min_version``: bypass a cached value older than a version the caller has seen
        (a reader racing a writer can re-cache the old policy for up to the cache's TTL).
        ``session``: read in the caller's transaction (one BEGIN and COMMIT for the read and
        what the caller writes next) instead of a statement of its own."""
        process = Process(process)
        key = cache_key(process, tenant)
        cached = await self._cache_call("get", lambda c: c.get(key))
        if cached is not None and cached.version >= min_version:
            return cached
        if session is not None:
            policy = await self._effective(session, process, tenant)
        else:
            async with self._sessions() as own:
                await single_statement(own)
                policy = await self._effective(own, process, tenant)
        await self._cache_call("set", lambda c: c.set(key, policy))
        return policy

    async def effective_all(self, tenant: str) -> list[Policy]:
        async with self._sessions() as session:
            result = await session.execute(
                select(PolicyRow).where(col(PolicyRow.tenant).in_([GLOBAL_TENANT, tenant]))
            )
            rows = {(r.process, r.tenant): r for r in result.scalars()}
        return [
            _merge(
                p,
                tenant,
                rows.get((p.value, GLOBAL_TENANT)) or _default_row(p),
                rows.get((p.value, tenant)),
            )
            for p in Process
        ]

    async def set(
        self,
        process: Process,
        tenant: str,
        *,
        changed_by: str,
        then: PolicyWritten | None = None,
        **fields: Any,
    ) -> Policy:
        """Change the given fields (``PolicyFields``; a ``None`` value means "not given",
        except for the reminder and escalation periods, where ``off`` turns them off).
        Raises ``ValueError`` (a pydantic ``ValidationError`` naming the field) when a value
        is invalid or nothing is given. ``then``: called with the session and the change
        before the commit, to write what must commit with it (the ``policy.changed``
        event's outbox rows)."""
        process = Process(process)
        given = _validate(tenant, changed_by, fields)
        async with self._sessions() as session, session.begin():
            # SQLite: take the write lock at BEGIN, so the version read below stays current.
            await session.connection(execution_options=sqlite_immediate)
            # PostgreSQL: every writer of this process queues on its global row, so the
            # max(version) read below cannot be stale. (FOR UPDATE is a no-op on SQLite.)
            glob = await _global_row(session, process)
            top = await session.scalar(
                select(func.max(PolicyRow.version)).where(col(PolicyRow.process) == process.value)
            )
            version = (top or 0) + 1
            row = glob if tenant == GLOBAL_TENANT else await _row(session, process, tenant)
            if row is None:
                row = PolicyRow(process=process.value, tenant=tenant)
                session.add(row)
            old = {f: getattr(row, f) for f in given}
            for f, v in given.items():
                setattr(row, f, v)
            row.version, row.updated_by, row.updated_at = version, changed_by, utcnow()
            session.add(
                PolicyChangeRow(
                    process=process.value,
                    tenant=tenant,
                    version=version,
                    changed_by=changed_by,
                    changed_at=row.updated_at,
                    old=old,
                    new=dict(given),
                )
            )
            await session.flush()
            policy = _merge(process, tenant, glob, None if row is glob else row)
            if then is not None:
                change = PolicyChange(
                    process=process, tenant=tenant, version=version, changed_by=changed_by
                )
                await then(session, change)
        # After commit: invalidating earlier would let a reader re-cache the old row.
        await self._cache_call("invalidate", lambda c: c.invalidate(process))
        return policy

    async def rows(self, tenant: str | None = None) -> list[PolicyRow]:
        """Stored rows; a process without a global row yet shows its default one."""
        stmt = select(PolicyRow).order_by(PolicyRow.process, PolicyRow.tenant)
        if tenant is not None:
            stmt = stmt.where(col(PolicyRow.tenant) == tenant)
        async with self._sessions() as session:
            found = list((await session.execute(stmt)).scalars())
        if tenant in (None, GLOBAL_TENANT):
            stored = {r.process for r in found if r.tenant == GLOBAL_TENANT}
            found += [_default_row(p) for p in Process if p.value not in stored]
            found.sort(key=lambda r: (r.process, r.tenant))
        return found

    async def changes(
        self,
        process: Process | None = None,
        limit: int = 100,
        *,
        tenant: str | Sequence[str] | None = None,
        before_id: int | None = None,
    ) -> list[PolicyChangeRow]:
        """Newest first; ``tenant``: one tenant's rows, or any of several; ``before_id``
        pages on."""
        stmt = select(PolicyChangeRow).order_by(col(PolicyChangeRow.id).desc()).limit(limit)
        if process is not None:
            stmt = stmt.where(col(PolicyChangeRow.process) == Process(process).value)
        if isinstance(tenant, str):
            stmt = stmt.where(col(PolicyChangeRow.tenant) == tenant)
        elif tenant is not None:
            stmt = stmt.where(col(PolicyChangeRow.tenant).in_(list(tenant)))
        if before_id is not None:
            stmt = stmt.where(col(PolicyChangeRow.id) < before_id)
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def effective_in(self, session: AsyncSession, process: Process, tenant: str) -> Policy:
        """The effective policy as ``session`` sees it, never from the cache (inside a write,
        the cache may hold what the write replaces)."""
        return await self._effective(session, process, tenant)

    async def _effective(self, session: AsyncSession, process: Process, tenant: str) -> Policy:
        result = await session.execute(
            select(PolicyRow).where(
                col(PolicyRow.process) == process.value,
                col(PolicyRow.tenant).in_([GLOBAL_TENANT, tenant]),
            )
        )
        rows = {r.tenant: r for r in result.scalars()}
        glob = rows.get(GLOBAL_TENANT) or _default_row(process)
        return _merge(process, tenant, glob, rows.get(tenant))

    async def _cache_call(
        self, method: str, call: Callable[[PolicyCache], Awaitable[_T]]
    ) -> _T | None:
        # A cache is an optimisation: whatever it does, the database stays the answer.
        if self._cache is None:
            return None
        try:
            return await call(self._cache)
        except Exception:
            log.warning("policy cache %s failed", method, exc_info=True)
            return None


async def _row(
    session: AsyncSession, process: Process, tenant: str, *, lock: bool = False
) -> PolicyRow | None:
    stmt = select(PolicyRow).where(
        col(PolicyRow.process) == process.value, col(PolicyRow.tenant) == tenant
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def _global_row(session: AsyncSession, process: Process) -> PolicyRow:
    """The process's global row, locked; written from the definition's default when a
    process has none yet (two writers racing to create it both end up locking one)."""
    row = await _row(session, process, GLOBAL_TENANT, lock=True)
    if row is not None:
        return row
    default = _default_row(process)
    values = {f: getattr(default, f) for f in ("process", "tenant", *_FIELDS, "version")}
    stmt = insert(session, PolicyRow).values(updated_by="system", **values)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["process", "tenant"]))
    row = await _row(session, process, GLOBAL_TENANT, lock=True)
    assert row is not None
    return row


def _default_row(process: Process) -> PolicyRow:
    default = Process(process).definition.default_policy
    return PolicyRow(
        process=Process(process).value,
        tenant=GLOBAL_TENANT,
        hitl_enabled=default.hitl_enabled,
        confidence_threshold=default.confidence_threshold,
        version=0,
        updated_by="system",
    )


def _merge(process: Process, tenant: str, glob: PolicyRow, own: PolicyRow | None) -> Policy:
    values: dict[str, Any] = {f: getattr(glob, f) for f in _FIELDS}
    version = glob.version
    if own is not None and own is not glob:
        values.update({f: getattr(own, f) for f in _FIELDS if getattr(own, f) is not None})
        version = max(version, own.version)
    for f in _OFF_WHEN_ZERO:
        if values.get(f) == 0:
            values[f] = None
    # A NULL in the global row means "the model's default" (e.g. timeout 86400).
    values = {f: v for f, v in values.items() if v is not None}
    return Policy(process=process, tenant=tenant, version=version, **values)


def _validate(tenant: str, changed_by: str, fields: dict[str, Any]) -> dict[str, Any]:
    if not tenant or len(tenant) > 128:
        raise ValueError("tenant must be 1..128 characters")
    if not changed_by or len(changed_by) > 200:
        raise ValueError("changed_by must be 1..200 characters")
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        raise ValueError(f"unknown policy fields: {unknown}")
    given = {f: v for f, v in fields.items() if v is not None}
    for f in _OFF_WHEN_ZERO:
        if given.get(f) == "off":
            given[f] = 0
    if not given:
        raise ValueError("nothing to change: give at least one policy field")
    return PolicyFields.model_validate(given).model_dump(include=set(given))
