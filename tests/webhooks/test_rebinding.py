"""DNS at delivery time: a name is resolved and checked at every attempt, and the request
goes to the address that was checked (SPEC §6)."""

import ipaddress
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client

from activities.webhooks.targets import IPAddress, Resolver
from tests.conftest import Database
from tests.webhooks.conftest import Hooks, Publisher, delivering, worker_settings
from tests.webhooks.receiver import Receiver


def names(table: dict[str, str]) -> Resolver:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(table[host])]

    return resolve


@asynccontextmanager
async def hooks_resolving(
    client: Client, db: Database, table: dict[str, str], *, allow_private: bool
) -> AsyncIterator[Hooks]:
    task_queue = f"webhooks-dns-{uuid.uuid4().hex[:8]}"
    settings = worker_settings(task_queue).model_copy(
        update={"webhook_allow_private": allow_private}
    )
    async with delivering(client, db, settings, resolver=names(table)) as parts:
        yield Hooks(client, db, task_queue, Publisher(parts.outbox, db))


async def test_a_name_that_now_resolves_privately_is_refused(
    client: Client, database: Database, receiver: Receiver
) -> None:
    table = {"hooks.example": "127.0.0.1"}
    async with hooks_resolving(client, database, table, allow_private=False) as hooks:
        # Accepted when subscribed (say it was public then); private now.
        sub = await hooks.subscribe(f"http://hooks.example:{receiver.port}/hook")
        await hooks.publisher.publish(hooks.event())
        row = await hooks.delivery(sub, "dead")
    assert row.last_status is None
    assert row.last_error is not None and row.last_error.startswith("refused:")
    assert "127.0.0.1" in row.last_error
    assert receiver.requests == []


async def test_the_request_goes_to_the_checked_address_with_the_original_host(
    client: Client, database: Database, receiver: Receiver
) -> None:
    # The system resolver does not know this name: only the checked address can be used.
    table = {"hooks.brain-test": "127.0.0.1"}
    async with hooks_resolving(client, database, table, allow_private=True) as hooks:
        sub = await hooks.subscribe(f"http://hooks.brain-test:{receiver.port}/hook?x=1")
        await hooks.publisher.publish(hooks.event())
        [request] = await receiver.wait_for(1)
        await hooks.delivery(sub, "delivered")
    assert request.headers["host"] == f"hooks.brain-test:{receiver.port}"
    assert request.path == "/hook?x=1"
