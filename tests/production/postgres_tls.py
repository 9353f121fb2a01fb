"""A PostgreSQL server of the test's own, with ``ssl = on`` and a certificate from the test CA:
Debian's ``initdb`` and ``pg_ctl`` in a temporary directory, on a free port.

Only TLS connections from 127.0.0.1 are let in, and they need both the password and a client
certificate for the user (``clientcert=verify-full``): a client that leaves out any of TLS,
the password or the certificate is refused. initdb refuses to run as root, so as root the
server runs as the ``postgres`` OS user (``runuser``), in a directory that user owns.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.production.pki import Authority, Issued

USER = "postgres"


def _bin(name: str) -> str:
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise AssertionError(
            f"PostgreSQL's {name} is missing (/usr/lib/postgresql/*/bin): apt-get install "
            "postgresql (README, Two commands)"
        )
    return str(versions[-1])


def _as_server_user(args: list[str]) -> list[str]:
    # initdb and postgres refuse root; the package's own user owns its files.
    return ["runuser", "-u", USER, "--", *args] if os.geteuid() == 0 else args


@dataclass(frozen=True)
class TlsPostgres:
    port: int
    password: str
    client: Issued  # a certificate for USER, from the test CA

    def url(self, database: str = "postgres", host: str = "127.0.0.1") -> str:
        """Without the password and TLS settings: the caller adds those."""
        return f"postgresql+asyncpg://{USER}@{host}:{self.port}/{database}"


@contextlib.contextmanager
def tls_postgres(authority: Authority, port: int, password: str) -> Iterator[TlsPostgres]:
    home = Path(tempfile.mkdtemp(prefix="brain-pg-tls-"))
    data = home / "data"
    try:
        # 127.0.0.1 only: connecting as "localhost" passes verify-ca and fails verify-full.
        server = authority.issue("pg-server", "127.0.0.1", ips=("127.0.0.1",))
        client = authority.issue("pg-client", USER, client=True)
        (home / "pwfile").write_text(password + "\n")
        for name, source in (
            ("server.crt", server.cert),
            ("server.key", server.key),
            ("root.crt", authority.cert),
        ):
            shutil.copy(source, home / name)
        if os.geteuid() == 0:
            shutil.chown(home, USER, USER)
            for path in home.iterdir():
                shutil.chown(path, USER, USER)
        _run(
            [
                _bin("initdb"), "-D", str(data), "-U", USER, "--pwfile", str(home / "pwfile"),
                "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8",
            ]
        )  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                f"unix_socket_directories = '{home}'\n"
                f"ssl = on\nssl_cert_file = '{home / 'server.crt'}'\n"
                f"ssl_key_file = '{home / 'server.key'}'\nssl_ca_file = '{home / 'root.crt'}'\n"
                "fsync = off\nshared_buffers = 16MB\nmax_connections = 100\n"
            )
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-full\n"
            "hostnossl all all 127.0.0.1/32 reject\n"
        )
        _run([_bin("pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w", "-t", "60", "start"])
        try:
            yield TlsPostgres(port, password, client)
        finally:
            _run([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run(args: list[str], *, check: bool = True) -> None:
    done = subprocess.run(_as_server_user(args), capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
