"""``brain policy set`` with the quorum, four-eyes, reminder and escalation options,
``brain approve`` under them, ``brain policy log`` and ``brain insights``, in a subprocess."""

import uuid

from models.processes import Process, RunState
from models.workflow_io import ProcessResult
from tests.cli.conftest import CliEnv


async def test_four_eyes_and_a_quorum_from_the_cli(cli: CliEnv) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    done = await cli.brain(
        "policy", "set", "lead_processing", "--tenant", tenant, "--four-eyes",
        "--min-approvals", "2", "--remind-every", "3600", "--escalate-after", "off",
        "--by", "admin",
    )  # fmt: skip
    assert done.code == 0, done
    policy = await cli.policies.effective(Process("lead_scoring"), tenant)
    assert (policy.requester_may_approve, policy.min_approvals) == (False, 2)
    assert (policy.remind_every_seconds, policy.escalate_after_seconds) == (3600, None)

    started = await cli.brain(
        "start", "lead_scoring", "--example", "unsure", "--tenant", tenant, "--by", "requester"
    )
    assert started.code == 0, started
    workflow_id = started.json()["workflow_id"]
    await cli.parked(workflow_id)

    own = await cli.brain("approve", workflow_id, "--by", "requester")
    assert own.code == 1, own
    assert own.error()["error"] == "FourEyes"

    first = await cli.brain("approve", workflow_id, "--by", "alice")
    assert first.code == 0, first
    assert (first.json()["votes"], first.json()["needed"], first.json()["voters"]) == (
        1, 2, ["alice"],
    )  # fmt: skip
    twice = await cli.brain("approve", workflow_id, "--by", "alice", "--comment", "again")
    assert twice.code == 1 and twice.error()["error"] == "AlreadyVoted", twice

    second = await cli.brain("approve", workflow_id, "--by", "bob")
    assert second.code == 0, second
    assert (second.json()["actor"], second.json()["approvers"]) == ("bob", ["alice", "bob"])
    handle = cli.client.get_workflow_handle(workflow_id, result_type=ProcessResult)
    assert (await handle.result()).state is RunState.COMPLETED

    insights = await cli.brain("insights", "--tenant", tenant, "--process", "lead_scoring")
    assert insights.code == 0, insights
    [lead] = insights.json()["items"]
    assert (lead["runs"], lead["human_decisions"], lead["approved_as_proposed_rate"]) == (1, 1, 1)
    assert lead["median_seconds_to_decision"] > 0
    assert lead["suggested_threshold"] is None and "at least 20" in lead["suggestion_reason"]


async def test_policy_log_and_the_off_switch(cli: CliEnv) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    for args in (
        ("--remind-every", "60", "--no-four-eyes"),
        ("--remind-every", "off", "--four-eyes"),
    ):
        done = await cli.brain("policy", "set", "lead_scoring", "--tenant", tenant, *args)
        assert done.code == 0, done
    log = await cli.brain("policy", "log", "--tenant", tenant, "--process", "lead_processing")
    assert log.code == 0, log
    newest, oldest = log.json()
    assert newest["version"] > oldest["version"] and newest["tenant"] == tenant
    assert newest["old"] == {"remind_every_seconds": 60, "requester_may_approve": True}
    assert newest["new"] == {"remind_every_seconds": "off", "requester_may_approve": False}
    assert oldest["new"] == {"remind_every_seconds": 60, "requester_may_approve": True}
    limited = await cli.brain("policy", "log", "--tenant", tenant, "--limit", "1")
    assert [e["id"] for e in limited.json()] == [newest["id"]]

    for bad in (
        ("--remind-every", "soon"),
        ("--escalate-after", "0"),
        ("--min-approvals", "6"),
    ):
        refused = await cli.brain("policy", "set", "lead_scoring", "--tenant", tenant, *bad)
        assert refused.code == 2, (bad, refused)
    year = await cli.brain(
        "policy", "set", "lead_scoring", "--tenant", tenant, "--remind-every", "99999999"
    )
    assert year.code == 1 and year.error()["error"] == "InvalidPolicy", year
    bad_since = await cli.brain("insights", "--since", "last tuesday")
    assert bad_since.code == 2, bad_since
