"""Why a connection to PostgreSQL failed, in terms of the ``BRAIN_DATABASE_*`` setting to fix.

The driver's errors are typed: Python's ``ssl`` errors for the server's certificate and the
handshake, PostgreSQL's SQLSTATE for what the server refused (28P01: the password; 28000:
pg_hba.conf, which is where TLS and client certificates are demanded), and ``OSError`` for a
host that does not answer.
"""

import ssl
from collections.abc import Iterator

from sqlalchemy.engine import make_url

from core.pem_files import TlsFileError
from core.startup import StartupError
from store.db import migrate

URL = "BRAIN_DATABASE_URL"
PASSWORD = "BRAIN_DATABASE_PASSWORD"
MODE = "BRAIN_DATABASE_SSL_MODE"
CA = "BRAIN_DATABASE_SSL_CA"
CERT = "BRAIN_DATABASE_SSL_CERT"
KEY = "BRAIN_DATABASE_SSL_KEY"

_NOT_YET_VALID, _EXPIRED = 9, 10
_NAME_MISMATCH = {62, 64}


class DatabaseConnectError(StartupError):
    """Brain could not connect to its database; the message names the setting to look at."""


async def checked_migrate(url: str) -> None:
    """``store.db.migrate``, its connection failures raised as ``DatabaseConnectError``."""
    try:
        await migrate(url)
    except Exception as err:
        if (why := explain(err, url)) is None:
            raise
        raise DatabaseConnectError(why) from err


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's
        todo += [orig if isinstance(orig, BaseException) else None]
        todo += [current.__cause__, current.__context__]


def explain(err: BaseException, url: str) -> str | None:
    """A message for the operator, or None when ``err`` is not about connecting."""
    parsed = make_url(url)
    where = f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}"
    ca = parsed.query.get("sslrootcert")
    for e in _chain(err):
        if isinstance(e, TlsFileError):
            return str(e)
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"cannot connect to {where}: {_server_certificate(e, parsed.host, ca)}"
        if isinstance(e, ssl.SSLError):
            return (
                f"cannot connect to {where}: the TLS handshake failed ({e.reason or e}); check "
                f"the client certificate ({CERT}, {KEY})"
            )
        state = getattr(e, "sqlstate", None)
        if state == "28P01":
            return (
                f"cannot connect to {where}: it refused the password ({PASSWORD}, or the one in "
                f"{URL}): {e}"
            )
        if state == "28000":
            return (
                f"cannot connect to {where}: it refused the connection ({e}); it may demand TLS "
                f"({MODE}) or a client certificate ({CERT} and {KEY})"
            )
        if isinstance(e, ConnectionError) and "SSL" in str(e):
            return f"cannot connect to {where}: it does not offer TLS, which {MODE} demands ({e})"
        if isinstance(e, OSError):
            return f"cannot connect to {where} ({URL}): {e.strerror or e}"
    return None


def _server_certificate(err: ssl.SSLCertVerificationError, host: str | None, ca: object) -> str:
    if err.verify_code in _NAME_MISMATCH:
        return (
            f"its certificate is not valid for the host {host} ({URL}'s host, checked under "
            f"{MODE}=verify-full; connect by a name the certificate holds, or use verify-ca)"
        )
    if err.verify_code == _EXPIRED:
        return f"its certificate has expired ({err.verify_message}); renew it on the server"
    if err.verify_code == _NOT_YET_VALID:
        return f"its certificate is not valid yet ({err.verify_message})"
    if ca:
        return f"its certificate is not signed by the CA in {CA} ({ca}): {err.verify_message}"
    return (
        f"its certificate is not signed by a CA this machine trusts ({err.verify_message}); "
        f"set {CA}"
    )
