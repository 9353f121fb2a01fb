"""The pieces without a server: signing, target checks, payloads, links, the schedule."""

import base64
import ipaddress
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from activities.webhooks.payloads import render, slack_message
from activities.webhooks.sender import parse_retry_after
from activities.webhooks.signing import generate_secret, signed_headers, validate_secret
from activities.webhooks.targets import (
    IPAddress,
    Resolver,
    Unresolvable,
    UnsafeTarget,
    check_subscription_url,
    is_private,
    resolve_target,
)
from models.events import Event, EventType, event_id, run_links
from models.webhooks import DeliverySchedule, WebhookFormat

NOW = datetime.now(UTC)


def resolver(table: dict[str, str]) -> Resolver:
    async def resolve(host: str, port: int) -> list[IPAddress]:
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
        # Special-purpose blocks, and IPv6 forms that carry a loopback IPv4 address.
        ("::7f00:1", True),  # IPv4-compatible
        ("64:ff9b::7f00:1", True),  # NAT64, well-known prefix
        ("64:ff9b:1::5db8:d70e", True),  # NAT64, local-use prefix: never global
        ("2002:7f00:1::", True),  # 6to4
        ("::ffff:0:7f00:1", True),  # IPv4-translated
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", True),  # Teredo
        ("fec0::1", True),  # site-local
        ("192.0.0.8", True),  # IETF protocol assignments
        ("192.88.99.1", True),  # 6to4 relay anycast
        ("3fff::1", True),  # documentation
        ("ff0e::1", True),  # global-scope multicast
        ("fe80::1%eth0", True),
        ("93.184.215.14", False),
        ("2606:4700::1111", False),
        ("192.0.0.9", False),  # the globally reachable exceptions in 192.0.0.0/24
        ("64:ff9b::5db8:d70e", False),  # NAT64 of a public address
        ("::ffff:93.184.215.14", False),
    ],
)
def test_private_addresses(address: str, private: bool) -> None:
    assert is_private(ipaddress.ip_address(address)) is private


@pytest.mark.parametrize(
    "url",
    [
        "http://[::7f00:1]/x",
        "http://[64:ff9b::7f00:1]/x",
        "http://[2002:7f00:1::]/x",
        "http://[::ffff:0:7f00:1]/x",
        "http://[fec0::1]/x",
        "http://192.0.0.8/x",
    ],
)
async def test_special_purpose_literals_are_refused_at_subscription_and_delivery(url: str) -> None:
    no_dns = resolver({})  # a literal needs no lookup: any would fail
    with pytest.raises(UnsafeTarget, match="private"):
        await check_subscription_url(url, allow_private=False, resolver=no_dns)
    with pytest.raises(UnsafeTarget, match="private"):
        await resolve_target(url, allow_private=False, resolver=no_dns)


async def test_a_name_resolving_to_an_embedded_loopback_is_refused() -> None:
    names = resolver({"hooks.example": "64:ff9b::7f00:1"})
    with pytest.raises(UnsafeTarget, match="private"):
        await check_subscription_url("https://hooks.example/x", allow_private=False, resolver=names)
    with pytest.raises(UnsafeTarget, match="private"):
        await resolve_target("https://hooks.example/x", allow_private=False, resolver=names)


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
    assert event_id("wf:1", EventType.APPROVAL_REQUESTED) == "wf:1:approval.requested"
    assert event_id("wf:1", EventType.APPROVAL_REMINDER, 2) == "wf:1:approval.reminder:2"


def test_the_schedule_backs_off_with_jitter_and_a_cap() -> None:
    s = DeliverySchedule()
    assert s.delay(1, 0.0) == timedelta(seconds=5)
    assert s.delay(3, 0.0) == timedelta(seconds=20)
    assert s.delay(30, 0.0) == timedelta(hours=1)
    assert s.delay(30, 0.999) >= timedelta(hours=0.8)
    assert s.give_up_after >= timedelta(hours=24)
    # Retry-After wins when longer, up to its cap; past give_up_after there is no next one.
    later = s.next_attempt(1, NOW, NOW, 0.0, timedelta(minutes=10))
    assert later == NOW + timedelta(minutes=10)
    capped = s.next_attempt(1, NOW, NOW, 0.0, timedelta(days=3))
    assert capped == NOW + s.maximum_retry_after
    assert s.next_attempt(30, NOW + timedelta(hours=24, minutes=30), NOW, 0.0) is None


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
