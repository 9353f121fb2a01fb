"""Why a connection to Temporal failed, in terms of the ``BRAIN_TEMPORAL_*`` setting to fix.

The SDK reports a failed connect as a ``RuntimeError`` whose text is its Rust core's debug
output (``tonic::transport::Error(...)``). Rather than parse that, a failed connect is
probed again here with Python's ``ssl``, whose errors are typed (OpenSSL's verify codes and
alert reasons): the server's certificate (its CA, its name, its dates), a handshake the
server refused (a client certificate it wants or rejects), a server that does not speak TLS
or one that does when Brain does not. A handshake that succeeds leaves the credentials: the
server, or the proxy in front of it, refused the first call.
"""

import asyncio
import socket
import ssl

from core.settings import Settings
from core.startup import StartupError
from temporal.tls import ADDRESS, API_KEY, CA, CERT, KEY, SERVER_NAME, TemporalTls, host_of

PROBE_TIMEOUT = 5.0
# The HTTP/2 client preface and an empty SETTINGS frame: what a gRPC client sends first. A
# TLS 1.3 server rejects a client certificate (or its absence) only after the handshake, in
# answer to the first bytes it reads.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"

# OpenSSL's X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code).
_NOT_YET_VALID, _EXPIRED = 9, 10
_NAME_MISMATCH = {62, 64}  # host name, IP address
# Alerts (ssl.SSLError.reason) with which a server refuses the client's certificate.
_CLIENT_CERT_REFUSED = {
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_REVOKED",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    "TLSV1_ALERT_UNKNOWN_CA",
    "TLSV1_ALERT_ACCESS_DENIED",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
}
# What OpenSSL says when the peer answers the ClientHello with something other than TLS.
_NOT_TLS = {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE"}


class TemporalConnectError(StartupError):
    """Brain could not connect to Temporal; the message names the setting to look at."""


def _split(address: str) -> tuple[str, int]:
    host = host_of(address)
    port = address.rsplit(":", 1)[1] if ":" in address else "7233"
    return host, int(port)


async def explain(settings: Settings, tls: TemporalTls, cause: BaseException) -> str:
    """One message for the operator: what failed and which setting to change."""
    where = f"Temporal at {settings.temporal_address}"
    try:
        host, port = _split(settings.temporal_address)
    except ValueError:
        return f"{ADDRESS} must be host:port, not {settings.temporal_address!r}"
    if tls.enabled:
        found = await asyncio.to_thread(_probe_tls, settings, tls, host, port)
    else:
        found = await asyncio.to_thread(_probe_plain, settings, host, port)
    if found is not None:
        return f"cannot connect to {where}: {found}"
    sdk = str(cause)[:400]
    if not tls.enabled:
        return f"cannot connect to {where} ({ADDRESS}): {sdk}"
    return (
        f"cannot connect to {where}: the TLS handshake succeeded, then the server (or a proxy "
        f"in front of it) refused or failed Brain's first call; {_credentials_hint(settings, tls)}"
        f" (Temporal SDK: {sdk})"
    )


def _credentials_hint(settings: Settings, tls: TemporalTls) -> str:
    api_key = settings.temporal_api_key is not None
    if tls.client_cert and api_key:
        return f"check the client certificate ({CERT}) and the API key ({API_KEY})"
    if tls.client_cert:
        return (
            f"is the client certificate ({CERT}) signed by a CA the server trusts? Or does it "
            f"want an API key ({API_KEY})?"
        )
    if api_key:
        return (
            f"is the API key ({API_KEY}) right, unexpired and for namespace "
            f"{settings.temporal_namespace}? Or does it want a client certificate ({CERT} and "
            f"{KEY})?"
        )
    return (
        f"it probably wants credentials: a client certificate ({CERT} and {KEY}) or an API key "
        f"({API_KEY})"
    )


def _reach(host: str, port: int) -> tuple[socket.socket | None, str | None]:
    try:
        return socket.create_connection((host, port), timeout=PROBE_TIMEOUT), None
    except OSError as err:
        return None, f"nothing answers there ({ADDRESS}): {err.strerror or err}"


def _probe_plain(settings: Settings, host: str, port: int) -> str | None:
    sock, unreachable = _reach(host, port)
    if sock is None:
        return unreachable
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with context.wrap_socket(sock, server_hostname=host):
            pass
    except (ssl.SSLError, OSError):
        return None  # not TLS either: the SDK's own message is the best there is
    return (
        f"it speaks TLS and Brain does not: set BRAIN_TEMPORAL_TLS=true, with {CA} if its "
        "certificate is not from a CA this machine trusts"
    )


def _probe_tls(settings: Settings, tls: TemporalTls, host: str, port: int) -> str | None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if tls.ca is not None:
        context.load_verify_locations(cadata=tls.ca.decode())
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if tls.client_cert:
        context.load_cert_chain(str(settings.temporal_tls_cert), str(settings.temporal_tls_key))
    context.set_alpn_protocols(["h2"])
    sock, unreachable = _reach(host, port)
    if sock is None:
        return unreachable
    try:
        with context.wrap_socket(sock, server_hostname=tls.server_name) as conn:
            conn.sendall(_H2_PREFACE)
            conn.recv(1)
    except ssl.SSLCertVerificationError as err:
        return _server_certificate(settings, tls, err)
    except ssl.SSLError as err:
        return _refused_handshake(settings, tls, err)
    except OSError:
        return None  # closed or silent after the handshake: not a TLS matter
    return None


def _server_certificate(
    settings: Settings, tls: TemporalTls, err: ssl.SSLCertVerificationError
) -> str:
    said = err.verify_message
    if err.verify_code in _NAME_MISMATCH:
        named_by = (
            SERVER_NAME
            if settings.temporal_tls_server_name
            else f"the host of {ADDRESS}; set {SERVER_NAME} to a name it holds"
        )
        return f"its certificate is not valid for the name {tls.server_name} ({named_by})"
    if err.verify_code == _EXPIRED:
        return (
            f"its certificate has expired ({said}): renew it on the server, or point {ADDRESS} "
            "at one whose certificate is current"
        )
    if err.verify_code == _NOT_YET_VALID:
        return f"its certificate is not valid yet ({said}); is this machine's clock right?"
    if settings.temporal_tls_ca is not None:
        return (
            f"its certificate is not signed by the CA in {CA} ({settings.temporal_tls_ca}): {said}"
        )
    return f"its certificate is not signed by a CA this machine trusts ({said}); set {CA}"


def _refused_handshake(settings: Settings, tls: TemporalTls, err: ssl.SSLError) -> str:
    reason = err.reason or str(err)
    if reason in _NOT_TLS:
        return (
            "it does not speak TLS there: unset BRAIN_TEMPORAL_TLS and the "
            f"BRAIN_TEMPORAL_TLS_* settings, or point {ADDRESS} at its TLS port"
        )
    if reason in _CLIENT_CERT_REFUSED:
        if tls.client_cert:
            return f"it refused the client certificate in {CERT} ({reason})"
        return f"it requires a client certificate: set {CERT} and {KEY} ({reason})"
    return f"the TLS handshake failed ({reason})"
