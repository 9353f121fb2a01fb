"""Proof that a decision came through the REST door.

The ``decide`` Update is reachable by anyone who can talk to Temporal, and the audit log
must not let such a caller pass for the REST API (channel ``api``, actor = a token's
subject). The API signs each request it sends with a key derived from its secret; the
Update's validator checks the signature with the same key, which the worker holds. The
signature binds the run and every field of the request, so one seen in a history cannot
be reused for another decision. Validators do not run on replay, so rotating the key never
breaks a replay; requests signed with the old key are refused until retried.
"""

import hashlib
import hmac
import json
from typing import Any

# Set once per worker process (workers.main, the tests' worker): the validator reads it.
_key: bytes | None = None


def derive_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"brain-rest-door-v1", hashlib.sha256).digest()


def configure(key: bytes | None) -> None:
    global _key
    _key = key


def _message(workflow_id: str, fields: dict[str, Any]) -> bytes:
    canonical = {k: v for k, v in fields.items() if k != "door_signature"}
    return json.dumps([workflow_id, canonical], sort_keys=True, default=str).encode()


def sign(key: bytes, workflow_id: str, fields: dict[str, Any]) -> str:
    return hmac.new(key, _message(workflow_id, fields), hashlib.sha256).hexdigest()


def verify(workflow_id: str, fields: dict[str, Any], signature: str | None) -> bool:
    """False when no key is configured: an unconfigured worker trusts no claim."""
    if _key is None or not signature:
        return False
    return hmac.compare_digest(sign(_key, workflow_id, fields), signature)
