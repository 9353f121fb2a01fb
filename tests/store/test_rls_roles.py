"""Row-level security as production sets it up: the database user is no superuser, only the
owner of its database with CREATEROLE; its migration makes it a member of ``brain_app``,
and its app connections then take that role on."""

import uuid

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlmodel import col

from models.tables import RunRow
from store import rls
from store.db import make_engine, make_sessionmaker, migrate
from store.scratch import ADMIN_DSN
from store.tenancy import tenant_scope

pytestmark = pytest.mark.postgres


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def test_an_owner_without_superuser_migrates_and_acts_as_the_app_role() -> None:
    name = f"brain_owner_{uuid.uuid4().hex[:8]}"
    await _admin(
        f'CREATE ROLE "{name}" LOGIN CREATEROLE', f'CREATE DATABASE "{name}" OWNER "{name}"'
    )
    url = f"postgresql+asyncpg://{name}@127.0.0.1:5432/{name}"
    try:
        await migrate(url)
        await migrate(url)  # the membership is there: nothing to grant twice
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                who = (await conn.execute(text("SELECT current_user, session_user"))).one()
            assert tuple(who) == (rls.APP_ROLE, name)
            sessions = make_sessionmaker(engine)
            with tenant_scope("acme"):
                async with sessions.begin() as session:
                    session.add(RunRow(workflow_id="w", tenant="acme", process="p", state="s"))
            for tenant, seen in (("acme", ["acme"]), ("globex", [])):
                with tenant_scope(tenant):
                    async with sessions() as session:
                        assert list(await session.scalars(select(col(RunRow.tenant)))) == seen
        finally:
            await engine.dispose()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP ROLE "{name}"')
