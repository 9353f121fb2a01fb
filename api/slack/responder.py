"""The POST of a reply to a click's ``response_url``: Slack's, from a signed payload, yet
checked like a webhook target (http or https, no private address unless
``BRAIN_WEBHOOK_ALLOW_PRIVATE``) and sent to the address checked, without redirects."""

import json
import logging
from typing import Any

import httpx

from activities.webhooks.sender import make_http_client, post
from activities.webhooks.targets import Unresolvable, UnsafeTarget, resolve_target

log = logging.getLogger(__name__)

# Slack answers a response_url at once; a reply that cannot get through in this long is
# logged and dropped (the decision itself stands, and is audited).
_DEADLINE_SECONDS = 15.0
_ATTEMPTS = 2


async def respond(url: str, message: dict[str, Any], *, allow_private: bool) -> bool:
    """Whether Slack took the reply (a 2xx); never raises."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            target = await resolve_target(url, allow_private=allow_private)
            async with make_http_client() as http:
                answer = await post(http, target, body, {}, deadline_seconds=_DEADLINE_SECONDS)
        except UnsafeTarget as err:
            log.warning("slack response_url refused: %s", err)
            return False
        except (Unresolvable, TimeoutError, httpx.TransportError) as err:
            log.warning("slack response_url attempt %d failed: %s", attempt, err)
            continue
        if 200 <= answer.status < 300:
            return True
        log.warning("slack response_url attempt %d answered %d", attempt, answer.status)
        if answer.status < 500:
            return False
    return False
