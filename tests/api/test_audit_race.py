"""Twenty approvers racing ``approve`` and ``reject`` on one parked run over REST: exactly
one wins, and the audit entry names that person and that action, trial after trial (issue
10: it used to name a loser whose discarded workflow task had written it)."""

import asyncio

import httpx

from models.workflow_io import ProcessResult
from processes.lead_scoring import LeadRow
from tests.api.support import Api

RACERS = 20
TRIALS = 3


async def _decide(api: Api, wid: str, action: str, sub: str) -> httpx.Response:
    """As a client would: 503 (not confirmed yet; twenty updates queue on one run) is
    retried with the same request, which the REST door answers with its first outcome."""
    for _ in range(10):
        answer = await api.decide(wid, action, sub=sub)
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(1)
    return answer


async def _race(api: Api) -> None:
    run = await api.parked("lead_scoring")
    wid = run["workflow_id"]
    actions = ["approve" if i % 2 else "reject" for i in range(RACERS)]
    answers = await asyncio.gather(
        *(_decide(api, wid, action, f"racer{i}@{api.tenant}") for i, action in enumerate(actions))
    )
    won = [(i, r) for i, r in enumerate(answers) if r.status_code == 200]
    assert len(won) == 1, [r.status_code for r in answers]
    assert all(r.status_code in (409, 200) for r in answers), [r.text for r in answers]
    winner, answer = won[0]
    handle = api.brain.client.get_workflow_handle(wid, result_type=ProcessResult)
    result = await handle.result()
    assert result.decision is not None
    applied = (result.decision.actor, result.decision.action.value)
    assert applied == (f"racer{winner}@{api.tenant}", actions[winner])
    assert (answer.json()["actor"], answer.json()["action"]) == applied
    [audit] = await api.brain.audit(wid)
    assert (audit.actor, audit.decision) == applied
    leads = await api.brain.rows(LeadRow, wid)
    assert len(leads) == (1 if applied[1] == "approve" else 0)


async def test_racing_deciders_audit_the_decision_the_run_applied(api: Api) -> None:
    api.script("lead_scoring", confidence=0.6)
    for _ in range(TRIALS):
        await _race(api)
