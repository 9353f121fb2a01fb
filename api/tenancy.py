"""Each request acts as its caller's tenant under PostgreSQL's row-level security
(``store/tenancy.py``, ``store/rls.py``): a query that forgets its tenant filter still sees
only the caller's rows.

``TenantScopeReset`` opens an empty scope around every request, so nothing is inherited
from whatever runs the app (an in-process test client runs it in the caller's task) and a
request that never authenticates sees no tenant's rows. ``bind_principal``, called by the
dependency that authenticates the caller, binds the tenant inside that scope: the
dependency and the endpoint run in the request's task, so the endpoint and everything it
awaits see it.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import Principal
from models.roles import Role
from store.tenancy import ALL_TENANTS, NO_TENANT, bind_tenant, tenant_scope


def bind_principal(principal: Principal) -> None:
    # A super admin may read and change any tenant (``Principal.can_see``, global policies):
    # its requests take the explicit bypass, whatever tenant its token names.
    bind_tenant(ALL_TENANTS if principal.role is Role.super_admin else principal.tenant)


class TenantScopeReset:
    """Pure ASGI: a ``BaseHTTPMiddleware`` would run the request in another task."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        with tenant_scope(NO_TENANT):
            await self.app(scope, receive, send)
