"""A tenant's Slack workspace, its users' Brain identities, and the Slack requests already
taken (``models/slack_tables.py``). Tenant reads take the tenant; the lookup by team id reads
across tenants, so its caller's scope must be ``ALL_TENANTS`` (``api/slack``)."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from models.slack import SlackUserMapping, SlackWorkspace
from models.slack_tables import SlackSeenRequestRow, SlackUserRow, SlackWorkspaceRow
from models.tables import utcnow
from store.sql import insert, rowcount

_WS = SlackWorkspaceRow
_USER = SlackUserRow
_SEEN = SlackSeenRequestRow


class TeamTaken(ValueError):
    """Another tenant has configured this Slack workspace: a request from it would be
    ambiguous."""


class SlackStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def set_workspace(
        self, tenant: str, workspace: SlackWorkspace, set_by: str
    ) -> SlackWorkspaceRow:
        """Set or replace the tenant's workspace (a new team id or a rotated secret)."""
        row = SlackWorkspaceRow(
            tenant=tenant,
            team_id=workspace.team_id,
            signing_secret=workspace.signing_secret,
            set_by=set_by,
        )
        values = row.model_dump()
        try:
            async with self._sessions.begin() as session:
                stmt = insert(session, _WS).values(**values)
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[col(_WS.tenant)],
                        set_={k: v for k, v in values.items() if k != "tenant"},
                    )
                )
        except IntegrityError:
            # The team id's unique key: another tenant's row, which this one cannot see.
            raise TeamTaken(
                f"Slack workspace {workspace.team_id} is configured for another tenant"
            ) from None
        return row

    async def workspace(self, tenant: str) -> SlackWorkspaceRow | None:
        async with self._sessions() as session:
            return await session.get(_WS, tenant)

    async def remove_workspace(self, tenant: str) -> bool:
        async with self._sessions.begin() as session:
            gone = await session.execute(delete(_WS).where(col(_WS.tenant) == tenant))
        return bool(rowcount(gone))

    async def workspace_for_team(self, team_id: str) -> SlackWorkspaceRow | None:
        """Whose workspace ``team_id`` is: a read across tenants (scope ``ALL_TENANTS``)."""
        async with self._sessions() as session:
            found = await session.execute(select(_WS).where(col(_WS.team_id) == team_id))
            return found.scalars().first()

    async def map_user(
        self, tenant: str, slack_user: str, mapping: SlackUserMapping, set_by: str
    ) -> SlackUserRow:
        row = SlackUserRow(
            tenant=tenant,
            slack_user=slack_user,
            subject=mapping.subject,
            groups=mapping.groups,
            set_by=set_by,
        )
        values = row.model_dump()
        async with self._sessions.begin() as session:
            stmt = insert(session, _USER).values(**values)
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[col(_USER.tenant), col(_USER.slack_user)],
                    set_={k: values[k] for k in ("subject", "groups", "set_by", "set_at")},
                )
            )
        return row

    async def user(self, tenant: str, slack_user: str) -> SlackUserRow | None:
        async with self._sessions() as session:
            return await session.get(_USER, (tenant, slack_user))

    async def users(self, tenant: str) -> list[SlackUserRow]:
        stmt = select(_USER).where(col(_USER.tenant) == tenant).order_by(col(_USER.slack_user))
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def unmap_user(self, tenant: str, slack_user: str) -> bool:
        stmt = delete(_USER).where(col(_USER.tenant) == tenant, col(_USER.slack_user) == slack_user)
        async with self._sessions.begin() as session:
            return bool(rowcount(await session.execute(stmt)))

    async def first_time(self, signature: str, expires_at: datetime) -> bool:
        """Remember a request's signature until ``expires_at``; False when it was already
        taken (by this process or another): a replay. Forgets the expired ones on the way."""
        async with self._sessions.begin() as session:
            await session.execute(delete(_SEEN).where(col(_SEEN.expires_at) < utcnow()))
            stmt = (
                insert(session, _SEEN)
                .values(signature=signature, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=[col(_SEEN.signature)])
                .returning(col(_SEEN.signature))
            )
            return (await session.execute(stmt)).scalar() is not None
