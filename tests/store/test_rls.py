"""Row-level security on PostgreSQL (store/rls.py, store/tenancy.py): the app's role is bound
by the tenant policies, and a query that forgets its tenant filter sees only its tenant's
rows. Each test runs on the store's scratch database, emptied and migrated for it."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Column, Connection, MetaData, String, Table, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col

from models.hitl import PolicyFields
from models.processes import Process
from models.tables import DecisionRow, PolicyChangeRow, PolicyRow, RunRow
from models.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from processes.lead_scoring import LeadRow
from store import rls
from store.db import alembic_config, make_engine, make_sessionmaker, migrate
from store.policies import PolicyStore
from store.sql import rowcount
from store.tenancy import ALL_TENANTS, NO_TENANT, current_tenant, tenant_scope

pytestmark = pytest.mark.postgres
A, B = "acme", "globex"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def backend() -> str:
    # PostgreSQL only: SQLite has no roles or policies.
    return "postgres"


def _rows(tenant: str) -> list[SQLModel]:
    wid = f"lead_scoring:{tenant}:k1"
    return [
        RunRow(workflow_id=wid, tenant=tenant, process="lead_scoring", state="running"),
        DecisionRow(
            approval_id=f"{wid}:a1",
            workflow_id=wid,
            run_id="r1",
            tenant=tenant,
            process="lead_scoring",
            decision="approve",
            actor="ann",
            channel="api",
            confidence=0.5,
            threshold=0.8,
            hitl_enabled=True,
            decided_at=NOW,
        ),
        LeadRow(
            workflow_id=wid,
            tenant=tenant,
            approval_id=f"{wid}:a1",
            name="Ada",
            email="ada@example.com",
            company="Engines",
            score=80,
            tier="hot",
            route="sales",
        ),
        WebhookSubscriptionRow(
            id=f"wh_{tenant}",
            tenant=tenant,
            url="https://example.com/hook",
            events=["run.completed"],
            secret="s",
            created_by="ann",
        ),
        WebhookDeliveryRow(
            subscription_id=f"wh_{tenant}", tenant=tenant, event_id="e1", event_type="x"
        ),
        PolicyChangeRow(process="lead_scoring", tenant=tenant, version=1, changed_by="root"),
    ]


TABLES = [RunRow, DecisionRow, LeadRow, WebhookSubscriptionRow, WebhookDeliveryRow, PolicyChangeRow]


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    with tenant_scope(ALL_TENANTS):
        async with make_sessionmaker(engine).begin() as session:
            session.add_all([*_rows(A), *_rows(B)])
    return engine


async def _tenants(engine: AsyncEngine, table: Any) -> set[str]:
    """Every tenant the table shows, read without any tenant filter."""
    async with make_sessionmaker(engine)() as session:
        return set((await session.execute(select(table.tenant))).scalars())


async def test_the_app_role_is_neither_superuser_nor_owner(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        user, superuser, bypass = (
            await conn.execute(
                text(
                    "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
        owned = await conn.scalar(
            text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        )
        protected: dict[str, bool] = dict(
            (
                await conn.execute(
                    text(
                        "SELECT c.relname, c.relrowsecurity FROM pg_class c "
                        "WHERE c.relname = ANY(:names)"
                    ),
                    {"names": list(rls.app_tables())},
                )
            ).all()
        )
    assert (user, superuser, bypass, owned) == (rls.APP_ROLE, False, False, 0)
    # Every tenant-owned table of the models that this database has (the ones of processes
    # whose migration has not landed yet are not there).
    expected = {"runs", "decisions", "policies", "policy_changes", "leads"}
    expected |= {"webhook_subscriptions", "webhook_deliveries"}
    assert expected <= set(protected)
    assert all(
        protected[name]
        for name, owned_by_tenant in rls.app_tables().items()
        if owned_by_tenant and name in protected
    )


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.__tablename__)
async def test_a_query_without_tenant_filter_sees_only_its_tenant(
    seeded: AsyncEngine, table: Any
) -> None:
    with tenant_scope(A):
        assert await _tenants(seeded, table) == {A}
    with tenant_scope(B):
        assert await _tenants(seeded, table) == {B}
    with tenant_scope(ALL_TENANTS):
        assert await _tenants(seeded, table) == {A, B}
    with tenant_scope(NO_TENANT):
        assert await _tenants(seeded, table) == set()


async def test_a_write_for_another_tenant_is_refused(seeded: AsyncEngine) -> None:
    sessions = make_sessionmaker(seeded)
    with tenant_scope(A):
        with pytest.raises(DBAPIError, match="row-level security"):
            async with sessions.begin() as session:
                session.add(RunRow(workflow_id="x", tenant=B, process="lead_scoring", state="s"))
        async with sessions.begin() as session:
            # B's rows cannot be touched either: to A they do not exist.
            moved = await session.execute(update(RunRow).values(state="hijacked"))
            assert rowcount(moved) == 1  # A's own row only
        with pytest.raises(DBAPIError, match="row-level security"):
            async with sessions.begin() as session:
                await session.execute(update(RunRow).values(tenant=B))
    with tenant_scope(ALL_TENANTS):
        async with sessions() as session:
            query = select(col(RunRow.tenant), col(RunRow.state))
            states: dict[str, str] = dict((await session.execute(query)).all())
    assert states == {A: "hijacked", B: "running"}


async def test_global_policy_rows_are_read_by_every_tenant_written_only_under_the_bypass(
    engine: AsyncEngine,
) -> None:
    sessions = make_sessionmaker(engine)
    store = PolicyStore(sessions)
    with tenant_scope(ALL_TENANTS):
        for tenant in ("*", A, B):
            await store.set(
                Process("lead_scoring"),
                tenant,
                PolicyFields(confidence_threshold=0.5),
                changed_by="root",
            )
    with tenant_scope(A):
        assert await _tenants(engine, PolicyRow) == {"*", A}
        assert await _tenants(engine, PolicyChangeRow) == {"*", A}
        # A tenant's effective policy still merges the global row with its own.
        assert (await store.effective(Process("lead_scoring"), A)).confidence_threshold == 0.5
        async with sessions.begin() as session:
            touched = await session.execute(
                update(PolicyRow).where(col(PolicyRow.tenant) == "*").values(version=99)
            )
            assert rowcount(touched) == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            async with sessions.begin() as session:
                session.add(PolicyRow(process="content_generation", tenant="*", gate="editor"))
    with tenant_scope(ALL_TENANTS):
        assert await _tenants(engine, PolicyRow) == {"*", A, B}


async def test_the_scope_reaches_the_database_from_tasks_and_sync_handlers(
    engine: AsyncEngine,
) -> None:
    """SQLAlchemy sets the tenant in a sync ``begin`` handler, run in a greenlet: it must see
    the context variable of the asyncio task that awaits the query, tasks started inside a
    scope included; and a pooled connection must not carry one caller's tenant to the next."""
    one = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        sessions = make_sessionmaker(one)

        async def setting() -> tuple[str, str]:
            async with sessions() as session:
                value = await session.scalar(text("SELECT current_setting('brain.tenant')"))
                return current_tenant(), value

        with tenant_scope(A):
            assert await asyncio.create_task(setting()) == (A, A)
            with tenant_scope(B):
                assert await setting() == (B, B)
        assert await asyncio.gather(*(_in(t, setting) for t in (A, B, "*"))) == [
            (A, A),
            (B, B),
            ("*", "*"),
        ]
        with tenant_scope(NO_TENANT):
            assert await setting() == ("", "")
    finally:
        await one.dispose()


async def _in(tenant: str, fn: Any) -> Any:
    with tenant_scope(tenant):
        return await fn()


async def test_a_table_added_later_is_protected_by_the_next_migrate(
    engine: AsyncEngine, db_url: str
) -> None:
    """A process table whose migration forgot ``rls.protect``: ``migrate()`` covers it."""
    owner = make_engine(db_url, app_role=False)
    later = MetaData()
    Table("later_things", later, Column("id", String, primary_key=True), Column("tenant", String))
    try:
        async with owner.begin() as conn:
            await conn.run_sync(later.create_all)
            await conn.execute(text("DROP POLICY brain_tenant ON runs"))
        # As if a process module had declared it: the models' metadata now has the table.
        added = later.tables["later_things"].to_metadata(SQLModel.metadata)
        try:
            await migrate(db_url)
            async with owner.begin() as conn:
                assert await conn.run_sync(rls.secure) == []  # nothing left to do
                await conn.execute(text("INSERT INTO later_things VALUES ('1', :t)"), {"t": A})
        finally:
            SQLModel.metadata.remove(added)
        for tenant, seen in ((A, 1), (B, 0)):
            with tenant_scope(tenant):
                async with engine.connect() as conn:
                    assert await conn.scalar(text("SELECT count(*) FROM later_things")) == seen
                    assert await conn.scalar(select(func.count()).select_from(RunRow)) == 0
        async with owner.connect() as conn:
            policies = await conn.scalar(
                text("SELECT count(*) FROM pg_policy WHERE polrelid = 'runs'::regclass")
            )
        assert policies == 1
    finally:
        await owner.dispose()


async def test_the_migration_downgrades_and_upgrades_again(
    db_url: str, engine: AsyncEngine
) -> None:
    owner = make_engine(db_url, app_role=False)

    def alembic(conn: Connection, verb: str, target: str) -> None:
        cfg = alembic_config(db_url)
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)

    try:
        async with owner.begin() as conn:
            await conn.run_sync(alembic, "downgrade", "0006")
            assert (
                await conn.scalar(text("SELECT count(*) FROM pg_class WHERE relrowsecurity")) == 0
            )
            assert await conn.scalar(text("SELECT count(*) FROM pg_policy")) == 0
            await conn.run_sync(alembic, "upgrade", "head")
        with tenant_scope(A):
            async with make_sessionmaker(engine).begin() as session:
                session.add(RunRow(workflow_id="w", tenant=A, process="lead_scoring", state="s"))
        with tenant_scope(B):
            assert await _tenants(engine, RunRow) == set()
    finally:
        await owner.dispose()


async def test_protect_is_what_a_later_migration_calls(engine: AsyncEngine, db_url: str) -> None:
    owner = make_engine(db_url, app_role=False)
    try:
        async with owner.begin() as conn:
            await conn.execute(text("CREATE TABLE stories (id serial PRIMARY KEY, tenant text)"))
            await conn.run_sync(rls.protect, "stories")
            await conn.run_sync(rls.protect, "stories")  # again: nothing to do
            with pytest.raises(LookupError):
                await conn.run_sync(rls.protect, "no_such_table")
        with tenant_scope(A):  # the app role may use the id's sequence too
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO stories (tenant) VALUES (:t)"), {"t": A})
        for tenant, seen in ((A, 1), (B, 0)):
            with tenant_scope(tenant):
                async with engine.connect() as conn:
                    assert await conn.scalar(text("SELECT count(*) FROM stories")) == seen
    finally:
        await owner.dispose()
