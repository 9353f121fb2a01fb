"""TLS files named by settings (a CA, a client certificate and its key), read and checked
before anything connects with them.

A client certificate that has expired, or a key that belongs to another certificate, shows up
at the server as a refused handshake or a bare HTTP 400 from a proxy; checked here, the error
names the setting, the file and what is wrong with it.

``cryptography`` is imported when a file is read, not with this module: every ``brain``
command imports the connection code, and most never use TLS.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes


class TlsFileError(ValueError):
    """A TLS file named by a setting is missing, unreadable, or not what it should be."""


@dataclass(frozen=True)
class ClientPair:
    cert: bytes
    key: bytes


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise TlsFileError(f"{setting}: cannot read {path}: {err.strerror or err}") from None


def _certificates(data: bytes, path: Path, setting: str) -> "list[x509.Certificate]":
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TlsFileError(f"{setting}: {path} holds no PEM certificate") from None


def read_ca(path: Path, setting: str) -> bytes:
    """The PEM bundle of trusted CAs at ``path``."""
    data = _read(path, setting)
    _certificates(data, path, setting)
    return data


def _subject(cert: "x509.Certificate") -> str:
    return cert.subject.rfc4514_string() or "(no subject)"


def _check_validity(cert: "x509.Certificate", path: Path, setting: str) -> None:
    now = dt.datetime.now(dt.UTC)
    if now > cert.not_valid_after_utc:
        ended = cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        raise TlsFileError(
            f"{setting}: the certificate in {path} ({_subject(cert)}) expired on {ended}; renew it"
        )
    if now < cert.not_valid_before_utc:
        starts = cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        raise TlsFileError(
            f"{setting}: the certificate in {path} ({_subject(cert)}) is not valid before "
            f"{starts} (is this machine's clock right?)"
        )


def _load_key(data: bytes, path: Path, setting: str) -> "PrivateKeyTypes":
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise TlsFileError(
            f"{setting}: the key in {path} is encrypted; Brain needs it unencrypted (protect "
            "the file instead, e.g. a secret mounted with mode 0400)"
        ) from None
    except ValueError:
        raise TlsFileError(f"{setting}: {path} holds no PEM private key") from None


def _public(key: "PublicKeyTypes") -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read_client_pair(
    cert: Path | None, key: Path | None, cert_setting: str, key_setting: str
) -> ClientPair | None:
    """The client certificate and its key (both or neither), checked: in date, and the key
    the one the certificate was issued for."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing, given = (
            (cert_setting, key_setting) if cert is None else (key_setting, cert_setting)
        )
        raise TlsFileError(f"{given} is set but {missing} is not; a client certificate needs both")
    cert_data, key_data = _read(cert, cert_setting), _read(key, key_setting)
    leaf = _certificates(cert_data, cert, cert_setting)[0]
    _check_validity(leaf, cert, cert_setting)
    private = _load_key(key_data, key, key_setting)
    if _public(private.public_key()) != _public(leaf.public_key()):
        raise TlsFileError(
            f"{key_setting}: the key in {key} does not belong to the certificate in {cert} "
            f"({cert_setting}, {_subject(leaf)})"
        )
    return ClientPair(cert_data, key_data)
