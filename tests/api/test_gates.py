"""Several gates per process, and who may decide each (SPEC §8), over REST with real tokens:
a purchase order over the finance policy's amount waits for the buyer, then finance; a
finance gate restricted to a group refuses everyone else; a piece making a claim waits for
legal, whose quorum counts only eligible voters."""

from typing import Any, cast

from models.processes import Process
from tests.api.support import Api
from tests.support import LEAD, ai_result, eventually

SOURCING = Process("product_sourcing")
CONTENT = Process("content_generation")
# The scripted supplier costs 300 in total (tests/api/support.py PROPOSALS).
TOTAL_COST = 300.0
CLAIM = {
    "title": "The fastest way to durable workflows",
    "body": "Teams ship 40% sooner.",
    "rationale": "r",
}


async def _at_gate(api: Api, workflow_id: str, gate: str) -> dict[str, Any]:
    async def waiting() -> dict[str, Any] | None:
        run = await api.get(workflow_id)
        approval = run["approval"]
        return run if approval is not None and approval["gate"] == gate else None

    return await eventually(waiting)


async def _audit(api: Api, workflow_id: str) -> list[dict[str, Any]]:
    r = await api.http.get(
        "/audit", params={"workflow_id": workflow_id}, headers=api.auth("viewer")
    )
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda e: e["decided_at"])


async def _put(api: Api, process: str, gate: str, **fields: Any) -> dict[str, Any]:
    r = await api.http.put(
        f"/workflows/policies/{process}",
        params={"gate": gate},
        json={"tenant": api.tenant, **fields},
        headers=api.auth("super_admin"),
    )
    assert r.status_code == 200, r.text
    return cast(dict[str, Any], r.json())


async def test_an_order_over_the_amount_waits_for_the_buyer_then_finance(api: Api) -> None:
    api.script("product_sourcing")
    await api.brain.set_policy(SOURCING, gate="finance", amount_over=TOTAL_COST - 50)
    run = await api.parked("product_sourcing")
    wid = run["workflow_id"]
    assert run["approval"]["approval_id"] == f"{wid}:buyer:1"
    r = await api.decide(wid, sub="bea", comment="good supplier")
    assert r.status_code == 200, r.text
    assert r.json()["gate"] == "buyer"
    run = await _at_gate(api, wid, "finance")
    assert run["approval"]["approval_id"] == f"{wid}:finance:2"
    r = await api.decide(wid, sub="fin")
    assert r.status_code == 200, r.text
    done = await api.wait_state(wid, "completed")
    assert done["result"]["total_cost"] == TOTAL_COST
    buyer, finance = await _audit(api, wid)
    assert (buyer["gate"], buyer["actor"], buyer["decision"]) == ("buyer", "bea", "approve")
    assert (finance["gate"], finance["actor"], finance["decision"]) == (
        "finance",
        "fin",
        "approve",
    )
    assert buyer["approval_id"] == f"{wid}:buyer:1"


async def test_an_order_under_the_amount_completes_after_the_buyer_alone(api: Api) -> None:
    api.script("product_sourcing")
    await api.brain.set_policy(SOURCING, gate="finance", amount_over=TOTAL_COST + 1)
    run = await api.parked("product_sourcing")
    wid = run["workflow_id"]
    assert (await api.decide(wid, sub="bea")).status_code == 200
    await api.wait_state(wid, "completed")
    [buyer] = await _audit(api, wid)
    assert buyer["gate"] == "buyer"


async def test_a_finance_gate_for_a_group_refuses_everyone_else(api: Api) -> None:
    api.script("product_sourcing")
    await api.brain.set_policy(SOURCING, gate="finance", amount_over=0, approver_groups=["finance"])
    run = await api.parked("product_sourcing")
    wid = run["workflow_id"]
    assert (await api.decide(wid, sub="bea", groups=["buyers"])).status_code == 200
    run = await _at_gate(api, wid, "finance")
    assert run["approval"]["approver_groups"] == ["finance"]
    # An approver outside the group, an admin outside it (no implicit right), then finance.
    for role, groups in (("approver", ["buyers"]), ("super_admin", [])):
        r = await api.decide(wid, role=role, sub="someone", groups=groups)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "NotEligible" and "finance" in r.json()["detail"]
    r = await api.decide(wid, sub="fay", groups=["finance", "staff"])
    assert r.status_code == 200, r.text
    await api.wait_state(wid, "completed")


async def test_a_rejection_at_finance_rejects_the_run_and_audits_its_gate(api: Api) -> None:
    api.script("product_sourcing")
    await api.brain.set_policy(SOURCING, gate="finance", amount_over=0)
    wid = (await api.parked("product_sourcing"))["workflow_id"]
    assert (await api.decide(wid, sub="bea")).status_code == 200
    await _at_gate(api, wid, "finance")
    r = await api.decide(wid, "reject", sub="fin", comment="over budget")
    assert r.status_code == 200, r.text
    await api.wait_state(wid, "rejected")
    buyer, finance = await _audit(api, wid)
    assert (buyer["gate"], buyer["decision"]) == ("buyer", "approve")
    assert (finance["gate"], finance["decision"], finance["comment"]) == (
        "finance",
        "reject",
        "over budget",
    )


async def test_a_change_to_the_finance_policy_releases_runs_parked_there_only(api: Api) -> None:
    api.script("product_sourcing")
    await api.brain.set_policy(SOURCING, gate="finance", amount_over=0)
    at_finance = (await api.parked("product_sourcing"))["workflow_id"]
    assert (await api.decide(at_finance, sub="bea")).status_code == 200
    await _at_gate(api, at_finance, "finance")
    at_buyer = (await api.parked("product_sourcing"))["workflow_id"]
    buyer_version = (await api.get(at_buyer))["approval"]["policy_version"]
    # The AI is sure (0.95 over 0.90): with HITL off at finance, finance needs nobody.
    changed = await _put(api, "product_sourcing", "finance", hitl_enabled=False)
    done = await api.wait_state(at_finance, "completed", within=20)
    assert done["decision"]["gate"] == "finance" and done["decision"]["channel"] == "policy"
    assert done["decision"]["policy_version"] == changed["version"]
    # The run at the buyer's gate was not told: same gate policy, still waiting there.
    waiting = await api.get(at_buyer)
    assert waiting["state"] == "awaiting_approval"
    assert waiting["approval"]["gate"] == "buyer"
    assert waiting["approval"]["policy_version"] == buyer_version


async def test_legal_quorum_counts_only_eligible_voters(api: Api) -> None:
    # The editor's gate is autonomous by default and the AI is sure: a claim goes to legal.
    api.brain.model.default = ai_result(CLAIM, confidence=0.95)
    await api.brain.set_policy(CONTENT, gate="legal", min_approvals=2, approver_groups=["legal"])
    run = await api.parked("content_generation")
    wid = run["workflow_id"]
    assert run["approval"]["gate"] == "legal"
    r = await api.decide(wid, sub="ed", groups=["editors"])
    assert r.status_code == 403 and r.json()["error"] == "NotEligible"
    r = await api.decide(wid, sub="lee", groups=["legal"])
    assert r.status_code == 200 and r.json()["votes"] == 1 and r.json()["needed"] == 2
    r = await api.decide(wid, sub="lou", groups=["legal"])
    assert r.status_code == 200 and r.json()["gate"] == "legal"
    await api.wait_state(wid, "completed")
    editor, legal = await _audit(api, wid)
    assert (editor["gate"], editor["channel"]) == ("editor", "auto")
    assert legal["approvers"] == ["lee", "lou"]


async def test_a_draft_without_a_claim_skips_legal(api: Api) -> None:
    api.script("content_generation")  # "Workflows that last.": no number, no superlative
    await api.brain.set_policy(CONTENT, gate="editor", hitl_enabled=True)
    wid = (await api.parked("content_generation"))["workflow_id"]
    assert (await api.decide(wid, sub="ed")).status_code == 200
    await api.wait_state(wid, "completed")
    [editor] = await _audit(api, wid)
    assert editor["gate"] == "editor"


async def test_mine_lists_exactly_what_the_caller_may_decide(api: Api) -> None:
    api.script("product_sourcing")
    await api.brain.set_policy(SOURCING, gate="finance", amount_over=0, approver_groups=["finance"])
    at_finance = (await api.parked("product_sourcing"))["workflow_id"]
    assert (await api.decide(at_finance, sub="bea")).status_code == 200
    await _at_gate(api, at_finance, "finance")
    at_buyer = (await api.parked("product_sourcing"))["workflow_id"]

    async def mine(role: str, groups: list[str]) -> set[str]:
        r = await api.http.get(
            "/approvals",
            params={"mine": "true"},
            headers=api.auth(role, sub="pat", groups=groups),
        )
        assert r.status_code == 200, r.text
        return {item["workflow_id"] for item in r.json()["items"]}

    assert await mine("approver", []) == {at_buyer}
    assert await mine("approver", ["finance"]) == {at_buyer, at_finance}
    assert await mine("viewer", ["finance"]) == set()
    r = await api.http.get("/approvals", headers=api.auth("viewer"))
    items = {i["workflow_id"]: i for i in r.json()["items"]}
    assert items[at_finance]["approver_groups"] == ["finance"]
    assert items[at_buyer]["approver_groups"] == [] and items[at_buyer]["subject"]


async def test_the_same_person_in_another_case_is_one_voter(api: Api) -> None:
    api.script("lead_scoring")
    await api.brain.set_policy(min_approvals=2)
    wid = (await api.parked())["workflow_id"]
    assert (await api.decide(wid, sub="Bob")).json()["votes"] == 1
    r = await api.decide(wid, sub="bob")
    assert r.status_code == 409 and r.json()["error"] == "AlreadyVoted"


async def test_four_eyes_knows_a_requester_in_another_case(api: Api) -> None:
    api.script("lead_scoring")
    await api.brain.set_policy(requester_may_approve=False)
    started = await api.http.post(
        "/workflows/lead_scoring", json=LEAD, headers=api.auth("operator", sub="Ann")
    )
    assert started.status_code == 201, started.text
    wid = started.json()["workflow_id"]
    await api.wait_state(wid, "awaiting_approval")
    r = await api.decide(wid, sub="ann")
    assert r.status_code == 403 and r.json()["error"] == "FourEyes"
    assert (await api.decide(wid, sub="zed")).status_code == 200
