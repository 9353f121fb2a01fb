"""``brain ops verify-audit``: the audit log against what the workflows decided, on a normal
set of runs, after tampering with it, and from the CLI."""

import json
import uuid

import pytest
from sqlalchemy import delete, update
from sqlmodel import col
from temporalio.client import WorkflowFailureError, WorkflowHandle

from models.hitl import PolicyFields
from models.processes import Action, Channel, Process, RunState
from models.tables import DecisionRow, RunRow, utcnow
from models.workflow_io import ProcessResult
from services.policies import change_policy
from services.verify_audit import verify
from tests.cli.conftest import CliEnv
from tests.ops.conftest import Guard
from tests.support import Brain, ai_result, decide, eventually, parked


@pytest.fixture
def guard() -> Guard:
    return Guard(broken=False)  # these runs apply normally


async def finished(handle: WorkflowHandle) -> ProcessResult:
    result: ProcessResult = await handle.result()
    return result


async def canceled(brain: Brain, handle: WorkflowHandle) -> None:
    await handle.cancel()
    try:
        await handle.result()
        raise AssertionError("the run should have been canceled")
    except WorkflowFailureError:
        pass
    await eventually(lambda: brain.audit(handle.id))


async def normal_runs(brain: Brain) -> dict[str, str]:
    """One run of each kind, by kind: auto, approved, rejected, edited, canceled, parked."""
    await brain.set_policy(hitl_enabled=False)  # confident enough to go ahead alone
    auto = await brain.start()
    assert (await finished(auto)).decision is not None
    await brain.set_policy(hitl_enabled=True)
    brain.model.default = ai_result(confidence=0.5)
    kinds = {"auto": auto.id}
    for kind in ("approved", "rejected", "edited", "canceled", "parked"):
        handle = await brain.start()
        await parked(handle)
        kinds[kind] = handle.id
        if kind == "approved":
            await decide(handle, Action.APPROVE, by="alice")
        elif kind == "rejected":
            await decide(handle, Action.REJECT, by="bob")
        elif kind == "edited":
            await decide(handle, Action.APPROVE, by="carol", edits={"score": 35})
        elif kind == "canceled":
            await canceled(brain, handle)
        if kind in ("approved", "rejected", "edited"):
            await finished(handle)
    return kinds


def forged_row(brain: Brain, workflow_id: str, decision: str) -> DecisionRow:
    return DecisionRow(
        approval_id=f"{workflow_id}:1",
        workflow_id=workflow_id,
        run_id="forged",
        tenant=brain.tenant,
        process=Process("lead_scoring").value,
        decision=decision,
        actor="mallory",
        channel="api",
        confidence=0.5,
        threshold=0.85,
        hitl_enabled=True,
        decided_at=utcnow(),
    )


async def test_clean_then_tampered_deleted_and_forged_rows_are_found(brain: Brain) -> None:
    kinds = await normal_runs(brain)
    report = await verify(brain.client, brain.db.sessions, tenant=brain.tenant)
    assert report.clean, report
    assert report.checked == len(kinds)

    async with brain.db.sessions.begin() as s:
        await s.execute(
            update(DecisionRow)
            .where(col(DecisionRow.workflow_id) == kinds["approved"])
            .values(actor="mallory")
        )
        await s.execute(
            delete(DecisionRow).where(col(DecisionRow.workflow_id) == kinds["rejected"])
        )
        # A row for a run that decided nothing yet.
        s.add(forged_row(brain, kinds["parked"], Action.APPROVE.value))

    report = await verify(brain.client, brain.db.sessions, tenant=brain.tenant)
    assert not report.clean
    [mismatch] = report.mismatches
    assert mismatch["workflow_id"] == kinds["approved"]
    assert mismatch["fields"] == {"actor": {"audit": "mallory", "workflow": "alice"}}
    [missing] = report.missing
    assert (missing["workflow_id"], missing["decision"], missing["actor"]) == (
        kinds["rejected"],
        Action.REJECT.value,
        "bob",
    )
    assert missing["state"] == RunState.REJECTED.value
    [orphan] = report.orphans
    assert (orphan["workflow_id"], orphan["actor"]) == (kinds["parked"], "mallory")
    assert report.unverified == []
    # Another tenant sees none of it.
    assert (await verify(brain.client, brain.db.sessions, tenant="t-nobody")).checked == 0
    await brain.client.get_workflow_handle(kinds["parked"]).terminate("test over")


async def test_cancel_rows_and_unknown_workflows(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.5)
    decided, waiting = await brain.start(), await brain.start()
    await parked(decided)
    await parked(waiting)
    await decide(decided, Action.REJECT, by="bob")
    await finished(decided)
    unknown = f"lead_scoring:{brain.tenant}:{uuid.uuid4().hex}"
    async with brain.db.sessions.begin() as s:
        await s.execute(
            update(DecisionRow)
            .where(col(DecisionRow.workflow_id) == decided.id)
            .values(decision="cancel")
        )
        s.add(forged_row(brain, waiting.id, "cancel"))
        s.add(forged_row(brain, unknown, Action.APPROVE.value))

    report = await verify(brain.client, brain.db.sessions, tenant=brain.tenant)
    # The run rejected, the row says canceled.
    [mismatch] = report.mismatches
    assert mismatch["workflow_id"] == decided.id
    assert mismatch["fields"] == {"decision": {"audit": "cancel", "workflow": "reject"}}
    # A cancel row for a run nobody canceled.
    [orphan] = report.orphans
    assert orphan["workflow_id"] == waiting.id and "not canceled" in orphan["reason"]
    # A row whose workflow Temporal does not know is reported, never passed.
    [unverified] = report.unverified
    assert unverified["workflow_id"] == unknown
    assert report.checked == 3 and not report.clean
    await waiting.terminate("test over")


async def test_verify_audit_from_the_cli(cli: CliEnv) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    # Autonomous by default, and the confident example clears the threshold.
    started = await cli.brain(
        "start", "campaign_tuning", "--example", "confident", "--tenant", tenant
    )
    assert started.code == 0, started
    wid = started.json()["workflow_id"]
    await cli.client.get_workflow_handle(wid).result()

    done = await cli.brain("ops", "verify-audit", "--tenant", tenant)
    assert done.code == 0, done
    report = done.json()
    assert report["clean"] is True and report["checked"] == 1

    async with cli.sessions.begin() as s:
        await s.execute(
            update(DecisionRow).where(col(DecisionRow.workflow_id) == wid).values(actor="mallory")
        )
    done = await cli.brain(
        "ops", "verify-audit", "--tenant", tenant, "--process", "campaign_optimization"
    )
    assert done.code == 1, done
    [mismatch] = json.loads(done.out)["mismatches"]
    assert mismatch["workflow_id"] == wid and mismatch["fields"]["actor"]["audit"] == "mallory"

    # Nothing of the tenant in another process; bad arguments are usage errors.
    other = await cli.brain("ops", "verify-audit", "--tenant", tenant, "-p", "lead_scoring")
    assert other.code == 0 and other.json()["checked"] == 0
    assert (await cli.brain("ops", "verify-audit", "--limit", "0")).code == 2
    async with cli.sessions() as s:
        row = await s.get(RunRow, wid)
    assert row is not None and row.state == RunState.COMPLETED.value


async def _released_by_a_policy_change(brain: Brain, changed_by: str) -> WorkflowHandle:
    """A run parked under HITL, released by a real change (written, logged, broadcast)."""
    handle = await brain.start()
    await parked(handle)
    await change_policy(
        brain.client,
        brain.policies,
        task_queue=brain.task_queue,
        process=Process("lead_scoring"),
        tenant=brain.tenant,
        changed_by=changed_by,
        patch=PolicyFields(hitl_enabled=False),
    )
    result = await finished(handle)
    assert result.decision is not None and result.decision.channel is Channel.POLICY
    await eventually(lambda: brain.audit(handle.id))
    await brain.set_policy(hitl_enabled=True)
    return handle


async def _approved_by_two(brain: Brain, first: str, second: str) -> WorkflowHandle:
    handle = await brain.start()
    await parked(handle)
    await decide(handle, Action.APPROVE, by=first)
    await decide(handle, Action.APPROVE, by=second)
    await finished(handle)
    return handle


async def _forge(brain: Brain, workflow_id: str, **values: object) -> None:
    async with brain.db.sessions.begin() as s:
        await s.execute(
            update(DecisionRow).where(col(DecisionRow.workflow_id) == workflow_id).values(**values)
        )


async def test_rows_that_break_a_rule_are_found_even_where_the_workflow_agrees(
    brain: Brain,
) -> None:
    """A forged internal signal once made a run decide falsely, and its row matched the run:
    released by "root" through policy version 999 when 6 was the newest. Rows are held to
    the change log, to one person per vote, and to four-eyes, whatever the workflow says."""
    released = await _released_by_a_policy_change(brain, "ops-admin")
    await brain.set_policy(min_approvals=2, requester_may_approve=False)
    quorum = await _approved_by_two(brain, "Bob", "carol")
    four_eyes = await _approved_by_two(brain, "dave", "erin")
    await brain.set_policy(min_approvals=1, requester_may_approve=True)
    plain = await brain.start()
    await parked(plain)
    await decide(plain, Action.APPROVE, by="alice")
    await finished(plain)
    # Real releases, quorums and four-eyes approvals break no rule.
    report = await verify(brain.client, brain.db.sessions, tenant=brain.tenant)
    assert report.clean, report

    [logged] = await brain.audit(released.id)
    newest = logged.policy_version + 3  # the released one, then three set_policy writes
    await _forge(brain, plain.id, channel="policy", actor="root", approvers=[], policy_version=999)
    await _forge(brain, released.id, actor="mallory")
    await _forge(brain, quorum.id, approvers=["Bob", "bob"], actor="bob")
    await _forge(brain, four_eyes.id, approvers=["tester", "erin"])  # Brain.start's requester

    report = await verify(brain.client, brain.db.sessions, tenant=brain.tenant)
    found = {(v["workflow_id"], v["rule"]): v["reason"] for v in report.violations}
    assert set(found) == {
        (plain.id, "policy"),
        (released.id, "policy"),
        (quorum.id, "quorum"),
        (four_eyes.id, "four_eyes"),
    }, report.violations
    assert "version 999" in found[(plain.id, "policy")]
    assert f"newest version of the process is {newest}" in found[(plain.id, "policy")]
    assert "'ops-admin' wrote" in found[(released.id, "policy")]
    assert "Bob, bob" in found[(quorum.id, "quorum")]
    assert "'tester'" in found[(four_eyes.id, "four_eyes")]
    assert not report.clean
    # Case-sensitive subjects: Bob and bob are two people.
    sensitive = await verify(
        brain.client, brain.db.sessions, tenant=brain.tenant, case_sensitive=True
    )
    assert (quorum.id, "quorum") not in {
        (v["workflow_id"], v["rule"]) for v in sensitive.violations
    }


async def test_each_gate_has_its_row_and_a_forged_one_is_found(brain: Brain) -> None:
    """A run of two gates audits each; a row for a gate the run never decided is found."""
    sourcing = Process("product_sourcing")
    brain.model.default = ai_result(
        {"supplier": "Acme", "unit_price": 0.3, "total_cost": 300.0, "rationale": "r"}
    )
    await brain.set_policy(sourcing, gate="finance", amount_over=0)
    handle = await brain.start(sourcing, SOURCING_ORDER)
    await parked(handle)
    await decide(handle, Action.APPROVE, by="bea", approval_id=f"{handle.id}:buyer:1")
    await decide(handle, Action.APPROVE, by="fin", approval_id=f"{handle.id}:finance:2")
    result = await finished(handle)
    assert [d.gate for d in result.decisions] == ["buyer", "finance"]
    await eventually(lambda: _rows(brain, handle.id, 2))
    clean = await verify(brain.client, brain.db.sessions, tenant=brain.tenant)
    assert clean.clean, clean.as_json()
    [finance] = [a for a in await brain.audit(handle.id) if a.gate == "finance"]
    async with brain.db.sessions.begin() as s:
        row = await s.get(DecisionRow, finance.id)
        assert row is not None
        row.actor = "mallory"
    report = await verify(brain.client, brain.db.sessions, tenant=brain.tenant)
    [mismatch] = report.mismatches
    assert mismatch["fields"]["actor"] == {"audit": "mallory", "workflow": "fin"}


async def _rows(brain: Brain, workflow_id: str, n: int) -> list[DecisionRow] | None:
    found = await brain.audit(workflow_id)
    return found if len(found) == n else None


SOURCING_ORDER = {
    "product": "M6 bolts",
    "quantity": 1000,
    "suppliers": [
        {"name": "Acme", "unit_price": 0.3, "lead_time_days": 5, "rating": 4.5,
         "min_order_qty": 100},
    ],
}  # fmt: skip
