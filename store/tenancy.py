"""Whose rows the current code may touch: the tenant that PostgreSQL's row-level security
checks (``store/rls.py``), carried in a context variable from the entry point that knows it
down to the engine, which hands it to the database at every BEGIN (``store/db.py``).

- ``tenant_scope(tenant)``: for a block (an activity, a CLI command, a test).
- ``bind_tenant(tenant)``: for the rest of the current context, when the caller has already
  opened a scope that ends with it (an API request: ``api/tenancy.py``).
- No scope is the empty tenant: every tenant-owned table looks empty and refuses writes.
- ``ALL_TENANTS`` (``*``) is the explicit bypass, for the few paths that are cross-tenant
  by design (the policy broadcast, reconciliation, super admins, the CLI's ops commands).

A context variable, not an argument threaded through every store function: asyncio copies
it into the tasks a scope starts, and SQLAlchemy runs its sync event handlers in a greenlet
that shares the calling task's context, so the handler at BEGIN reads the caller's value
(``tests/store/test_rls.py`` proves both). SQLite ignores it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# The same spelling as the global policy rows (``models.hitl.GLOBAL_TENANT``): a super admin
# whose token says ``*`` acts on every tenant.
ALL_TENANTS = "*"
NO_TENANT = ""

_tenant: ContextVar[str] = ContextVar("brain_tenant", default=NO_TENANT)


def current_tenant() -> str:
    return _tenant.get()


@contextmanager
def tenant_scope(tenant: str) -> Iterator[None]:
    """Act as ``tenant`` inside the block (``ALL_TENANTS``: every tenant, ``NO_TENANT``: none)."""
    token = _tenant.set(_checked(tenant))
    try:
        yield
    finally:
        _tenant.reset(token)


def bind_tenant(tenant: str) -> None:
    """Act as ``tenant`` until the enclosing ``tenant_scope`` ends. Only for code that runs
    inside a scope it does not own, such as a FastAPI dependency inside the request's scope."""
    _tenant.set(_checked(tenant))


def _checked(tenant: str) -> str:
    if not isinstance(tenant, str) or len(tenant) > 128:
        raise ValueError(f"not a tenant: {tenant!r}")
    return tenant
