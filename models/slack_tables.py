"""Deciding from Slack (SPEC §8 "Slack"): a tenant's Slack workspace, its Slack users' Brain
identities, and the Slack requests already taken (so none is taken twice).

Workspaces and users carry their tenant, and the tenant's reads filter on it. The one read
across tenants is by team id, from a request whose signature is then checked with that
team's secret (``api/slack``).
"""

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.tables import utcnow
from models.timestamps import Timestamp


class SlackWorkspaceRow(SQLModel, table=True):
    """A tenant's Slack app: requests from ``team_id`` are this tenant's, signed with
    ``signing_secret``. One workspace per tenant, one tenant per workspace."""

    __tablename__ = "slack_workspaces"
    __table_args__ = (UniqueConstraint("team_id", name="uq_slack_workspaces_team"),)

    tenant: str = Field(primary_key=True, max_length=128)
    team_id: str = Field(max_length=32)
    # The Slack app's signing secret, read per request; never shown after it is set.
    signing_secret: str = Field(max_length=200)
    set_by: str = Field(max_length=200)
    set_at: Timestamp = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class SlackUserRow(SQLModel, table=True):
    """Who a Slack user is in Brain: the subject and groups a click decides as."""

    __tablename__ = "slack_users"

    tenant: str = Field(primary_key=True, max_length=128)
    slack_user: str = Field(primary_key=True, max_length=32)
    subject: str = Field(max_length=200)
    groups: list[str] = Field(sa_column=Column(JSON, nullable=False))
    set_by: str = Field(max_length=200)
    set_at: Timestamp = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class SlackSeenRequestRow(SQLModel, table=True):
    """A Slack request taken: its signature, until its timestamp leaves the 5-minute window
    (after which the signature check refuses it anyway). The primary key makes a replay, to
    any API process, fail its insert. No tenant column: a signature is no tenant's data,
    and it is written before anything is read in the tenant's name."""

    __tablename__ = "slack_seen_requests"
    __table_args__ = (Index("ix_slack_seen_requests_expires", "expires_at"),)

    signature: str = Field(primary_key=True, max_length=80)
    expires_at: Timestamp = Field(sa_type=DateTime(timezone=True))
