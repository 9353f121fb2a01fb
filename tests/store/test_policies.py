import asyncio
import time
from collections.abc import AsyncIterator
from typing import NoReturn

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from core.redis import make_redis
from models.hitl import Policy, PolicyFields
from models.processes import Process
from processes import registry
from store.db import make_sessionmaker
from store.policies import PolicyStore, cache_key
from store.policy_cache import RedisPolicyCache

LEAD = Process("lead_scoring")
REDIS_URL = "redis://127.0.0.1:6379/15"


async def test_effective_defaults(store: PolicyStore) -> None:
    p = await store.effective(LEAD, "acme")
    assert p == Policy(
        process=LEAD,
        tenant="acme",
        gate="review",
        hitl_enabled=True,
        confidence_threshold=0.85,
        version=1,
    )
    # One policy per gate of every process, in the gates' order.
    assert [(x.process, x.gate) for x in await store.effective_all("acme")] == [
        (p, g.name) for p in registry.processes() for g in registry.definition(p).gates
    ]


async def test_tenant_override_inherits_unset_fields(store: PolicyStore) -> None:
    got = await store.set(LEAD, "acme", PolicyFields(confidence_threshold=0.5), changed_by="alice")
    assert (got.hitl_enabled, got.confidence_threshold, got.version) == (True, 0.5, 2)
    assert got == await store.effective(LEAD, "acme")
    # A later global change still reaches the fields the tenant did not set.
    await store.set(
        LEAD, "*", PolicyFields(hitl_enabled=False, on_timeout="approve"), changed_by="root"
    )
    acme = await store.effective(LEAD, "acme")
    assert (acme.hitl_enabled, acme.confidence_threshold, acme.on_timeout) == (
        False,
        0.5,
        "approve",
    )
    assert acme.version == 3
    other = await store.effective(LEAD, "other")
    assert (other.hitl_enabled, other.confidence_threshold) == (False, 0.85)
    [row] = await store.rows("acme")
    assert (row.hitl_enabled, row.on_timeout, row.updated_by) == (None, None, "alice")
    # A global row per gate (a gate without one shows its default) and acme's.
    gates = sum(len(registry.definition(p).gates) for p in registry.processes())
    assert len(await store.rows()) == gates + 1


async def test_versions_are_monotonic_per_process_across_tenants(store: PolicyStore) -> None:
    versions = [
        (await store.set(LEAD, tenant, PolicyFields(hitl_enabled=False), changed_by="a")).version
        for tenant in ("t1", "t2", "*", "t1")
    ]
    assert versions == [2, 3, 4, 5]
    # The global row is at 4, t1 at 5: t2's effective version is the newest it depends on.
    assert (await store.effective(LEAD, "t2")).version == 4
    assert (await store.effective(LEAD, "t1")).version == 5
    # Another process keeps its own sequence.
    other = await store.set(
        Process("campaign_tuning"), "t1", PolicyFields(hitl_enabled=True), changed_by="a"
    )
    assert other.version == 2


async def test_change_log_records_old_and_new(store: PolicyStore) -> None:
    await store.set(LEAD, "acme", PolicyFields(confidence_threshold=0.6), changed_by="alice")
    await store.set(
        LEAD,
        "acme",
        PolicyFields(confidence_threshold=0.7, approval_timeout_seconds=60),
        changed_by="bob",
    )
    await store.set(
        Process("campaign_tuning"), "*", PolicyFields(hitl_enabled=True), changed_by="carol"
    )
    newest, older = await store.changes(LEAD)
    assert (newest.changed_by, newest.tenant, newest.version) == ("bob", "acme", 3)
    assert newest.old == {"confidence_threshold": 0.6, "approval_timeout_seconds": None}
    assert newest.new == {"confidence_threshold": 0.7, "approval_timeout_seconds": 60}
    assert (older.old, older.new) == ({"confidence_threshold": None}, {"confidence_threshold": 0.6})
    [glob] = await store.changes(Process("campaign_tuning"))
    assert (glob.old, glob.new) == ({"hitl_enabled": False}, {"hitl_enabled": True})
    assert len(await store.changes()) == 3
    assert len(await store.changes(limit=1)) == 1


async def test_concurrent_sets_get_distinct_versions(store: PolicyStore) -> None:
    results = await asyncio.gather(
        *(
            store.set(
                LEAD,
                f"t{i % 4}" if i % 5 else "*",
                PolicyFields(hitl_enabled=i % 2 == 0),
                changed_by=f"u{i}",
            )
            for i in range(20)
        )
    )
    assert sorted(p.version for p in results) == list(range(2, 22))
    changes = await store.changes(LEAD)
    assert sorted(c.version for c in changes) == list(range(2, 22))


@pytest.mark.parametrize(
    "kw",
    [
        {"confidence_threshold": 1.5},
        {"confidence_threshold": -0.1},
        {"confidence_threshold": float("nan")},
        {"approval_timeout_seconds": 0},
        {"on_timeout": "ignore"},
        {"hitl_enabled": "yes"},
        {},
    ],
)
async def test_bad_values_raise(store: PolicyStore, kw: dict) -> None:
    with pytest.raises(ValueError):
        await store.set(LEAD, "acme", PolicyFields(**kw), changed_by="alice")
    assert await store.changes() == []


async def test_unknown_process_raises(store: PolicyStore) -> None:
    with pytest.raises(ValueError):
        await store.effective("nope", "acme")  # type: ignore[arg-type]


async def test_a_process_without_a_global_row_runs_on_its_default(
    engine: AsyncEngine, store: PolicyStore
) -> None:
    """A process added after the database was seeded has no global row: its definition's
    default policy applies, read as version 1 (every global row is at 1 or later), and the
    first change writes that row, at version 2."""
    from sqlalchemy import delete, select

    from models.tables import PolicyRow

    async with make_sessionmaker(engine)() as s, s.begin():
        await s.execute(delete(PolicyRow).where(col(PolicyRow.process) == LEAD.value))
    default = registry.definition(LEAD).default_policy
    got = await store.effective(LEAD, "acme")
    assert (got.hitl_enabled, got.confidence_threshold, got.version) == (
        default.hitl_enabled,
        default.confidence_threshold,
        1,
    )
    assert {p.process for p in await store.effective_all("acme")} == set(registry.processes())
    assert any(r.process == LEAD.value and r.tenant == "*" for r in await store.rows())
    changed = await store.set(LEAD, "acme", PolicyFields(confidence_threshold=0.5), changed_by="a")
    assert changed.version == 2 and changed.hitl_enabled is default.hitl_enabled
    async with make_sessionmaker(engine)() as s:
        stored = await s.scalars(select(PolicyRow).where(col(PolicyRow.process) == LEAD.value))
        assert {r.tenant for r in stored} == {"*", "acme"}


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = make_redis(REDIS_URL)
    # Other suites may share the server: drop only our own keys.
    async for key in client.scan_iter(match="brain:policy:*"):
        await client.delete(key)
    yield client
    await client.aclose()


async def test_redis_cache_read_through_and_invalidation(engine: AsyncEngine, redis: Redis) -> None:
    store = PolicyStore(make_sessionmaker(engine), cache=RedisPolicyCache(redis, ttl_seconds=30))
    first = await store.effective(LEAD, "acme")
    cached = await redis.get(cache_key(LEAD, "acme", "review"))
    assert cached is not None and Policy.model_validate_json(cached) == first
    assert 0 < await redis.ttl(cache_key(LEAD, "acme", "review")) <= 30
    # Served from the cache: a planted value comes back.
    planted = first.model_copy(update={"confidence_threshold": 0.11})
    await redis.set(cache_key(LEAD, "acme", "review"), planted.model_dump_json())
    assert await store.effective(LEAD, "acme") == planted
    # min_version skips a cached value older than one the caller has seen.
    assert (await store.effective(LEAD, "acme", min_version=2)).confidence_threshold == 0.85
    await store.effective(LEAD, "other")
    await store.effective(Process("campaign_tuning"), "acme")
    # A global change invalidates every tenant of that process, and only that process.
    changed = await store.set(LEAD, "*", PolicyFields(confidence_threshold=0.4), changed_by="root")
    assert await redis.get(cache_key(LEAD, "acme", "review")) is None
    assert await redis.get(cache_key(LEAD, "other", "review")) is None
    assert await redis.get(cache_key(Process("campaign_tuning"), "acme", "review")) is not None
    assert (await store.effective(LEAD, "acme")).confidence_threshold == 0.4
    assert (await store.effective(LEAD, "acme")).version == changed.version


async def test_store_works_with_redis_down(engine: AsyncEngine) -> None:
    dead = make_redis("redis://127.0.0.1:1/0")
    try:
        store = PolicyStore(make_sessionmaker(engine), cache=RedisPolicyCache(dead))
        started = time.monotonic()
        assert (await store.effective(LEAD, "acme")).confidence_threshold == 0.85
        got = await store.set(LEAD, "acme", PolicyFields(confidence_threshold=0.3), changed_by="a")
        assert got.confidence_threshold == 0.3
        assert (await store.effective(LEAD, "acme")).confidence_threshold == 0.3
        # Fails fast, and stops asking a Redis that is down.
        assert time.monotonic() - started < 3
    finally:
        await dead.aclose()


async def test_invalidation_lost_to_an_outage_is_replayed(
    engine: AsyncEngine, redis: Redis
) -> None:
    cache = RedisPolicyCache(redis, retry_after_seconds=0)
    store = PolicyStore(make_sessionmaker(engine), cache=cache)
    await store.effective(LEAD, "acme")
    real_scan = redis.scan_iter

    def broken(*a: object, **kw: object) -> NoReturn:
        raise ConnectionError("redis went away")

    redis.scan_iter = broken  # type: ignore[method-assign]
    await store.set(LEAD, "acme", PolicyFields(confidence_threshold=0.2), changed_by="a")
    assert await redis.get(cache_key(LEAD, "acme", "review")) is not None  # stale, for now
    redis.scan_iter = real_scan  # type: ignore[method-assign]
    assert (await store.effective(LEAD, "acme")).confidence_threshold == 0.2
