"""Every `brain` command against a `brain up` on other ports than the defaults, run where a
user would run it (the same directory) with no `BRAIN_*` variable at all: each one finds the
stack through `.brain/stack.json`, never a default address (issue 21). One stack for the
module, on its local tenant; runs are decided to completion on single-gate processes only
(lead scoring), and policies changed on processes no other test here completes."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from tests.cli.conftest import Done, clean_env
from tests.cli.up import Up, brain_up
from tests.support import eventually
from tests.webhooks.receiver import Receiver


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def up(tmp_path_factory: Any) -> AsyncIterator[Up]:
    cwd = tmp_path_factory.mktemp("brain-up-cli")
    async with brain_up(cwd, clean_env()) as running:
        yield running


def ok(done: Done) -> Any:
    assert done.code == 0, done
    # A command that used a Temporal client must not abort at exit (134), nor note that it
    # fell back to the record (the status query by name did not reach the gate).
    assert "showing the record" not in done.err, done.err
    return done.json()


async def _started(up: Up, process: str, kind: str = "unsure", *extra: str) -> str:
    started = ok(await up.brain("start", process, "--example", kind, *extra))
    assert started["state"] == "running"
    workflow_id: str = started["workflow_id"]
    return workflow_id


async def _parked(up: Up, workflow_id: str) -> dict[str, Any]:
    async def parked() -> dict[str, Any] | None:
        status = ok(await up.brain("status", workflow_id))
        return status if status["state"] == "awaiting_approval" else None

    found: dict[str, Any] = await eventually(parked, within=30)
    return found


async def _api(up: Up, path: str, **params: str) -> Any:
    """The REST API as the banner's export line reaches it."""
    variables = up.variables()
    async with httpx.AsyncClient() as http:
        r = await http.get(
            variables["BRAIN"] + path,
            params=params,
            headers={"Authorization": f"Bearer {variables['TOKEN']}"},
        )
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_home_file_names_this_stack(up: Up) -> None:
    stack = up.stack_file()
    assert (up.cwd / ".brain" / "stack.json").stat().st_mode & 0o777 == 0o600
    assert stack["temporal_address"] == f"127.0.0.1:{up.temporal_port}"
    assert stack["api_url"] == f"http://127.0.0.1:{up.api_port}/api/brain"
    assert stack["web_ui_url"] == f"http://127.0.0.1:{up.ui_port}"
    assert stack["token"] == up.variables()["TOKEN"] and stack["tenant"] == "local"
    assert stack["started_at"].endswith("Z") and stack["token_expires_at"].endswith("Z")
    # The banner's hint works as printed, from where `brain up` runs.
    [hint] = [line for line in up.banner() if line.startswith("Try:")]
    assert "BRAIN_" not in hint and hint.endswith("start lead_scoring --example unsure")


async def test_start_inbox_runs_approve_and_status(up: Up) -> None:
    workflow_id = await _started(up, "lead_scoring")
    parked = await _parked(up, workflow_id)
    assert parked["approval"]["confidence"] < parked["approval"]["threshold"]
    assert parked["approval"]["requested_at"].endswith("Z")

    inbox = ok(await up.brain("inbox", "--process", "lead_scoring"))
    [item] = [i for i in inbox["items"] if i["workflow_id"] == workflow_id]
    assert item["approval_id"] == f"{workflow_id}:1" and item["tenant"] == "local"
    assert item["requested_at"].endswith("Z")
    waiting = ok(await up.brain("runs", "--state", "awaiting_approval", "--limit", "500"))
    assert workflow_id in [r["workflow_id"] for r in waiting["items"]]

    decision = ok(await up.brain("approve", workflow_id, "--by", "ada", "--edits", '{"score":55}'))
    assert (decision["action"], decision["actor"]) == ("approve", "ada")
    assert decision["decided_at"].endswith("Z")

    async def completed() -> dict[str, Any] | None:
        status = ok(await up.brain("status", workflow_id))
        return status if status["state"] == "completed" else None

    done = await eventually(completed, within=30)
    assert done["decision"]["final_proposal"]["tier"] == "warm"
    listed = ok(await up.brain("runs", "--state", "completed", "--process", "lead_processing"))
    assert workflow_id in [r["workflow_id"] for r in listed["items"]]
    assert all(r["state"] == "completed" for r in listed["items"])


async def test_reject_and_cancel_with_its_audit(up: Up) -> None:
    rejected = await _started(up, "product_sourcing")
    await _parked(up, rejected)
    decision = ok(await up.brain("reject", rejected, "--comment", "too slow"))
    assert decision["action"] == "reject"

    canceled = await _started(up, "product_sourcing")
    await _parked(up, canceled)
    answer = ok(await up.brain("cancel", canceled))
    assert answer["workflow_id"] == canceled
    assert answer["cancel_requested_by"] == "local-admin"
    assert answer["cancel_requested_at"].endswith("Z")

    async def stopped() -> bool:
        status = ok(await up.brain("status", canceled))
        return bool(status["state"] == "canceled")

    await eventually(stopped, within=30)
    # The cancel was audited by the API, as any client's would be.
    audit = await _api(up, "/audit", workflow_id=canceled)
    assert [(e["decision"], e["actor"]) for e in audit["items"]] == [("cancel", "local-admin")]
    again = await up.brain("cancel", canceled)
    assert again.code == 1 and again.error()["error"] == "NotCancelable", again
    assert isinstance(again.error()["detail"], str)


async def test_refusals_are_in_the_apis_shape(up: Up) -> None:
    ok(
        await up.brain(
            "policy", "set", "campaign_tuning", "--tenant", "local", "--four-eyes", "--by", "root"
        )
    )
    workflow_id = await _started(up, "campaign_tuning", "unsure", "--by", "requester")
    await _parked(up, workflow_id)

    own = await up.brain("approve", workflow_id, "--by", "requester")
    assert own.code == 1, own
    refused = own.error()
    assert refused["error"] == "FourEyes" and isinstance(refused["detail"], str), refused
    assert "fields" not in refused

    edits = await up.brain("approve", workflow_id, "--by", "ada", "--edits", '{"budgets": 3}')
    assert edits.code == 1, edits
    invalid = edits.error()
    assert invalid["error"] == "InvalidEdits" and isinstance(invalid["detail"], str)
    assert invalid["fields"][0]["loc"][:2] == ["edits", "budgets"], invalid

    bad = await up.brain("runs", "--state", "sleeping")
    assert bad.code == 1 and bad.error()["error"] == "ValidationFailed", bad
    assert bad.error()["fields"][0]["loc"] == ["query", "state"]
    missing = await up.brain("status", "lead_scoring:local:no-such-run")
    assert missing.code == 1 and missing.error()["error"] == "NotFound", missing


async def test_policy_insights_ops_and_replay_check(up: Up) -> None:
    changed = ok(
        await up.brain(
            "policy", "set", "content_generation", "--tenant", "local", "--threshold", "0.7"
        )
    )
    assert changed["confidence_threshold"] == 0.7
    listed = ok(await up.brain("policy", "list", "--tenant", "local"))
    # The first gate's row changed (the editor's); legal's keeps its own.
    content = next(p for p in listed if p["process"] == "content_generation")
    assert (content["gate"], content["confidence_threshold"]) == ("editor", 0.7)
    log = ok(await up.brain("policy", "log", "--process", "content_generation"))
    assert log[0]["new"] == {"confidence_threshold": 0.7} and log[0]["changed_at"].endswith("Z")
    rows = ok(await up.brain("policy", "list"))
    assert all(r["updated_at"].endswith("Z") for r in rows)

    workflow_id = await _started(up, "lead_scoring")
    await _parked(up, workflow_id)
    ok(await up.brain("approve", workflow_id, "--by", "ada"))
    insights = ok(await up.brain("insights", "--tenant", "local", "--since", "2026-01-01"))
    assert insights["since"] == "2026-01-01T00:00:00Z"
    assert any(i["process"] == "lead_scoring" and i["runs"] for i in insights["items"])

    failed = ok(await up.brain("ops", "failed"))
    assert failed == {"items": []}
    dry = ok(await up.brain("ops", "replay", "--process", "lead_scoring", "--dry-run"))
    assert dry == {"items": []}
    audit = await up.brain("ops", "verify-audit", "--tenant", "local")
    assert audit.code == 0, audit

    async def closed() -> bool:
        return bool(ok(await up.brain("status", workflow_id))["state"] == "completed")

    await eventually(closed, within=30)
    checked = ok(await up.brain("replay-check", "--workflow-id", workflow_id))
    assert checked["checked"] == 1 and checked["results"][0]["ok"] is True


async def test_webhooks_take_the_stacks_tenant_and_its_loopback_receivers(up: Up) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        add = ("webhooks", "add", "--url", receiver.url, "--event", "run.completed")
        created = ok(await up.brain(*add, "--process", "lead_scoring"))
        assert created["tenant"] == "local" and created["created_at"].endswith("Z")
        listed = ok(await up.brain("webhooks", "list"))
        assert created["id"] in [s["id"] for s in listed]

        workflow_id = await _started(up, "lead_scoring")
        await _parked(up, workflow_id)
        ok(await up.brain("approve", workflow_id, "--by", "ada"))

        async def heard() -> list[Any]:
            await receiver.wait_for(1, within=30)
            return [r for r in receiver.requests if r.json()["data"]["workflow_id"] == workflow_id]

        [delivered] = await eventually(heard, within=30)
        assert delivered.json()["type"] == "run.completed"

        async def recorded() -> list[Any]:
            found: list[Any] = ok(await up.brain("webhooks", "deliveries", created["id"]))
            return [d for d in found if d["state"] == "delivered"]

        assert all(d["delivered_at"].endswith("Z") for d in await eventually(recorded, 30))
        removed = ok(await up.brain("webhooks", "rm", created["id"]))
        assert removed == {"id": created["id"], "removed": True}
    finally:
        await receiver.stop()


async def test_token_and_example_need_no_stack_but_work_beside_one(up: Up) -> None:
    minted = ok(await up.brain("token", "--sub", "ops", "--tenant", "local", "--role", "viewer"))
    assert minted["expires_at"].endswith("Z")
    body = ok(await up.brain("example", "lead_scoring", "confident"))
    assert body == json.loads((await up.brain("example", "lead_processing", "confident")).out)
    # The minted token is good on this stack's API: it signs with the secret brain up uses.
    env = up.env | {"BRAIN_TOKEN": minted["token"]}
    runs = await up.brain("runs", "--limit", "1", env=env)
    assert runs.code == 0, runs
    refused = await up.brain("cancel", "lead_scoring:local:any", env=env)
    assert refused.code == 1 and refused.error()["error"] == "Forbidden", refused


async def test_the_inbox_of_what_i_may_decide(up: Up) -> None:
    workflow_id = await _started(up, "lead_scoring")
    await _parked(up, workflow_id)
    mine = ok(await up.brain("inbox", "--mine"))
    [item] = [i for i in mine["items"] if i["workflow_id"] == workflow_id]
    assert "approver_groups" in item


async def test_a_purchase_order_passes_the_buyer_then_finance_from_the_cli(up: Up) -> None:
    """Two gates decided from a terminal: the finance gate applies over the amount its
    policy names, and each gate's decision is audited with its gate and channel ``cli``."""
    ok(
        await up.brain(
            "policy", "set", "product_sourcing", "--tenant", "local", "--gate", "finance",
            "--amount-over", "0",
        )
    )  # fmt: skip
    workflow_id = await _started(up, "product_sourcing", "confident")
    status = await _parked(up, workflow_id)
    assert status["approval"]["approval_id"] == f"{workflow_id}:buyer:1"
    buyer = ok(await up.brain("approve", workflow_id, "--by", "bea"))
    assert (buyer["gate"], buyer["channel"]) == ("buyer", "cli")

    async def at_finance() -> dict[str, Any] | None:
        found = ok(await up.brain("status", workflow_id))
        pending = found.get("approval") or {}
        return found if pending.get("gate") == "finance" else None

    await eventually(at_finance, within=30)
    finance = ok(await up.brain("approve", workflow_id, "--by", "fin"))
    assert (finance["gate"], finance["actor"]) == ("finance", "fin")

    async def both_audited() -> list[tuple[str, str, str]] | None:
        items = (await _api(up, "/audit", workflow_id=workflow_id))["items"]
        rows = sorted((e["gate"], e["actor"], e["channel"]) for e in items)
        return rows if len(rows) == 2 else None

    assert await eventually(both_audited, within=30) == [
        ("buyer", "bea", "cli"),
        ("finance", "fin", "cli"),
    ]
