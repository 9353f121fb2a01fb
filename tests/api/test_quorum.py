"""Four-eyes and quorum over REST (SPEC §3): the requester may not approve, votes count
per distinct person, one reject vetoes, edits restart the count, a race of eight decides
once, and lowering the quorum releases a run with the votes it already has."""

import asyncio
from typing import Any, cast

from processes.lead_scoring import LeadRow
from tests.api.support import Api
from tests.support import eventually

POLICY = "/workflows/policies/lead_scoring"


async def _quorum(api: Api, needed: int) -> str:
    """A parked lead under a quorum of ``needed`` approvers; its workflow id."""
    await api.brain.set_policy(min_approvals=needed)
    return cast(str, (await api.parked())["workflow_id"])


async def _votes(api: Api, wid: str, *voters: str) -> list[dict[str, Any]]:
    """The run's approval view once it shows the votes of ``voters`` (each vote is written
    to the run's row after it is counted)."""

    async def shown() -> list[dict[str, Any]] | None:
        approval = (await api.get(wid))["approval"]
        votes = approval["votes"] if approval else []
        return votes if [v["actor"] for v in votes] == list(voters) else None

    return await eventually(shown)


async def _audit(api: Api, wid: str) -> dict[str, Any]:
    r = await api.http.get("/audit", params={"workflow_id": wid}, headers=api.auth("viewer"))
    entry: dict[str, Any]
    [entry] = r.json()["items"]
    return entry


async def test_four_eyes_refuses_the_requester_and_another_approver_decides(api: Api) -> None:
    await api.brain.set_policy(requester_may_approve=False)
    run = await api.parked()
    wid, requester = run["workflow_id"], run["requested_by"]
    assert requester == f"operator@{api.tenant}"
    assert run["approval"]["requester_may_approve"] is False

    refused = await api.decide(wid, sub=requester)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "FourEyes"
    assert (await api.get(wid))["state"] == "awaiting_approval"

    r = await api.decide(wid, sub="bob")
    assert r.status_code == 200, r.text
    assert (r.json()["actor"], r.json()["approvers"]) == ("bob", ["bob"])
    await api.wait_state(wid, "completed")


async def test_quorum_counts_distinct_approvers_and_answers_each_vote(api: Api) -> None:
    wid = await _quorum(api, 2)
    first = await api.decide(wid, sub="alice", comment="fine")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "approval_id": f"{wid}:1",
        "votes": 1,
        "needed": 2,
        "voters": ["alice"],
    }
    [vote] = await _votes(api, wid, "alice")
    assert (vote["channel"], vote["comment"]) == ("api", "fine")

    # The same person again: a new request is refused, a retried one gets the first answer.
    again = await api.decide(wid, sub="alice", comment="really fine")
    assert again.status_code == 409 and again.json()["error"] == "AlreadyVoted", again.text
    retried = await api.decide(wid, sub="alice", comment="fine")
    assert retried.status_code == 200 and retried.json() == first.json()

    done = await api.decide(wid, sub="bob")
    assert done.status_code == 200, done.text
    decision = done.json()
    assert (decision["action"], decision["actor"], decision["channel"]) == ("approve", "bob", "api")
    assert decision["approvers"] == ["alice", "bob"]
    await api.wait_state(wid, "completed")
    assert (await _audit(api, wid))["approvers"] == ["alice", "bob"]
    assert len(await api.brain.rows(LeadRow, wid)) == 1


async def test_one_reject_vetoes_the_quorum(api: Api) -> None:
    wid = await _quorum(api, 3)
    assert (await api.decide(wid, sub="alice")).json()["votes"] == 1
    r = await api.decide(wid, "reject", sub="bob", comment="not a fit")
    assert r.status_code == 200 and r.json()["action"] == "reject", r.text
    assert (await api.wait_state(wid, "rejected"))["decision"]["actor"] == "bob"
    entry = await _audit(api, wid)
    assert (entry["decision"], entry["approvers"]) == ("reject", [])
    assert await api.brain.rows(LeadRow, wid) == []


async def test_an_approval_with_edits_restarts_the_count(api: Api) -> None:
    wid = await _quorum(api, 2)
    assert (await api.decide(wid, sub="alice")).json()["votes"] == 1
    edited = await api.decide(wid, sub="bob", edits={"score": 35})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["votes"], edited.json()["voters"]) == (1, ["bob"])
    await _votes(api, wid, "bob")
    assert (await api.get(wid))["approval"]["proposal"]["tier"] == "cold"

    # Alice approved the proposal before the edit; the edited one needs her again.
    r = await api.decide(wid, sub="alice", comment="cold is right")
    assert r.status_code == 200, r.text
    assert r.json()["approvers"] == ["bob", "alice"]
    assert r.json()["final_proposal"]["tier"] == "cold"
    done = await api.wait_state(wid, "completed")
    assert done["result"]["tier"] == "cold"
    assert (await _audit(api, wid))["edits"] == {"score": 35}


async def test_eight_approvers_race_for_a_quorum_of_three(api: Api) -> None:
    wid = await _quorum(api, 3)
    people = [f"approver-{i}" for i in range(8)]
    answers = await asyncio.gather(*(api.decide(wid, sub=p) for p in people))
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    decided = [a.json() for a in answers if a.status_code == 200 and "action" in a.json()]
    counted = [a.json() for a in answers if a.status_code == 200 and "votes" in a.json()]
    refused = [a.json()["error"] for a in answers if a.status_code == 409]
    assert len(decided) == 1, [a.text for a in answers]
    assert sorted(v["votes"] for v in counted) == [1, 2]
    assert set(refused) <= {"AlreadyDecided"} and len(refused) == 5
    [decision] = decided
    assert len(decision["approvers"]) == 3 and set(decision["approvers"]) <= set(people)
    assert decision["actor"] == decision["approvers"][-1]

    await api.wait_state(wid, "completed")
    assert (await _audit(api, wid))["approvers"] == decision["approvers"]
    assert len(await api.brain.audit(wid)) == 1
    assert len(await api.brain.rows(LeadRow, wid)) == 1


async def test_lowering_the_quorum_to_the_votes_cast_releases_the_run(api: Api) -> None:
    wid = await _quorum(api, 3)
    for person in ("alice", "bob"):
        assert (await api.decide(wid, sub=person)).status_code == 200
    await _votes(api, wid, "alice", "bob")

    r = await api.http.put(
        POLICY,
        json={"min_approvals": 2, "tenant": api.tenant},
        headers=api.auth("super_admin", sub="root"),
    )
    assert r.status_code == 200 and r.json()["min_approvals"] == 2, r.text
    done = await api.wait_state(wid, "completed", within=10)
    decision = done["decision"]
    assert (decision["channel"], decision["actor"]) == ("policy", "root")
    assert decision["approvers"] == ["alice", "bob"]
    entry = await _audit(api, wid)
    assert (entry["channel"], entry["actor"], entry["approvers"]) == (
        "policy",
        "root",
        ["alice", "bob"],
    )


async def test_an_identical_approval_after_an_edit_counts_again(api: Api) -> None:
    wid = await _quorum(api, 2)
    assert (await api.decide(wid, sub="alice")).json()["voters"] == ["alice"]
    assert (await api.decide(wid, sub="bob", edits={"score": 35})).json()["voters"] == ["bob"]

    async def shown() -> bool:  # the row shows the edited proposal under vote
        score: int = (await api.get(wid))["approval"]["proposal"]["score"]
        return score == 35

    await eventually(shown)
    again = await api.decide(wid, sub="alice")
    assert again.status_code == 200, again.text
    assert again.json().get("approvers") == ["bob", "alice"], again.json()
