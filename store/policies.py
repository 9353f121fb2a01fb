"""Policies (SPEC §2): a global ``*`` row per process, tenant rows that override only what they
set, every change versioned and audited in the same transaction."""

import logging
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.hitl import GLOBAL_TENANT, Policy
from models.processes import Process
from models.tables import PolicyChangeRow, PolicyRow, utcnow
from store.db import sqlite_immediate

log = logging.getLogger(__name__)

_FIELDS = ("hitl_enabled", "confidence_threshold", "approval_timeout_seconds", "on_timeout")


class PolicyCache(Protocol):
    async def get(self, key: str) -> Policy | None: ...
    async def set(self, key: str, policy: Policy) -> None: ...
    async def invalidate(self, process: Process) -> None: ...


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

    async def effective(self, process: Process, tenant: str, *, min_version: int = 0) -> Policy:
        """``min_version``: bypass a cached value older than a version the caller has seen
        (a reader racing a writer can re-cache the old policy for up to the cache's TTL)."""
        process = Process(process)
        key = cache_key(process, tenant)
        cached = await self._cache_get(key)
        if cached is not None and cached.version >= min_version:
            return cached
        async with self._sessions() as session:
            policy = await self._effective(session, process, tenant)
        await self._cache_call("set", key, policy)
        return policy

    async def effective_all(self, tenant: str) -> list[Policy]:
        async with self._sessions() as session:
            result = await session.execute(
                select(PolicyRow).where(PolicyRow.tenant.in_([GLOBAL_TENANT, tenant]))
            )
            rows = {(r.process, r.tenant): r for r in result.scalars()}
        return [
            _merge(p, tenant, rows[(p.value, GLOBAL_TENANT)], rows.get((p.value, tenant)))
            for p in Process
            if (p.value, GLOBAL_TENANT) in rows
        ]

    async def set(
        self,
        process: Process,
        tenant: str,
        *,
        changed_by: str,
        hitl_enabled: bool | None = None,
        confidence_threshold: float | None = None,
        approval_timeout_seconds: int | None = None,
        on_timeout: str | None = None,
    ) -> Policy:
        process = Process(process)
        given = _validate(
            tenant,
            changed_by,
            hitl_enabled=hitl_enabled,
            confidence_threshold=confidence_threshold,
            approval_timeout_seconds=approval_timeout_seconds,
            on_timeout=on_timeout,
        )
        async with self._sessions() as session, session.begin():
            # SQLite: take the write lock at BEGIN, so the version read below stays current.
            await session.connection(execution_options=sqlite_immediate)
            # PostgreSQL: every writer of this process queues on its global row, so the
            # max(version) read below cannot be stale. (FOR UPDATE is a no-op on SQLite.)
            glob = await _row(session, process, GLOBAL_TENANT, lock=True)
            if glob is None:
                raise KeyError(f"no global policy for {process.value}")
            top = await session.scalar(
                select(func.max(PolicyRow.version)).where(PolicyRow.process == process.value)
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
        # After commit: invalidating earlier would let a reader re-cache the old row.
        await self._cache_call("invalidate", process)
        return policy

    async def rows(self, tenant: str | None = None) -> list[PolicyRow]:
        stmt = select(PolicyRow).order_by(PolicyRow.process, PolicyRow.tenant)
        if tenant is not None:
            stmt = stmt.where(PolicyRow.tenant == tenant)
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def changes(
        self, process: Process | None = None, limit: int = 100
    ) -> list[PolicyChangeRow]:
        """Newest first."""
        stmt = select(PolicyChangeRow).order_by(PolicyChangeRow.id.desc()).limit(limit)
        if process is not None:
            stmt = stmt.where(PolicyChangeRow.process == Process(process).value)
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def _effective(self, session: AsyncSession, process: Process, tenant: str) -> Policy:
        result = await session.execute(
            select(PolicyRow).where(
                PolicyRow.process == process.value,
                PolicyRow.tenant.in_([GLOBAL_TENANT, tenant]),
            )
        )
        rows = {r.tenant: r for r in result.scalars()}
        if GLOBAL_TENANT not in rows:
            raise KeyError(f"no global policy for {process.value}")
        return _merge(process, tenant, rows[GLOBAL_TENANT], rows.get(tenant))

    async def _cache_get(self, key: str) -> Policy | None:
        return await self._cache_call("get", key)

    async def _cache_call(self, method: str, *args: Any) -> Any:
        # A cache is an optimisation: whatever it does, the database stays the answer.
        if self._cache is None:
            return None
        try:
            return await getattr(self._cache, method)(*args)
        except Exception:
            log.warning("policy cache %s failed", method, exc_info=True)
            return None


async def _row(
    session: AsyncSession, process: Process, tenant: str, *, lock: bool = False
) -> PolicyRow | None:
    stmt = select(PolicyRow).where(PolicyRow.process == process.value, PolicyRow.tenant == tenant)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def _merge(process: Process, tenant: str, glob: PolicyRow, own: PolicyRow | None) -> Policy:
    values: dict[str, Any] = {f: getattr(glob, f) for f in _FIELDS}
    version = glob.version
    if own is not None and own is not glob:
        values.update({f: getattr(own, f) for f in _FIELDS if getattr(own, f) is not None})
        version = max(version, own.version)
    # A NULL in the global row means "the model's default" (e.g. timeout 86400).
    values = {f: v for f, v in values.items() if v is not None}
    return Policy(process=process, tenant=tenant, version=version, **values)


def _validate(tenant: str, changed_by: str, **fields: Any) -> dict[str, Any]:
    given = {f: v for f, v in fields.items() if v is not None}
    if not given:
        raise ValueError("nothing to change: give at least one policy field")
    if not tenant or len(tenant) > 128:
        raise ValueError("tenant must be 1..128 characters")
    if not changed_by or len(changed_by) > 200:
        raise ValueError("changed_by must be 1..200 characters")
    if "hitl_enabled" in given and not isinstance(given["hitl_enabled"], bool):
        raise ValueError("hitl_enabled must be a bool")
    if "confidence_threshold" in given:
        t = given["confidence_threshold"]
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 1:
            raise ValueError("confidence_threshold must be between 0 and 1")
        given["confidence_threshold"] = float(t)
    if "approval_timeout_seconds" in given:
        s = given["approval_timeout_seconds"]
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise ValueError("approval_timeout_seconds must be an integer >= 1")
    if "on_timeout" in given and given["on_timeout"] not in ("reject", "approve"):
        raise ValueError("on_timeout must be 'reject' or 'approve'")
    return given
