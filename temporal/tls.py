"""How Brain reaches Temporal: TLS on or off, with which CA, client certificate and server
name, from ``BRAIN_TEMPORAL_*``; the files read and checked before any connection."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from temporalio.client import TLSConfig

from core.pem_files import read_ca, read_client_pair
from core.settings import Settings

CA = "BRAIN_TEMPORAL_TLS_CA"
CERT = "BRAIN_TEMPORAL_TLS_CERT"
KEY = "BRAIN_TEMPORAL_TLS_KEY"
SERVER_NAME = "BRAIN_TEMPORAL_TLS_SERVER_NAME"
ADDRESS = "BRAIN_TEMPORAL_ADDRESS"
API_KEY = "BRAIN_TEMPORAL_API_KEY"


@dataclass(frozen=True)
class TemporalTls:
    """What ``Client.connect`` gets (``tls``), and what a diagnosis needs to say why it failed."""

    enabled: bool
    config: TLSConfig | None
    ca: bytes | None
    client_cert: bool
    server_name: str


def host_of(address: str) -> str:
    return urlsplit(f"//{address}").hostname or address


def temporal_tls(settings: Settings) -> TemporalTls:
    """Raises ``TlsFileError`` naming the setting when a file is missing or wrong."""
    ca = read_ca(settings.temporal_tls_ca, CA) if settings.temporal_tls_ca else None
    pair = read_client_pair(settings.temporal_tls_cert, settings.temporal_tls_key, CERT, KEY)
    server_name = settings.temporal_tls_server_name or host_of(settings.temporal_address)
    # Any TLS detail turns TLS on; so does an API key (Temporal Cloud speaks only TLS, and a
    # key sent in clear would be a key given away).
    details = ca is not None or pair is not None or settings.temporal_tls_server_name
    enabled = bool(settings.temporal_tls or details or settings.temporal_api_key is not None)
    config = None
    if details:
        config = TLSConfig(
            server_root_ca_cert=ca,
            domain=settings.temporal_tls_server_name,
            client_cert=pair.cert if pair else None,
            client_private_key=pair.key if pair else None,
        )
    return TemporalTls(enabled, config, ca, pair is not None, server_name)
