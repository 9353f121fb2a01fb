"""Production's parts, real and local: a test CA, nginx fronting the session's dev server with
TLS, mTLS and an API key (tests/production/nginx.py), a PostgreSQL of the module's own that
speaks only TLS (tests/production/postgres_tls.py), secrets in files, and ``brain``
processes configured by them. Everything a module starts it stops: nothing is left behind."""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from store.db import migrate
from tests.cli.conftest import BRAIN, clean_env
from tests.cli.procs import free_ports
from tests.production.nginx import API_KEY, Fronts, grpc_fronts
from tests.production.pki import Authority
from tests.production.postgres_tls import TlsPostgres, tls_postgres

DB_PASSWORD = "pg-secret-b1c2d3e4f5"
JWT_SECRET = "jwt-secret-from-a-file-" + "5a6b7c8d" * 4
STOP_WITHIN = 15


@dataclass(frozen=True)
class Secrets:
    """Each secret in a file of its own, as Kubernetes mounts them; ``values`` for checking
    that none leaks."""

    jwt_secret: Path
    api_key: Path
    db_password: Path

    @property
    def values(self) -> tuple[str, ...]:
        return (JWT_SECRET, API_KEY, DB_PASSWORD)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def other_authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """A CA that signed nothing the servers present: the wrong CA."""
    return Authority(tmp_path_factory.mktemp("other-pki"), "Some Other CA")


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Secrets:
    home = tmp_path_factory.mktemp("secrets")
    files = Secrets(home / "jwt_secret", home / "temporal_api_key", home / "db_password")
    # A trailing newline, as `echo ... > file` leaves: the loader strips it.
    for path, value in zip(
        (files.jwt_secret, files.api_key, files.db_password), files.values, strict=True
    ):
        path.write_text(value + "\n")
        path.chmod(0o400)
    return files


@pytest.fixture(scope="module")
def fronts(
    temporal_env: WorkflowEnvironment,
    authority: Authority,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fronts]:
    upstream = temporal_env.client.service_client.config.target_host
    with grpc_fronts(authority, upstream, tmp_path_factory.mktemp("nginx")) as started:
        yield started


@pytest.fixture(scope="module")
def tls_pg(authority: Authority) -> Iterator[TlsPostgres]:
    (port,) = free_ports(1)
    with tls_postgres(authority, port, DB_PASSWORD) as pg:
        yield pg


def database_env(pg: TlsPostgres, authority: Authority, secrets: Secrets) -> dict[str, str]:
    """``BRAIN_*`` for the TLS PostgreSQL: verify-full, a client certificate, the password
    from a file."""
    return {
        "BRAIN_DATABASE_URL": pg.url(),
        "BRAIN_DATABASE_PASSWORD_FILE": str(secrets.db_password),
        "BRAIN_DATABASE_SSL_MODE": "verify-full",
        "BRAIN_DATABASE_SSL_CA": str(authority.cert),
        "BRAIN_DATABASE_SSL_CERT": str(pg.client.cert),
        "BRAIN_DATABASE_SSL_KEY": str(pg.client.key),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def migrated(tls_pg: TlsPostgres, authority: Authority, secrets: Secrets) -> TlsPostgres:
    """The TLS PostgreSQL with Brain's schema, migrated once (over TLS) before any process
    starts, so the processes' own migrations find it at head."""
    from core.settings import Settings

    env = database_env(tls_pg, authority, secrets)
    settings = Settings(
        _env_file=None,
        database_url=env["BRAIN_DATABASE_URL"],
        database_password=SecretStr(DB_PASSWORD),
        database_ssl_mode="verify-full",
        database_ssl_ca=authority.cert,
        database_ssl_cert=tls_pg.client.cert,
        database_ssl_key=tls_pg.client.key,
    )
    await migrate(settings.effective_database_url)
    return tls_pg


@dataclass
class Proc:
    """A ``brain`` command running in the background, its output in ``log``."""

    name: str
    proc: asyncio.subprocess.Process
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def spawn(name: str, args: list[str], env: dict[str, str], home: Path) -> Proc:
    log = home / f"{name}.log"
    # A file, not a pipe: a pipe nobody reads would block the process's logging.
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(BRAIN), *args, stdout=out, stderr=asyncio.subprocess.STDOUT,
            env=clean_env() | env, cwd=home,
        )  # fmt: skip
    return Proc(name, proc, log)


async def stop(procs: list[Proc]) -> None:
    """SIGTERM, then SIGKILL whatever has not ended within its stop bound."""
    for p in procs:
        if p.proc.returncode is None:
            p.proc.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            await asyncio.wait_for(p.proc.wait(), STOP_WITHIN)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                p.proc.kill()
            await p.proc.wait()


@contextlib.asynccontextmanager
async def running(procs: list[Proc]) -> AsyncIterator[list[Proc]]:
    try:
        yield procs
    finally:
        await stop(procs)
