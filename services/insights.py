"""Insights over the audit log (SPEC §7), shared by the REST API, the CLI and the bench."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.hitl import GLOBAL_TENANT
from models.insights import APPROVED_SHARE, MIN_SUPPORT, DecisionInsights, ProcessInsights
from models.processes import Process
from processes import registry
from store import insights as sql
from store.policies import PolicyStore


async def decision_insights(
    sessions: async_sessionmaker[AsyncSession],
    policies: PolicyStore,
    *,
    tenant: str,
    process: Process | None = None,
    since: datetime | None = None,
) -> DecisionInsights:
    """``tenant``: one tenant's decisions, or ``*`` for every tenant's (then the current
    threshold is the global row's). ``since``: only decisions taken at or after it."""
    processes = [process] if process is not None else list(registry.processes())
    since = _utc(since) if since is not None else None
    scope = sql.Scope(None if tenant == GLOBAL_TENANT else tenant, processes, since)

    async def outcomes() -> tuple[dict[sql.Key, sql.Suggestion], dict[sql.Key, sql.Counts]]:
        async with sessions() as session:
            suggested = await sql.suggestions(session, scope)
            through = {k: s.threshold for k, s in suggested.items() if s.threshold is not None}
            return suggested, await sql.counts(session, scope, through)

    async def durations() -> dict[sql.Key, sql.TimeToDecision]:
        async with sessions() as session:
            return await sql.time_to_decision(session, scope)

    # Two connections at once: the join behind the durations is the slowest statement,
    # and it needs nothing from the others.
    (suggested, counted), timed, effective = await asyncio.gather(
        outcomes(), durations(), policies.effective_all(tenant)
    )
    current = {(p.process, p.gate): p.confidence_threshold for p in effective}
    items = []
    gates = ((proc, g.name) for proc in processes for g in registry.definition(proc).gates)
    for p, gate in gates:
        key = (p.value, gate)
        c = counted.get(key, sql.Counts())
        s = suggested.get(key, sql.Suggestion(0, None))
        t = timed.get(key, sql.TimeToDecision(None, None))
        waited = c.human + c.timed_out
        items.append(
            ProcessInsights(
                process=p,
                gate=gate,
                runs=c.runs,
                auto_rate=_share(c.auto, c.runs),
                human_decisions=c.human,
                released_by_policy=c.by_policy,
                approved_as_proposed_rate=_share(c.as_proposed, waited),
                edited_rate=_share(c.approved - c.as_proposed, waited),
                rejected_rate=_share(c.rejected, waited),
                timed_out_rate=_share(c.timed_out, waited),
                median_seconds_to_decision=t.median_seconds,
                p90_seconds_to_decision=t.p90_seconds,
                current_threshold=current[(p, gate)],
                suggested_threshold=s.threshold,
                suggestion_reason=None if s.threshold is not None else _why_not(s.sample_size),
                sample_size=s.sample_size,
                suggested_auto_share=(
                    _share(c.let_through, c.runs) if s.threshold is not None else None
                ),
            )
        )
    return DecisionInsights(tenant=tenant, since=since, items=items)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _why_not(sample_size: int) -> str:
    if sample_size < MIN_SUPPORT:
        return (
            f"only {sample_size} human decisions to learn from; a suggestion needs at least "
            f"{MIN_SUPPORT}"
        )
    return (
        f"no confidence level has at least {MIN_SUPPORT} of the last {sample_size} human "
        f"decisions at or above it with {APPROVED_SHARE:.0%} of them approved as proposed"
    )


def _utc(value: datetime) -> datetime:
    # A time without an offset is taken as UTC, as Brain writes every timestamp.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
