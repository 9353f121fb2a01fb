"""Which tenants an admin read covers (SPEC §4): an admin its own tenant, a super admin any
tenant it names, or ``*``."""

from typing import Annotated

from fastapi import Query

from api.auth import TENANT_PATTERN, Principal
from api.errors import Forbidden
from models.hitl import GLOBAL_TENANT
from models.roles import Role

TenantFilter = Annotated[
    str | None,
    Query(
        pattern=r"^(\*|" + TENANT_PATTERN.pattern[1:-1] + r")$",
        description="Super admin: another tenant, or `*`",
    ),
]


def insight_tenant(principal: Principal, asked: str | None) -> str:
    """The tenant whose decisions to read; ``*`` (super admin only) is every tenant."""
    if principal.role is Role.super_admin:
        return asked or principal.tenant
    if asked not in (None, principal.tenant):
        raise Forbidden("only a super admin may read another tenant's insights")
    return principal.tenant


def list_tenant(principal: Principal, asked: str | None) -> str | None:
    """The tenant a list or the inbox covers (SPEC §4): the caller's own; a super admin may
    name another, or ``*`` for every tenant (``None`` here)."""
    if asked is not None and asked != principal.tenant and principal.role is not Role.super_admin:
        raise Forbidden("only a super admin may list another tenant's runs")
    if asked == GLOBAL_TENANT:
        return None
    return asked or principal.tenant


def change_log_tenants(principal: Principal, asked: str | None) -> list[str] | None:
    """The tenants whose policy changes to list (``None``: every one). An admin sees its
    own tenant's and the global rows' (``*``), which apply to it too; a super admin sees
    every change, or one tenant's (``*``: the global rows')."""
    if principal.role is Role.super_admin:
        return None if asked is None else [asked]
    own = [principal.tenant, GLOBAL_TENANT]
    if asked is None:
        return own
    if asked not in own:
        raise Forbidden("only a super admin may read another tenant's policy changes")
    return [asked]
