"""A database step that fails for good ends the run ``failed`` with a short error free of
data (no SQL, no personal data), listed by ``/ops/failed``; one that fails while the
database is away retries and completes once it is back (issue 10)."""

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from models.processes import Action, RunState
from models.workflow_io import ProcessResult
from processes.lead_scoring import LeadRow
from tests.faults.conftest import Proxied
from tests.support import LEAD, decided, eventually

pytestmark = pytest.mark.postgres

# What must never reach a run's error: the statement, the lead's personal data.
LEAKS = ("INSERT", "VALUES", "Ada", "Lovelace", "analytical.example", "Analytical")

BREAKS = {
    # The row itself is refused: a constraint it can never meet.
    "check constraint": (
        "ALTER TABLE leads ADD CONSTRAINT refuse_all CHECK (score < 0) NOT VALID",
        "23514",
    ),
    # The table is gone (renamed away, as a botched migration would).
    "table gone": ("ALTER TABLE leads RENAME TO leads_moved", "42P01"),
}


def _clean(text: str) -> None:
    assert not [leak for leak in LEAKS if leak in text], text
    assert len(text) < 300, text


@pytest.mark.parametrize("name", sorted(BREAKS))
async def test_an_apply_step_refused_for_good_fails_the_run_with_a_short_clean_error(
    proxied: Proxied, name: str
) -> None:
    sql, sqlstate = BREAKS[name]
    api = proxied.api
    assert LEAD["lead"]["name"] == "Ada Lovelace"
    wid = (await api.parked())["workflow_id"]
    await proxied.as_owner(sql)
    r = await api.decide(wid, sub="alice", comment="go")
    assert r.status_code == 200, r.text
    # Not retried: a refusal fails at once instead of after ten attempts and minutes.
    run = await api.wait_state(wid, "failed", within=30)
    error = run["error"]
    assert error.startswith("DatabaseRefused: ") and f"(SQLSTATE {sqlstate})" in error, error
    _clean(error)

    async def listed() -> dict[str, Any] | None:
        r = await api.http.get("/ops/failed", headers=api.auth("admin"))
        assert r.status_code == 200, r.text
        return next((i for i in r.json()["items"] if i["workflow_id"] == wid), None)

    item = await eventually(listed, within=30)
    assert item["status"] == "failed" and item["step"] == "apply_lead", item
    assert item["failure_type"] == "DatabaseRefused", item
    assert f"(SQLSTATE {sqlstate})" in item["failure"], item
    _clean(item["failure"])
    assert item["last_decision"]["actor"] == "alice"
    # The decision is audited once, with the run's failure, not lost with the apply step.
    [audit] = await proxied.audit(wid)
    assert (audit.actor, audit.decision) == ("alice", "approve")


async def _apply_attempts(handle: WorkflowHandle) -> tuple[int, str]:
    description = await handle.describe()
    for pending in description.raw_description.pending_activities:
        if pending.activity_type.name == "apply_lead":
            failure = pending.last_failure
            return pending.attempt, f"{failure.application_failure_info.type}: {failure.message}"
    return 0, ""


async def test_an_apply_step_retries_while_the_database_is_away_and_completes(
    proxied: Proxied,
) -> None:
    api, proxy = proxied.api, proxied.proxy
    wid = (await api.parked())["workflow_id"]
    handle = api.brain.client.get_workflow_handle(wid, result_type=ProcessResult)
    await proxy.down()
    try:
        # The Update needs no database: the decision is taken, its apply step cannot write.
        decision = await decided(handle, Action.APPROVE, by="alice")
        assert decision.actor == "alice"

        async def retrying() -> tuple[int, str] | None:
            attempt, failure = await _apply_attempts(handle)
            return (attempt, failure) if attempt >= 2 else None

        _, failure = await eventually(retrying, within=30)
        assert "DatabaseUnavailable" in failure, failure
        _clean(failure)
        row = await proxied.run_row(wid)
        assert row is not None and row.state == "awaiting_approval"
    finally:
        await proxy.up()
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.state is RunState.COMPLETED
    run = await api.get(wid)
    assert run["state"] == "completed" and run["error"] is None
    [audit] = await proxied.audit(wid)
    assert (audit.actor, audit.decision) == ("alice", "approve")
    assert len(await api.brain.rows(LeadRow, wid)) == 1
