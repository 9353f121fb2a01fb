"""Standard Webhooks signing, with the specification's own library (``standardwebhooks``).

``webhook-signature`` is ``v1,`` + base64 HMAC-SHA256 over ``{id}.{timestamp}.{body}``. The
key of a ``whsec_`` secret is its base64-decoded remainder (as every Standard Webhooks
verifier reads it); any other secret is used as its UTF-8 bytes.
"""

import base64
import binascii
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
_GENERATED_BYTES = 24
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 200


def generate_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes, as Standard Webhooks suggests."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_GENERATED_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :] + "==", validate=False)
    return secret.encode()


def validate_secret(secret: str) -> str:
    """A caller-chosen secret: long enough, and a ``whsec_`` one must be valid base64."""
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise ValueError(
            f"secret must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters long"
        )
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a whsec_ secret must be whsec_ + base64") from None
        if len(key) < MIN_SECRET_LENGTH:
            raise ValueError(f"a whsec_ secret must decode to at least {MIN_SECRET_LENGTH} bytes")
    return secret


def signed_headers(secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (the timestamp is the attempt's:
    receivers refuse old ones, so a retry is signed afresh, with the same id)."""
    timestamp = now.astimezone(UTC)
    signature = Webhook(signing_key(secret)).sign(message_id, timestamp, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
