"""TLS to PostgreSQL from libpq's URL parameters, for the driver (asyncpg).

``Settings.effective_database_url`` puts ``BRAIN_DATABASE_SSL_*`` into the URL as libpq's
``sslmode``, ``sslrootcert``, ``sslcert`` and ``sslkey`` (a URL may also carry them itself);
SQLAlchemy would hand them to asyncpg as keyword arguments it does not take, so ``make_engine``
takes them out and passes the TLS context they describe instead. The app's engines and
Alembic's (store/migrations/env.py) are built the same way, so both speak TLS alike.

Modes, as libpq's: ``disable``; ``allow`` and ``prefer`` (the driver's own handling: TLS if the
server offers it, unverified); ``require`` (encrypted; verified against the CA when one is
given, as libpq does); ``verify-ca`` (the server's certificate chains to the CA: the given
one, else the system's); ``verify-full`` (and holds the host name connected to). Without a
mode, a CA means ``verify-full`` and a client certificate alone ``require``: asking for
either and getting less would be a surprise.
"""

import ssl
from pathlib import Path

from sqlalchemy.engine import URL

from core.pem_files import read_ca, read_client_pair

# URL parameter -> the setting that sets it (named in errors).
SSL_PARAMS = {
    "sslmode": "BRAIN_DATABASE_SSL_MODE",
    "sslrootcert": "BRAIN_DATABASE_SSL_CA",
    "sslcert": "BRAIN_DATABASE_SSL_CERT",
    "sslkey": "BRAIN_DATABASE_SSL_KEY",
}
MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

SslArg = bool | str | ssl.SSLContext


def _param(url: URL, name: str) -> str | None:
    value = url.query.get(name)
    if isinstance(value, tuple):
        raise ValueError(f"the database URL sets {name} more than once")
    return value


def split_ssl(url: URL) -> tuple[URL, SslArg | None]:
    """``url`` without the TLS parameters, and asyncpg's ``ssl`` argument (None: none given,
    the driver's default)."""
    params = {name: _param(url, name) for name in SSL_PARAMS if name in url.query}
    if not params:
        return url, None
    stripped = url.difference_update_query(list(params))
    ca, cert, key = params.get("sslrootcert"), params.get("sslcert"), params.get("sslkey")
    mode = params.get("sslmode") or ("verify-full" if ca else "require")
    if mode not in MODES:
        raise ValueError(
            f"sslmode ({SSL_PARAMS['sslmode']}) is {mode!r}; one of {', '.join(MODES)}"
        )
    if mode == "disable":
        return stripped, False
    if mode in ("allow", "prefer"):
        if ca or cert or key:
            raise ValueError(
                f"sslmode={mode} neither verifies the server nor sends a client certificate; "
                f"set {SSL_PARAMS['sslmode']} to require, verify-ca or verify-full"
            )
        return stripped, mode
    return stripped, _context(mode, ca, cert, key)


def _context(mode: str, ca: str | None, cert: str | None, key: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = mode == "verify-full"
    if mode == "require" and not ca:
        context.verify_mode = ssl.CERT_NONE
    elif ca:
        context.load_verify_locations(cadata=read_ca(Path(ca), SSL_PARAMS["sslrootcert"]).decode())
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    pair = read_client_pair(
        Path(cert) if cert else None,
        Path(key) if key else None,
        SSL_PARAMS["sslcert"],
        SSL_PARAMS["sslkey"],
    )
    if pair is not None:
        # Checked above (in date, matching); the context loads from the files themselves.
        context.load_cert_chain(str(cert), str(key))
    return context
