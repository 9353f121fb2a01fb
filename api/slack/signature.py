"""Is this request Slack's, for this workspace, and new? (Slack's "Verifying requests from
Slack": ``v0=`` + hex HMAC-SHA256 over ``v0:{timestamp}:{body}`` with the app's signing
secret, checked by ``slack_sdk``'s ``SignatureVerifier``.)

A timestamp more than 5 minutes from now is refused, and so is a signature already taken
within that window, by this API process or another: the table's primary key decides
(``store/slack.py``), so a captured click cannot be sent again.
"""

import time
from datetime import UTC, datetime, timedelta

from slack_sdk.signature import Clock, SignatureVerifier

from api.errors import BrainError
from store.slack import SlackStore

WINDOW_SECONDS = 5 * 60
# A seen signature is kept a little past the window, for clocks a little apart.
_KEEP = timedelta(seconds=WINDOW_SECONDS + 60)
# "v0=" and 64 hex digits.
_MAX_SIGNATURE_CHARS = 80


class SlackUnverified(BrainError):
    """401: not signed by the workspace's Slack app, outside the window, or a replay."""

    status_code = 401


async def verify(
    store: SlackStore,
    signing_secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
) -> None:
    """Raise ``SlackUnverified`` unless the request is signed, recent and new; remember it."""
    now = time.time() if now is None else now
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise SlackUnverified("missing or malformed X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        raise SlackUnverified("stale request: its timestamp is more than 5 minutes from now")
    if not signature or len(signature) > _MAX_SIGNATURE_CHARS:
        raise SlackUnverified("missing or malformed X-Slack-Signature")
    verifier = SignatureVerifier(signing_secret, clock=_At(now))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise SlackUnverified("bad signature: not signed with this workspace's signing secret")
    expires_at = datetime.fromtimestamp(int(timestamp), UTC) + _KEEP
    if not await store.first_time(signature, expires_at):
        raise SlackUnverified("replayed request: this signature was already taken")


class _At(Clock):
    """The verifier's clock, at the instant this check reads (one ``now`` for both checks)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now
