"""The pieces without a server: signing, target checks, payloads, links, the schedule."""

import base64
import ipaddress
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from models.events import Event, EventType, event_id, run_links
from models.webhooks import DeliverySchedule, WebhookFormat
from services.webhook_http import parse_retry_after
from services.webhook_payloads import render, slack_message
from services.webhook_signing import generate_secret, signed_headers, validate_secret
from services.webhook_targets import (
    Unresolvable,
    UnsafeTarget,
    check_subscription_url,
    is_private,
    resolve_target,
)

NOW = datetime.now(UTC)


def resolver(table: dict[str, str]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list:  # type: ignore[type-arg]
        if host not in table:
            raise Unresolvable(host)
        return [ipaddress.ip_address(table[host])]

    return resolve


@pytest.mark.parametrize(
    "secret",
    [generate_secret(), "a plain shared secret, 32 chars!"],
    # Fixed ids: a generated secret in a test's name differs between collections.
    ids=["generated", "plain"],
)
def test_signatures_verify_with_the_standard_library(secret: str) -> None:
    body = '{"id":"e1","type":"run.completed"}'
    now = datetime.now(UTC)  # the library refuses a timestamp over 5 minutes old
    headers = signed_headers(secret, "e1", body, now)
    assert headers["webhook-id"] == "e1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    key = secret if secret.startswith("whsec_") else secret.encode()
    assert Webhook(key).verify(body, headers) == {"id": "e1", "type": "run.completed"}
    with pytest.raises(Exception, match="signature"):
        Webhook(key).verify(body.replace("completed", "failed"), headers)


def test_generated_secrets_are_whsec_24_random_bytes() -> None:
    a, b = generate_secret(), generate_secret()
    assert a != b and a.startswith("whsec_")
    assert len(base64.b64decode(a.removeprefix("whsec_"))) == 24
    assert validate_secret(a) == a
    for bad in ("short", "whsec_@@@@@@@@@@@@@@@@@@@@", "whsec_" + base64.b64encode(b"x").decode()):
        with pytest.raises(ValueError):
            validate_secret(bad)


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.0.1", True),
        ("127.0.0.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:10.0.0.1", True),
        ("93.184.215.14", False),
        ("2606:4700::1111", False),
    ],
)
def test_private_addresses(address: str, private: bool) -> None:
    assert is_private(ipaddress.ip_address(address)) is private


async def test_subscription_urls() -> None:
    names = resolver({"internal.corp": "10.0.0.5", "hooks.example": "93.184.215.14"})
    await check_subscription_url("https://hooks.example/x", allow_private=False, resolver=names)
    # Not resolvable yet: accepted, every attempt checks again.
    await check_subscription_url("https://later.example/x", allow_private=False, resolver=names)
    for url in ("http://internal.corp/x", "http://10.0.0.5/x", "file:///etc/passwd", "x"):
        with pytest.raises(UnsafeTarget):
            await check_subscription_url(url, allow_private=False, resolver=names)
    await check_subscription_url("http://internal.corp/x", allow_private=True, resolver=names)


async def test_delivery_targets_are_checked_on_what_the_name_resolves_to_now() -> None:
    rebound = resolver({"hooks.example": "10.0.0.1"})
    with pytest.raises(UnsafeTarget, match="private"):
        await resolve_target("https://hooks.example/x", allow_private=False, resolver=rebound)
    public = resolver({"hooks.example": "93.184.215.14"})
    target = await resolve_target(
        "https://hooks.example:8443/x", allow_private=False, resolver=public
    )
    assert (target.host, target.port, str(target.address)) == (
        "hooks.example",
        8443,
        "93.184.215.14",
    )


def test_links_are_namespace_aware() -> None:
    links = run_links(
        "lead_scoring:acme:k1",
        api_url="https://brain.example/api/brain/",
        web_ui_url="https://temporal.example",
        namespace="prod.acct",
    )
    assert links.api == "https://brain.example/api/brain/workflows/lead_scoring:acme:k1"
    assert links.web_ui == (
        "https://temporal.example/namespaces/prod.acct/workflows/lead_scoring:acme:k1"
    )
    assert event_id(EventType.APPROVAL_REQUESTED, "wf", "a1") == "wf:a1:approval.requested"


def test_the_schedule_backs_off_with_jitter_and_a_cap() -> None:
    s = DeliverySchedule()
    assert s.delay(1, 0.0) == timedelta(seconds=5)
    assert s.delay(3, 0.0) == timedelta(seconds=20)
    assert s.delay(30, 0.0) == timedelta(hours=1)
    assert s.delay(30, 0.999) >= timedelta(hours=0.8)
    assert s.give_up_after >= timedelta(hours=24)


def test_retry_after_as_seconds_or_a_date() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "120"})) == timedelta(seconds=120)
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    then = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)
    assert parse_retry_after(httpx.Headers({"Retry-After": date}), then) == timedelta(minutes=1)
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert parse_retry_after(httpx.Headers({})) is None


def _event(**data: object) -> Event:
    return Event(
        id="e1",
        type=EventType.APPROVAL_REQUESTED,
        created_at=NOW,
        tenant="acme",
        data={"workflow_id": "lead_scoring:acme:1", "process": "lead_scoring", **data},
    )


def test_standard_body_is_the_event() -> None:
    event = _event(state="awaiting_approval")
    assert Event.model_validate_json(render(event, WebhookFormat.STANDARD)) == event


def test_slack_message_escapes_and_stays_within_limits() -> None:
    message = slack_message(
        _event(
            subject="<script> & co",
            approval={"proposal": {"body": "x" * 10_000}, "confidence": 0.5, "threshold": 0.9},
            links={"api": "https://a/1", "web_ui": "https://w/1"},
        )
    )
    assert message["text"].startswith("Lead scoring: approval requested: <script> & co")
    facts = message["blocks"][1]["text"]["text"]
    assert "&lt;script&gt; &amp; co" in facts and "0.50 (threshold 0.90)" in facts
    assert len(message["blocks"][2]["text"]["text"]) < 3000
    assert "<https://w/1|Temporal Web UI>" in message["blocks"][3]["elements"][0]["text"]
