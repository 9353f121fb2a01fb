"""Proof that what reaches a run came from Brain (SPEC §8: every door that can decide proves
who is behind it).

Two kinds of message are signed with the door key (``BRAIN_DOOR_KEY``, or derived from the
JWT secret), which the API and the workers hold and a Temporal-side caller does not:

- the ``decide`` Update sent by the REST door (and the Slack door, through the API): its
  claim to channel ``api``/``slack``, the verified subject and groups. The Update's
  validator checks it; validators do not run on replay, so rotating the key never breaks
  a replay, and a request signed with an old key is refused until retried.
- the signals Brain sends runs itself (a policy change): checked by a local step whose
  verdict is recorded in history, so a replay never needs the key either.

A signature binds the run and every field of the message, and names its purpose, so one
seen in a history cannot be reused for another run, another decision, or another kind of
message.
"""

import hashlib
import hmac
import json
from typing import Any

# Set once per worker process (workers.main, the tests' worker): validators and the
# verification step read it.
_key: bytes | None = None

# What a signature is for; a decide claim is signed without one (the first format, kept so
# requests in flight across a deploy still verify).
POLICY_CHANGED = "brain_policy_changed"


def derive_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"brain-rest-door-v1", hashlib.sha256).digest()


def configure(key: bytes | None) -> None:
    global _key
    _key = key


def configured() -> bytes | None:
    return _key


def _message(workflow_id: str, fields: dict[str, Any], purpose: str | None) -> bytes:
    canonical = {k: v for k, v in fields.items() if k not in ("door_signature", "signature")}
    framed: list[Any] = [workflow_id, canonical]
    if purpose is not None:
        framed.insert(0, purpose)
    return json.dumps(framed, sort_keys=True, default=str).encode()


def sign(key: bytes, workflow_id: str, fields: dict[str, Any], purpose: str | None = None) -> str:
    return hmac.new(key, _message(workflow_id, fields, purpose), hashlib.sha256).hexdigest()


def verify(
    workflow_id: str, fields: dict[str, Any], signature: str | None, purpose: str | None = None
) -> bool:
    """False when no key is configured: an unconfigured worker trusts no claim."""
    if _key is None or not signature:
        return False
    return hmac.compare_digest(sign(_key, workflow_id, fields, purpose), signature)
