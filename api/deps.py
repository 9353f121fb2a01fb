"""FastAPI dependencies: the app's state, the caller and their role, the rate limit."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import Principal
from api.errors import Forbidden, Unauthorized
from api.state import AppState
from api.tenancy import bind_principal
from api.tokens import TokenVerifier
from core.settings import Settings
from models.roles import Role
from store.policies import PolicyStore

# auto_error off: a missing header is our 401 in our error format, not FastAPI's.
_bearer = HTTPBearer(
    auto_error=False,
    description="JWT: HS256 with sub, tenant, role, exp; or the identity provider's (OIDC)",
)


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop per dependency per request for nothing.
async def get_state(request: Request) -> AppState:
    # Set by the lifespan (api/app.py); Starlette's ``app.state`` is untyped.
    return cast(AppState, request.app.state.brain)


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_client(state: StateDep) -> Client:
    return state.client


async def get_sessions(state: StateDep) -> async_sessionmaker[AsyncSession]:
    return state.sessions


async def get_policies(state: StateDep) -> PolicyStore:
    return state.policies


ClientDep = Annotated[Client, Depends(get_client)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]
PoliciesDep = Annotated[PolicyStore, Depends(get_policies)]


async def get_verifier(request: Request) -> TokenVerifier:
    """Built once per app from the settings (it holds the identity provider's keys): by
    create_app(), or here for an app assembled without it (tests of one router)."""
    verifier = getattr(request.app.state, "verifier", None)
    if verifier is None:
        verifier = request.app.state.verifier = TokenVerifier(request.app.state.settings)
    return cast(TokenVerifier, verifier)


async def get_principal(
    request: Request,
    state: StateDep,
    settings: SettingsDep,
    verifier: Annotated[TokenVerifier, Depends(get_verifier)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    address = request.client.host if request.client else "unknown"
    state.auth_failures.check(address)
    try:
        if credentials is None:
            raise Unauthorized("missing bearer token")
        principal = await verifier.verify(credentials.credentials)
    except Unauthorized:
        await state.auth_failures.failed(address, settings.auth_failures_per_minute)
        raise
    await state.limiter.hit(principal.tenant, principal.sub)
    # From here on the request's queries see this caller's tenant only (row-level security).
    bind_principal(principal)
    return principal


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role < role:
            raise Forbidden(f"needs role {role.name} or above; the token has {principal.role.name}")
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Operator = Annotated[Principal, Depends(require(Role.operator))]
Approver = Annotated[Principal, Depends(require(Role.approver))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
SuperAdmin = Annotated[Principal, Depends(require(Role.super_admin))]
