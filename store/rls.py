"""PostgreSQL row-level security for every tenant-owned table (SPEC §4), so isolation does
not rest on each query remembering its tenant filter.

The database side of ``store/tenancy.py``:

- ``brain_app`` is the role the API and the workers act as: NOLOGIN, not a superuser, not
  the owner of any table, without BYPASSRLS, so every policy below binds it. The migrating
  user (the tables' owner) is made a member, and the app's engines take the role on at
  connection start (``store/db.py``). Roles are cluster-wide: several Brain databases in one
  cluster share it, each granting it rights on its own tables only.
- Every app table (SQLModel's metadata: the engine's, the webhooks', each process's business
  table) is granted to it; a table with a ``tenant`` column gets RLS and the policy
  ``brain_tenant``: a row is visible and writable when its tenant is the transaction's
  ``brain.tenant`` setting, or when that setting is ``*``, the explicit bypass. Unset (no
  scope) matches nothing. The setting is transaction-local (``set_config(.., true)``).
- ``policies`` and ``policy_changes`` also hold the global ``*`` rows that apply to every
  tenant: ``brain_global_read`` lets any tenant read those, never write them.
- Webhook deliveries carry their subscription's tenant in their own column (the publisher
  copies it), so they follow the same policy.
- The owner is not subject to the policies (no FORCE): migrations see every row.

Applied by migration 0007 and again, idempotently, at the end of every ``migrate()``: a
process table added later is covered even if its migration forgot to call ``protect()``
(which it should, right after ``create_table``). Each run first reads the catalog and
changes only what is missing, so a restart takes no table lock.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, MetaData, text

APP_ROLE = "brain_app"
SETTING = "brain.tenant"
TENANT_POLICY = "brain_tenant"
GLOBAL_READ_POLICY = "brain_global_read"
# Tables whose ``*`` rows are defaults every tenant reads: the global policies and their log.
SHARED_GLOBAL_ROWS = frozenset({"policies", "policy_changes"})
# Read-only for the app: which schema revision it runs on.
_VERSION_TABLE = "alembic_version"

_SCOPE = f"current_setting('{SETTING}', true)"
_VISIBLE = f"tenant = {_SCOPE} OR {_SCOPE} = '*'"
_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"

# Create the role if no database of the cluster has yet; two migrations of two databases
# may race here (their advisory locks are per database), hence the exception handlers.
# From PostgreSQL 16 on, taking a role on needs the SET option of the membership, which the
# automatic grant to the role's creator lacks: ask for it explicitly there.
_ENSURE_ROLE = f"""
DO $$
DECLARE
  pg16 boolean := current_setting('server_version_num')::int >= 160000;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    BEGIN
      CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF pg16 THEN
    -- A separate statement: 'SET' is no privilege name before 16.
    IF NOT pg_has_role(current_user, '{APP_ROLE}', 'SET') THEN
      EXECUTE format('GRANT {APP_ROLE} TO %I WITH SET TRUE', current_user);
    END IF;
  ELSIF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
    EXCEPTION WHEN unique_violation THEN NULL;
    END;
  END IF;
  IF NOT has_schema_privilege('{APP_ROLE}', current_schema(), 'USAGE') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema());
  END IF;
END $$
"""

# Per table: RLS on, its policies, whether the role holds every right on it and on the
# sequences behind its columns.
_STATE = f"""
SELECT c.relname, c.relrowsecurity,
       ARRAY(SELECT polname FROM pg_policy WHERE polrelid = c.oid)::text[],
       has_table_privilege('{APP_ROLE}', c.oid, 'SELECT')
       AND has_table_privilege('{APP_ROLE}', c.oid, 'INSERT')
       AND has_table_privilege('{APP_ROLE}', c.oid, 'UPDATE')
       AND has_table_privilege('{APP_ROLE}', c.oid, 'DELETE')
       AND NOT EXISTS (
         SELECT 1 FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND d.refobjid = c.oid
           AND d.deptype IN ('a', 'i')
           -- CASE: the planner may test the privilege before the join's relkind filter.
           AND CASE WHEN s.relkind = 'S'
                    THEN NOT has_sequence_privilege('{APP_ROLE}', s.oid, 'USAGE') END)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname = ANY(:names)
"""


@dataclass(frozen=True)
class _Table:
    name: str
    rls: bool
    policies: frozenset[str]
    granted: bool


def app_tables(metadata: MetaData | None = None) -> dict[str, bool]:
    """Every app table, mapped to whether it is tenant-owned (has a ``tenant`` column)."""
    if metadata is None:
        # Importing them registers every table, the processes' too (plugins' included).
        from sqlmodel import SQLModel

        import models.slack_tables
        import models.tables
        import models.webhook_tables  # noqa: F401
        from processes import registry

        registry.definitions()
        metadata = SQLModel.metadata
    return {t.name: "tenant" in t.c for t in metadata.sorted_tables}


def ensure_role(conn: Connection) -> None:
    conn.execute(text(_ENSURE_ROLE))


def protect(conn: Connection, table: str, *, tenant_owned: bool = True) -> None:
    """Give the app role its rights on ``table`` and, when ``tenant_owned``, turn on RLS with
    the tenant policy. For a migration that creates a table; safe to repeat."""
    ensure_role(conn)
    state = _states(conn, [table]).get(table)
    if state is None:
        raise LookupError(f"no table {table!r} in the current schema")
    _fix(conn, state, tenant_owned)


def secure(conn: Connection, metadata: MetaData | None = None) -> list[str]:
    """``protect`` every app table that exists; return the names of those it changed."""
    ensure_role(conn)
    tables = app_tables(metadata)
    changed = [
        state.name
        for state in _states(conn, list(tables)).values()
        if _fix(conn, state, tables[state.name])
    ]
    _grant_version_table(conn)
    return changed


def unsecure(conn: Connection, metadata: MetaData | None = None) -> None:
    """Undo ``secure`` on this database. The role stays: other databases may use it."""
    for state in _states(conn, list(app_tables(metadata))).values():
        q = _quote(conn, state.name)
        for policy in state.policies & {TENANT_POLICY, GLOBAL_READ_POLICY}:
            conn.execute(text(f"DROP POLICY {policy} ON {q}"))
        if state.rls:
            conn.execute(text(f"ALTER TABLE {q} DISABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"REVOKE ALL ON {q} FROM {APP_ROLE}"))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {_schema(conn)} FROM {APP_ROLE}"))
    if _exists(conn, _VERSION_TABLE):
        conn.execute(text(f"REVOKE ALL ON {_VERSION_TABLE} FROM {APP_ROLE}"))


def _states(conn: Connection, names: list[str]) -> dict[str, _Table]:
    rows = conn.execute(text(_STATE), {"names": names}).all()
    return {
        name: _Table(name, bool(rls), frozenset(policies or ()), bool(granted))
        for name, rls, policies, granted in rows
    }


def _fix(conn: Connection, state: _Table, tenant_owned: bool) -> bool:
    """Bring one table to what the policy above says; True when anything had to change."""
    q = _quote(conn, state.name)
    wanted = {TENANT_POLICY} if tenant_owned else set()
    if tenant_owned and state.name in SHARED_GLOBAL_ROWS:
        wanted.add(GLOBAL_READ_POLICY)
    missing = wanted - state.policies
    needs_rls = tenant_owned and not state.rls
    if state.granted and not missing and not needs_rls:
        return False
    if not state.granted:
        conn.execute(text(f"GRANT {_RIGHTS} ON {q} TO {APP_ROLE}"))
        for (seq,) in conn.execute(
            text(
                "SELECT quote_ident(s.relname) FROM pg_depend d "
                "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                "WHERE d.classid = 'pg_class'::regclass AND d.refobjid = CAST(:t AS regclass) "
                "AND d.deptype IN ('a', 'i')"
            ),
            {"t": q},
        ):
            conn.execute(text(f"GRANT USAGE, SELECT ON SEQUENCE {seq} TO {APP_ROLE}"))
    if TENANT_POLICY in missing:
        conn.execute(
            text(f"CREATE POLICY {TENANT_POLICY} ON {q} USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")
        )
    if GLOBAL_READ_POLICY in missing:
        conn.execute(
            text(f"CREATE POLICY {GLOBAL_READ_POLICY} ON {q} FOR SELECT USING (tenant = '*')")
        )
    if needs_rls:
        conn.execute(text(f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY"))
    return True


def _grant_version_table(conn: Connection) -> None:
    if _exists(conn, _VERSION_TABLE) and not conn.scalar(
        text(f"SELECT has_table_privilege('{APP_ROLE}', '{_VERSION_TABLE}', 'SELECT')")
    ):
        conn.execute(text(f"GRANT SELECT ON {_VERSION_TABLE} TO {APP_ROLE}"))


def _exists(conn: Connection, table: str) -> bool:
    return conn.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}) is True


def _schema(conn: Connection) -> str:
    return _quote(conn, conn.scalar(text("SELECT current_schema()")))


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)
