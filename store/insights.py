"""The SQL behind insights (SPEC §7), over the audit log, on SQLite and PostgreSQL alike.

Three statements, each one pass over the scope's audit rows: the suggested threshold per
process and gate, the outcome counts, and the ranks that percentiles of time to decision
need (from each row's own ``requested_at``: no join). A row from before gates had names
counts for its process's first gate.
Portable SQL (window functions, ``FILTER``, integer arithmetic), except for percentiles:
PostgreSQL has ``percentile_cont``, SQLite gets the same interpolation from ranks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    Text,
    and_,
    case,
    cast,
    func,
    inspect,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from models.insights import APPROVED_SHARE, MIN_SUPPORT, SAMPLE_SIZE
from models.processes import Action, Channel, Process
from models.tables import DecisionRow
from processes import registry

_D = inspect(DecisionRow).local_table
# Every door a person decides through.
_HUMAN = tuple(c.value for c in Channel if c.door is not None)
# Cancels are audited too (channel api), but they decide nothing.
_DECIDED = (Action.APPROVE.value, Action.REJECT.value)
# Percentiles of time to decision, as integer tenths: ranks come from integer division.
_MEDIAN, _P90 = 5, 9


@dataclass(frozen=True)
class Scope:
    tenant: str | None  # None: every tenant
    processes: Sequence[Process]
    since: datetime | None  # UTC


# (process, gate): what insights are per.
Key = tuple[str, str]


def _at_gate(process: Process, name: str) -> ColumnElement[bool]:
    """The rows of one gate, on the column itself (indexed); a row from before gates had
    names is at its process's first."""
    if name == registry.definition(process).gates[0].name:
        return or_(_D.c.gate == name, _D.c.gate.is_(None))
    return _D.c.gate == name


def _gate() -> ColumnElement[str]:
    """The row's gate; a row from before gates had names is at its process's first."""
    first = case(
        *((_D.c.process == d.name, d.gates[0].name) for d in registry.definitions()),
        else_=literal("review"),
    )
    return func.coalesce(_D.c.gate, first)


@dataclass(frozen=True)
class Suggestion:
    sample_size: int
    threshold: float | None


@dataclass(frozen=True)
class Counts:
    runs: int = 0
    auto: int = 0
    human: int = 0
    as_proposed: int = 0
    approved: int = 0
    rejected: int = 0
    timed_out: int = 0
    by_policy: int = 0
    let_through: int = 0


@dataclass(frozen=True)
class TimeToDecision:
    median_seconds: float | None
    p90_seconds: float | None


def _scoped(scope: Scope, process: Process | None = None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [_D.c.decision.in_(_DECIDED)]
    if scope.tenant is not None:
        found.append(_D.c.tenant == scope.tenant)
    if process is not None:
        found.append(_D.c.process == process.value)
    else:
        found.append(_D.c.process.in_([p.value for p in scope.processes]))
    if scope.since is not None:
        found.append(_D.c.decided_at >= scope.since)
    return found


async def _plan_each_call(session: AsyncSession) -> None:
    """On PostgreSQL, for this transaction: a plan made for this call's values, and no JIT.
    The statements are prepared (asyncpg caches them); after five runs PostgreSQL may switch
    to a generic plan, made blind to the tenant, which is wrong for a tenant holding most of
    the log (measured: p50 from about 250 to 420 ms on 100,000 rows). JIT compiling these
    scans costs more than it saves at this size (about 50 ms a call)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(
                func.set_config("plan_cache_mode", "force_custom_plan", True),
                func.set_config("jit", "off", True),
            )
        )


def _as_proposed() -> ColumnElement[bool]:
    # An audit row without edits holds JSON null (SQLAlchemy's JSON default) or SQL NULL.
    no_edits = or_(_D.c.edits.is_(None), cast(_D.c.edits, Text) == "null")
    return and_(_D.c.decision == Action.APPROVE.value, no_edits)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # FILTER: both databases have it (SQLite since 3.30), and it is cheaper than CASE.
    return func.count().filter(condition)


async def suggestions(session: AsyncSession, scope: Scope) -> dict[Key, Suggestion]:
    """Per process and gate, over its last ``SAMPLE_SIZE`` human decisions: the lowest
    confidence ``t`` such that at least ``MIN_SUPPORT`` of them lie at or above ``t`` and at
    least ``APPROVED_SHARE`` of those were approved as proposed."""
    await _plan_each_call(session)
    samples = [
        select(
            _D.c.process,
            literal(name).label("gate"),
            _D.c.confidence,
            case((_as_proposed(), 1), else_=0).label("ok"),
        )
        .where(*_scoped(scope, process), _D.c.channel.in_(_HUMAN), _at_gate(process, name))
        .order_by(_D.c.decided_at.desc(), _D.c.id.desc())
        .limit(SAMPLE_SIZE)
        .subquery()
        for process in scope.processes
        for name in (g.name for g in registry.definition(process).gates)
    ]
    # Each sample is its own subquery: SQLite refuses LIMIT on a bare compound member.
    parts = [select(*s.c) for s in samples]
    sample = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("sample")
    # Ordered by confidence, highest first: the default frame (RANGE ... CURRENT ROW, peers
    # included) makes each row's window exactly the decisions at or above its confidence.
    by, order = (sample.c.process, sample.c.gate), sample.c.confidence.desc()
    ranked = select(
        sample.c.process,
        sample.c.gate,
        sample.c.confidence,
        func.count().over(partition_by=by, order_by=order).label("n"),
        func.sum(sample.c.ok).over(partition_by=by, order_by=order).label("k"),
    ).subquery("ranked")
    share = round(APPROVED_SHARE * 100)
    qualifies = and_(ranked.c.n >= MIN_SUPPORT, ranked.c.k * 100 >= ranked.c.n * share)
    stmt = select(
        ranked.c.process,
        ranked.c.gate,
        func.count().label("sample_size"),
        func.min(case((qualifies, ranked.c.confidence))).label("threshold"),
    ).group_by(ranked.c.process, ranked.c.gate)
    rows = (await session.execute(stmt)).all()
    return {(r.process, r.gate): Suggestion(int(r.sample_size), r.threshold) for r in rows}


async def counts(
    session: AsyncSession, scope: Scope, thresholds: dict[Key, float]
) -> dict[Key, Counts]:
    """Outcomes per process and gate; ``let_through``: decisions at or above the gate's
    threshold in ``thresholds`` (the suggestions)."""
    await _plan_each_call(session)
    human = _D.c.channel.in_(_HUMAN)
    through = [
        (and_(_D.c.process == p, _at_gate(Process(p), g), _D.c.confidence >= t), 1)
        for (p, g), t in thresholds.items()
    ]
    # Grouped by the gate column itself (no expression to work out per row); the rows from
    # before gates had names are added to their process's first gate below.
    stmt = (
        select(
            _D.c.process,
            _D.c.gate,
            func.count().label("runs"),
            _count(_D.c.channel == Channel.AUTO.value).label("auto"),
            _count(human).label("human"),
            _count(and_(human, _as_proposed())).label("as_proposed"),
            _count(and_(human, _D.c.decision == Action.APPROVE.value)).label("approved"),
            _count(and_(human, _D.c.decision == Action.REJECT.value)).label("rejected"),
            _count(_D.c.channel == Channel.TIMEOUT.value).label("timed_out"),
            _count(_D.c.channel == Channel.POLICY.value).label("by_policy"),
            func.sum(case(*through, else_=0) if through else literal(0)).label("let_through"),
        )
        .where(*_scoped(scope))
        .group_by(_D.c.process, _D.c.gate)
    )
    found: dict[Key, Counts] = {}
    for r in (await session.execute(stmt)).mappings().all():
        key = (r["process"], r["gate"] or _first_gate(r["process"]))
        counted = {k: int(v or 0) for k, v in r.items() if k not in ("process", "gate")}
        if key in found:
            counted = {k: v + getattr(found[key], k) for k, v in counted.items()}
        found[key] = Counts(**counted)
    return found


def _first_gate(process: str) -> str:
    # Every row here is of a scope's process, which is installed.
    return registry.definition(process).gates[0].name


async def time_to_decision(session: AsyncSession, scope: Scope) -> dict[Key, TimeToDecision]:
    """Median and p90 of human decisions' seconds from their gate's ``requested_at`` to
    ``decided_at``, per process and gate, interpolated linearly between the two values
    around ``p * (n - 1)`` (``percentile_cont``)."""
    await _plan_each_call(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    seconds: ColumnElement[float]
    if postgres:
        # date_part is a double; EXTRACT would be numeric, several times slower to sort.
        seconds = func.date_part("epoch", _D.c.decided_at - _D.c.requested_at)
    else:
        # SQLite keeps timestamps as UTC text; julianday() reads them, in days.
        seconds = (func.julianday(_D.c.decided_at) - func.julianday(_D.c.requested_at)) * 86400.0
    timed = (
        select((_D.c.process + literal("\x1f") + _gate()).label("key"), seconds.label("secs"))
        .where(*_scoped(scope), _D.c.channel.in_(_HUMAN), _D.c.requested_at.is_not(None))
        .subquery("timed")
    )
    found = await (_percentile_cont if postgres else _ranked)(session, timed)
    return {
        _split(key): TimeToDecision(_ms(median), _ms(p90)) for key, (median, p90) in found.items()
    }


def _split(key: str) -> Key:
    process, gate = key.split("\x1f", 1)
    return process, gate


async def _percentile_cont(session: AsyncSession, timed: Subquery) -> dict[str, tuple[Any, Any]]:
    # One sort per process inside the aggregate: half the time of the window functions.
    fractions = postgresql.array([_MEDIAN / 10, _P90 / 10])
    stmt = select(timed.c.key, func.percentile_cont(fractions).within_group(timed.c.secs)).group_by(
        timed.c.key
    )
    return {process: tuple(values) for process, values in (await session.execute(stmt)).all()}


async def _ranked(session: AsyncSession, timed: Subquery) -> dict[str, tuple[Any, Any]]:
    """``percentile_cont`` where there is none (SQLite): window functions rank the rows,
    and each percentile interpolates between the two ranks around its position."""
    ranked = select(
        timed.c.key,
        timed.c.secs,
        func.row_number().over(partition_by=timed.c.key, order_by=timed.c.secs).label("rn"),
        func.count().over(partition_by=timed.c.key).label("n"),
    ).subquery("ranked")

    def around(tenths: int) -> list[ColumnElement[Any]]:
        # 1-based rank of floor(p * (n - 1)): integer division, no floor() needed.
        low = (ranked.c.n - 1) * tenths // 10 + 1
        return [
            func.max(case((ranked.c.rn == low, ranked.c.secs))),
            func.max(case((ranked.c.rn == low + 1, ranked.c.secs))),
        ]

    stmt = select(ranked.c.key, func.max(ranked.c.n), *around(_MEDIAN), *around(_P90)).group_by(
        ranked.c.key
    )
    rows = (await session.execute(stmt)).all()
    return {
        process: (_interpolate(n, _MEDIAN, m0, m1), _interpolate(n, _P90, p0, p1))
        for process, n, m0, m1, p0, p1 in rows
    }


def _interpolate(n: int, tenths: int, low: Any, high: Any) -> float | None:
    if low is None:
        return None
    fraction = (n - 1) * tenths / 10 - (n - 1) * tenths // 10
    return float(low) if high is None else float(low) + fraction * (float(high) - float(low))


def _ms(seconds: Any) -> float | None:
    # julianday() is a double of days, good to ~50 µs: milliseconds make both databases
    # answer the same number.
    return None if seconds is None else round(float(seconds), 3)
