"""PostgreSQL over TLS (BRAIN_DATABASE_SSL_MODE and its CA, client certificate and key; the
password from BRAIN_DATABASE_PASSWORD_FILE), for the app's engines and Alembic's alike,
against a server of the module's own that speaks only TLS and wants a client certificate
(tests/production/postgres_tls.py)."""

import asyncio
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from core.settings import Settings, describe_invalid
from store.connect_errors import DatabaseConnectError, checked_migrate
from store.db import make_engine
from tests.cli.conftest import BRAIN, clean_env, run_cmd
from tests.production.conftest import DB_PASSWORD, Secrets
from tests.production.pki import Authority
from tests.production.postgres_tls import TlsPostgres

ALEMBIC = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "alembic"
REPO = Path(__file__).resolve().parents[2]


def _settings(pg: TlsPostgres, authority: Authority, **changes: object) -> Settings:
    values: dict[str, object] = {
        "database_url": pg.url(),
        "database_password": DB_PASSWORD,
        "database_ssl_mode": "verify-full",
        "database_ssl_ca": authority.cert,
        "database_ssl_cert": pg.client.cert,
        "database_ssl_key": pg.client.key,
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def _encrypted(settings: Settings) -> bool:
    """Migrated (checked_migrate, as `brain worker` and `brain api` start), then asked
    whether this very connection is encrypted."""
    await checked_migrate(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url, app_role=False)
    try:
        async with engine.connect() as conn:
            query = text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            return bool((await conn.execute(query)).scalar())
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="verify-full"),
        # The certificate holds 127.0.0.1 only: verify-ca does not check the host name.
        pytest.param({"database_ssl_mode": "verify-ca", "host": "localhost"}, id="verify-ca"),
        # Encrypted, the server's certificate not checked.
        pytest.param({"database_ssl_mode": "require", "database_ssl_ca": None}, id="require"),
    ],
)
async def test_tls_modes_that_connect(
    changes: dict[str, object], tls_pg: TlsPostgres, authority: Authority
) -> None:
    changes = dict(changes)
    if host := changes.pop("host", None):
        changes["database_url"] = tls_pg.url(host=str(host))
    assert await _encrypted(_settings(tls_pg, authority, **changes))


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("wrong CA under verify-full", "BRAIN_DATABASE_SSL_CA"),
        ("host the certificate does not hold, verify-full", "verify-full"),
        ("TLS disabled", "BRAIN_DATABASE_SSL_MODE"),
        ("no client certificate", "BRAIN_DATABASE_SSL_CERT"),
        ("wrong password", "BRAIN_DATABASE_PASSWORD"),
        ("client key file missing", "BRAIN_DATABASE_SSL_KEY"),
    ],
)
async def test_refused_connections_name_the_setting(
    case: str,
    named: str,
    tls_pg: TlsPostgres,
    authority: Authority,
    other_authority: Authority,
    tmp_path: Path,
) -> None:
    cases: dict[str, dict[str, object]] = {
        "wrong CA under verify-full": {"database_ssl_ca": other_authority.cert},
        "host the certificate does not hold, verify-full": {
            "database_url": tls_pg.url(host="localhost")
        },
        "TLS disabled": {
            "database_ssl_mode": "disable",
            "database_ssl_ca": None,
            "database_ssl_cert": None,
            "database_ssl_key": None,
        },
        "no client certificate": {"database_ssl_cert": None, "database_ssl_key": None},
        "wrong password": {"database_password": "not-" + DB_PASSWORD},
        "client key file missing": {"database_ssl_key": tmp_path / "nowhere.pem"},
    }
    changes = cases[case]
    with pytest.raises(DatabaseConnectError) as raised:
        await checked_migrate(_settings(tls_pg, authority, **changes).effective_database_url)
    message = str(raised.value)
    assert named in message, message
    assert DB_PASSWORD not in message


async def _create_database(pg: TlsPostgres, authority: Authority, name: str) -> None:
    admin = make_engine(_settings(pg, authority).effective_database_url, app_role=False)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def _revision(pg: TlsPostgres, authority: Authority, name: str) -> str | None:
    url = _settings(pg, authority, database_url=pg.url(name)).effective_database_url
    engine = make_engine(url, app_role=False)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()


async def test_alembic_and_brain_migrate_upgrade_over_tls_with_the_password_from_a_file(
    tls_pg: TlsPostgres, authority: Authority, secrets: Secrets
) -> None:
    """`alembic -c store/alembic.ini upgrade head` by hand (store/migrations/env.py) and
    `brain migrate` (a deployment's first step), each on a new database, configured as an
    operator would: the URL, the password file and the TLS settings from BRAIN_*."""
    by_alembic, by_brain = (f"{kind}_{uuid.uuid4().hex[:8]}" for kind in ("alembic", "brain"))
    for name in (by_alembic, by_brain):
        await _create_database(tls_pg, authority, name)

    def env(name: str) -> dict[str, str]:
        return clean_env() | {
            "BRAIN_DATABASE_URL": tls_pg.url(name),
            "BRAIN_DATABASE_PASSWORD_FILE": str(secrets.db_password),
            "BRAIN_DATABASE_SSL_MODE": "verify-full",
            "BRAIN_DATABASE_SSL_CA": str(authority.cert),
            "BRAIN_DATABASE_SSL_CERT": str(tls_pg.client.cert),
            "BRAIN_DATABASE_SSL_KEY": str(tls_pg.client.key),
        }

    alembic, brain = await asyncio.gather(
        run_cmd(
            ALEMBIC, "-c", "store/alembic.ini", "upgrade", "head", env=env(by_alembic), cwd=REPO
        ),
        run_cmd(BRAIN, "migrate", env=env(by_brain), cwd=REPO),
    )
    assert alembic.code == 0, alembic.err
    assert brain.code == 0, brain.err
    head = brain.json()["revision"]
    assert head and await _revision(tls_pg, authority, by_alembic) == head
    assert await _revision(tls_pg, authority, by_brain) == head
    for done in (alembic, brain):
        assert DB_PASSWORD not in done.out + done.err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("not a url", "BRAIN_DATABASE_URL is not a database URL"),
        (f"postgresql+asyncpg://u:{DB_PASSWORD}@h/db?sslmode=require", "already sets sslmode"),
    ],
)
def test_a_database_url_that_does_not_parse_or_clashes_is_refused_without_showing_it(
    url: str, said: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(
            _env_file=None,
            database_url=url,
            database_ssl_mode="verify-full",
        )
    message = describe_invalid(raised.value)
    assert said in message and DB_PASSWORD not in message
