"""Policies (SPEC §2, §8): a global ``*`` row per process and gate, tenant rows that override
only what they set, every change versioned and audited in the same transaction. A gate with
no global row yet (a process or gate just added) runs on its definition's default policy,
read as version 1; the first change to it writes that row.

Versions count per process, across its gates: a parked run compares the version of its own
gate's policy, and a change to one gate never reads as older than another's."""

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from models.hitl import GLOBAL_TENANT, Policy, PolicyChange, PolicyFields
from models.processes import Process
from models.tables import PolicyChangeRow, PolicyRow, utcnow
from processes import registry
from store.db import single_statement, sqlite_immediate
from store.sql import insert

log = logging.getLogger(__name__)

_FIELDS = tuple(PolicyFields.model_fields)
# Stored as 0 (the amount: -1), read as None: "off" set explicitly, where NULL would
# inherit the global row.
_OFF_STORED = {"remind_every_seconds": 0, "escalate_after_seconds": 0, "amount_over": -1.0}
# The version a gate's default policy reads as before any change wrote its row.
DEFAULT_VERSION = 1
_T = TypeVar("_T")


class PolicyCache(Protocol):
    async def get(self, key: str) -> Policy | None: ...
    async def set(self, key: str, policy: Policy) -> None: ...
    async def invalidate(self, process: Process) -> None: ...


# What ``PolicyStore.set`` calls inside its transaction, with the change it is writing.
PolicyWritten = Callable[[AsyncSession, PolicyChange], Awaitable[Any]]


def cache_key(process: Process, tenant: str, gate: str) -> str:
    return f"brain:policy:{process.value}:{tenant}:{gate}"


def gate_name(process: Process, gate: str | None) -> str:
    """``gate`` checked against the process's gates; ``None`` is its first. Raises
    ``KeyError`` for a gate the process does not have."""
    return registry.definition(process).gate(gate).name


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
        gate: str | None = None,
        min_version: int = 0,
        session: AsyncSession | None = None,
    ) -> Policy:
        """The effective policy of ``gate`` (``None``: the process's first gate).
        ``min_version``: bypass a cached value older than a version the caller has seen (a
        reader racing a writer can re-cache the old policy for up to the cache's TTL).
        ``session``: read in the caller's transaction (one BEGIN and COMMIT for the read and
        what the caller writes next) instead of a statement of its own."""
        process = Process(process)
        name = gate_name(process, gate)
        found = await self.effective_gates(
            process, tenant, [name], min_version=min_version, session=session
        )
        return found[name]

    async def effective_gates(
        self,
        process: Process,
        tenant: str,
        gates: Sequence[str],
        *,
        min_version: int = 0,
        session: AsyncSession | None = None,
    ) -> dict[str, Policy]:
        """The effective policies of several gates of one process, in one read."""
        process = Process(process)
        out: dict[str, Policy] = {}
        for gate in gates:
            cached = await self._cached(cache_key(process, tenant, gate))
            if cached is None or cached.version < min_version:
                break
            out[gate] = cached
        else:
            return out
        if session is not None:
            out = await self._effective(session, process, tenant, gates)
        else:
            async with self._sessions() as own:
                await single_statement(own)
                out = await self._effective(own, process, tenant, gates)
        for gate, policy in out.items():
            await self._remember(cache_key(process, tenant, gate), policy)
        return out

    async def _cached(self, key: str) -> Policy | None:
        return await self._cache_call("get", lambda c: c.get(key))

    async def _remember(self, key: str, policy: Policy) -> None:
        await self._cache_call("set", lambda c: c.set(key, policy))

    async def effective_all(self, tenant: str) -> list[Policy]:
        """Every gate's effective policy of every process, for ``tenant``."""
        async with self._sessions() as session:
            result = await session.execute(
                select(PolicyRow).where(col(PolicyRow.tenant).in_([GLOBAL_TENANT, tenant]))
            )
            rows = {(r.process, r.gate, r.tenant): r for r in result.scalars()}
        return [
            _merge(
                p,
                tenant,
                rows.get((p.value, g, GLOBAL_TENANT)) or _default_row(p, g),
                rows.get((p.value, g, tenant)),
            )
            for p, g in _every_gate()
        ]

    async def set(
        self,
        process: Process,
        tenant: str,
        patch: PolicyFields,
        *,
        changed_by: str,
        gate: str | None = None,
        then: PolicyWritten | None = None,
    ) -> Policy:
        """Change the fields ``patch`` gives of ``gate``'s policy (``None``: the first gate);
        a field left ``None`` is not given; a period of 0 or an amount of -1 turns it off.
        Raises ``ValueError`` when nothing is given or the tenant or author is unusable,
        ``KeyError`` for a gate the process does not have. ``then``: called with the session
        and the change before the commit, to write what must commit with it (the
        ``policy.changed`` event's outbox rows)."""
        process = Process(process)
        gate = gate_name(process, gate)
        given = _validate(tenant, changed_by, patch)
        async with self._sessions() as session, session.begin():
            # SQLite: take the write lock at BEGIN, so the version read below stays current.
            await session.connection(execution_options=sqlite_immediate)
            # PostgreSQL: every writer of this process queues on its first gate's global
            # row, so the max(version) read below cannot be stale. (FOR UPDATE is a no-op on
            # SQLite.)
            first = await _global_row(session, process, gate_name(process, None))
            glob = first if first.gate == gate else await _global_row(session, process, gate)
            top = await session.scalar(
                select(func.max(PolicyRow.version)).where(col(PolicyRow.process) == process.value)
            )
            version = max(top or 0, DEFAULT_VERSION) + 1
            row = glob if tenant == GLOBAL_TENANT else await _row(session, process, tenant, gate)
            if row is None:
                row = PolicyRow(process=process.value, tenant=tenant, gate=gate)
                session.add(row)
            old = {f: getattr(row, f) for f in given}
            for f, v in given.items():
                setattr(row, f, v)
            row.version, row.updated_by, row.updated_at = version, changed_by, utcnow()
            session.add(
                PolicyChangeRow(
                    process=process.value,
                    tenant=tenant,
                    gate=gate,
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
                    process=process,
                    tenant=tenant,
                    version=version,
                    changed_by=changed_by,
                    gate=gate,
                )
                await then(session, change)
        # After commit: invalidating earlier would let a reader re-cache the old row.
        await self._cache_call("invalidate", lambda c: c.invalidate(process))
        return policy

    async def rows(self, tenant: str | None = None) -> list[PolicyRow]:
        """Stored rows; a gate without a global row yet shows its default one."""
        stmt = select(PolicyRow).order_by(PolicyRow.process, PolicyRow.tenant)
        if tenant is not None:
            stmt = stmt.where(col(PolicyRow.tenant) == tenant)
        async with self._sessions() as session:
            found = list((await session.execute(stmt)).scalars())
        if tenant in (None, GLOBAL_TENANT):
            stored = {(r.process, r.gate) for r in found if r.tenant == GLOBAL_TENANT}
            found += [_default_row(p, g) for p, g in _every_gate() if (p.value, g) not in stored]
        order = {(p.value, g): i for i, (p, g) in enumerate(_every_gate())}
        found.sort(key=lambda r: (r.process, order.get((r.process, r.gate), 99), r.tenant))
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

    async def effective_in(
        self, session: AsyncSession, process: Process, tenant: str, gate: str | None = None
    ) -> Policy:
        """The effective policy of ``gate`` as ``session`` sees it, never from the cache
        (inside a write, the cache may hold what the write replaces)."""
        name = gate_name(process, gate)
        return (await self._effective(session, Process(process), tenant, [name]))[name]

    async def _effective(
        self, session: AsyncSession, process: Process, tenant: str, gates: Sequence[str]
    ) -> dict[str, Policy]:
        result = await session.execute(
            select(PolicyRow).where(
                col(PolicyRow.process) == process.value,
                col(PolicyRow.tenant).in_([GLOBAL_TENANT, tenant]),
                col(PolicyRow.gate).in_(list(gates)),
            )
        )
        rows = {(r.gate, r.tenant): r for r in result.scalars()}
        return {
            gate: _merge(
                process,
                tenant,
                rows.get((gate, GLOBAL_TENANT)) or _default_row(process, gate),
                rows.get((gate, tenant)),
            )
            for gate in gates
        }

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
    session: AsyncSession, process: Process, tenant: str, gate: str, *, lock: bool = False
) -> PolicyRow | None:
    stmt = select(PolicyRow).where(
        col(PolicyRow.process) == process.value,
        col(PolicyRow.tenant) == tenant,
        col(PolicyRow.gate) == gate,
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def _global_row(session: AsyncSession, process: Process, gate: str) -> PolicyRow:
    """The gate's global row, locked; written from the definition's default when the gate
    has none yet (two writers racing to create it both end up locking one)."""
    row = await _row(session, process, GLOBAL_TENANT, gate, lock=True)
    if row is not None:
        return row
    default = _default_row(process, gate)
    values = {f: getattr(default, f) for f in ("process", "tenant", "gate", *_FIELDS, "version")}
    stmt = insert(session, PolicyRow).values(updated_by="system", **values)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["process", "tenant", "gate"]))
    row = await _row(session, process, GLOBAL_TENANT, gate, lock=True)
    assert row is not None
    return row


def _every_gate() -> Iterable[tuple[Process, str]]:
    return [(Process(d.name), g.name) for d in registry.definitions() for g in d.gates]


def _default_row(process: Process, gate: str) -> PolicyRow:
    definition = registry.definition(process)
    default = definition.default_policy
    declared = definition.gate(gate).hitl_by_default
    return PolicyRow(
        process=Process(process).value,
        tenant=GLOBAL_TENANT,
        gate=gate,
        hitl_enabled=default.hitl_enabled if declared is None else declared,
        confidence_threshold=default.confidence_threshold,
        version=DEFAULT_VERSION,
        updated_by="system",
    )


def _merge(process: Process, tenant: str, glob: PolicyRow, own: PolicyRow | None) -> Policy:
    values: dict[str, Any] = {f: getattr(glob, f) for f in _FIELDS}
    version = glob.version
    if own is not None and own is not glob:
        values.update({f: getattr(own, f) for f in _FIELDS if getattr(own, f) is not None})
        version = max(version, own.version)
    for f, off in _OFF_STORED.items():
        if values.get(f) == off:
            values[f] = None
    # A NULL in the global row means "the model's default" (e.g. timeout 86400).
    values = {f: v for f, v in values.items() if v is not None}
    return Policy(process=process, tenant=tenant, gate=glob.gate, version=version, **values)


def _validate(tenant: str, changed_by: str, patch: PolicyFields) -> dict[str, Any]:
    if not tenant or len(tenant) > 128:
        raise ValueError("tenant must be 1..128 characters")
    if not changed_by or len(changed_by) > 200:
        raise ValueError("changed_by must be 1..200 characters")
    given = {f: v for f, v in patch.model_dump(mode="json").items() if v is not None}
    if not given:
        raise ValueError("nothing to change: give at least one policy field")
    return given
