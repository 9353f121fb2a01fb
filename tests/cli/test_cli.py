"""``brain start|status|approve|reject|policy`` in a subprocess; every exit code is asserted
(a clean 0 or a deliberate 1/2, never 134 from the interpreter aborting at exit)."""

import json
import uuid
from datetime import datetime
from pathlib import Path

import jwt
from sqlalchemy import select
from sqlmodel import col

from core.settings import DEV_JWT_SECRET
from models.processes import Process, RunState
from models.tables import DecisionRow, PolicyChangeRow
from models.workflow_io import ProcessResult
from processes.lead_scoring import LeadRow
from tests.cli.conftest import BRAIN, CliEnv, example, run_cmd


async def _start(cli: CliEnv, process: str, kind: str) -> str:
    done = await cli.brain("start", process, "--example", kind)
    assert done.code == 0, done
    started = done.json()
    assert started["state"] == RunState.RUNNING
    assert started["created"] is True
    workflow_id: str = started["workflow_id"]
    return workflow_id


async def _result(cli: CliEnv, workflow_id: str) -> ProcessResult:
    handle = cli.client.get_workflow_handle(workflow_id, result_type=ProcessResult)
    result: ProcessResult = await handle.result()
    return result


async def _audit(cli: CliEnv, workflow_id: str) -> list[DecisionRow]:
    async with cli.sessions() as s:
        rows = await s.execute(
            select(DecisionRow).where(col(DecisionRow.workflow_id) == workflow_id)
        )
        return list(rows.scalars())


async def test_unsure_lead_parks_and_the_temporal_cli_signal_completes_it(cli: CliEnv) -> None:
    workflow_id = await _start(cli, "lead_scoring", "unsure")
    await cli.parked(workflow_id)

    status = await cli.brain("status", workflow_id)
    assert status.code == 0, status
    parked = status.json()
    assert parked["state"] == RunState.AWAITING_APPROVAL
    assert parked["approval"]["confidence"] < parked["approval"]["threshold"]

    signal = await cli.temporal(
        "workflow", "signal", "--workflow-id", workflow_id,
        "--name", "approve", "--input", json.dumps({"by": "ops"}),
    )  # fmt: skip
    assert signal.code == 0, signal

    result = await _result(cli, workflow_id)
    assert result.state is RunState.COMPLETED
    [row] = await _audit(cli, workflow_id)
    assert (row.actor, row.channel, row.decision) == ("ops", "signal", "approve")
    async with cli.sessions() as s:
        leads = (
            await s.execute(select(LeadRow).where(col(LeadRow.workflow_id) == workflow_id))
        ).all()
    assert len(leads) == 1

    closed = await cli.brain("status", workflow_id)
    assert closed.code == 0, closed
    assert closed.json()["state"] == RunState.COMPLETED
    assert closed.json()["decision"]["actor"] == "ops"


async def test_approve_twice_refuses_the_second(cli: CliEnv) -> None:
    # A seed alias is accepted wherever a process name is.
    workflow_id = await _start(cli, "lead_processing", "unsure")
    await cli.parked(workflow_id)

    invalid = await cli.brain("approve", workflow_id, "--edits", '{"score": 500}', "--by", "al")
    assert invalid.code == 1, invalid
    assert invalid.error()["error"] == "InvalidEdits"

    first = await cli.brain("approve", workflow_id, "--by", "alice", "--comment", "looks right")
    assert first.code == 0, first
    decision = first.json()
    assert (decision["actor"], decision["channel"], decision["action"]) == (
        "alice", "cli", "approve",
    )  # fmt: skip

    second = await cli.brain("approve", workflow_id, "--by", "bob")
    assert second.code == 1, second
    assert second.error()["error"] == "AlreadyDecided"

    assert (await _result(cli, workflow_id)).state is RunState.COMPLETED
    [row] = await _audit(cli, workflow_id)
    assert (row.actor, row.comment) == ("alice", "looks right")


async def test_reject_completes_as_rejected(cli: CliEnv) -> None:
    workflow_id = await _start(cli, "product_sourcing", "unsure")
    await cli.parked(workflow_id)

    done = await cli.brain("reject", workflow_id, "--by", "buyer", "--comment", "too slow")
    assert done.code == 0, done
    assert done.json()["action"] == "reject"
    assert (await _result(cli, workflow_id)).state is RunState.REJECTED


async def test_policy_set_changes_and_audits_the_policy(cli: CliEnv) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    done = await cli.brain(
        "policy", "set", "campaign_optimization", "--tenant", tenant, "--hitl", "on",
        "--threshold", "0.6", "--timeout", "120", "--on-timeout", "approve", "--by", "admin",
    )  # fmt: skip
    assert done.code == 0, done
    assert done.json()["hitl_enabled"] is True

    policy = await cli.policies.effective(Process("campaign_tuning"), tenant)
    assert policy.hitl_enabled is True
    assert policy.confidence_threshold == 0.6
    assert (policy.approval_timeout_seconds, policy.on_timeout) == (120, "approve")
    async with cli.sessions() as s:
        change = await s.scalar(
            select(PolicyChangeRow).where(col(PolicyChangeRow.tenant) == tenant)
        )
    assert change is not None and change.changed_by == "admin"

    listed = await cli.brain("policy", "list", "--tenant", tenant)
    assert listed.code == 0, listed
    [campaign] = [p for p in listed.json() if p["process"] == "campaign_tuning"]
    assert campaign["confidence_threshold"] == 0.6

    nothing = await cli.brain("policy", "set", "lead_scoring", "--tenant", tenant)
    assert nothing.code == 1, nothing
    assert nothing.error()["error"] == "InvalidPolicy"


async def test_policy_set_releases_a_parked_run(cli: CliEnv) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    done = await cli.brain("start", "lead_scoring", "--example", "unsure", "--tenant", tenant)
    assert done.code == 0, done
    workflow_id = done.json()["workflow_id"]
    await cli.parked(workflow_id)

    # Autonomous, and the lead's confidence (0.64) now clears the threshold.
    flip = await cli.brain(
        "policy", "set", "lead_scoring", "--tenant", tenant,
        "--hitl", "off", "--threshold", "0.5", "--by", "admin",
    )  # fmt: skip
    assert flip.code == 0, flip

    result = await _result(cli, workflow_id)
    assert result.state is RunState.COMPLETED
    assert result.decision is not None
    assert (result.decision.channel, result.decision.actor) == ("policy", "admin")


async def test_bad_requests_exit_non_zero_with_the_reason(cli: CliEnv) -> None:
    missing = await cli.brain("status", "lead_scoring:local:no-such-run")
    assert missing.code == 1, missing
    assert missing.error()["error"] == "NotFound"

    unknown = await cli.brain("start", "no_such_process", "--example", "unsure")
    assert unknown.code == 2, unknown

    other = cli.home / "content_generation_unsure.json"
    other.write_text(json.dumps(example("content_generation", "unsure")))
    invalid = await cli.brain("start", "lead_scoring", "--input", other)
    assert invalid.code == 1, invalid
    assert invalid.error()["error"] == "ValidationError"


async def test_example_prints_the_definitions_body_for_a_pipe(cli: CliEnv) -> None:
    for kind in ("confident", "unsure"):
        done = await cli.brain("example", "lead_processing", kind)
        assert done.code == 0, done
        assert done.json() == example("lead_scoring", kind)
    assert (await cli.brain("example", "lead_scoring")).json() == example("lead_scoring", "unsure")
    unknown = await cli.brain("example", "lead_scoring", "maybe")
    assert unknown.code == 1 and unknown.error()["error"] == "UnknownExample", unknown
    # What the README pipes into curl -d @- works as a start body.
    piped = await run_cmd(
        Path("/bin/bash"), "-c", f"{BRAIN} example product_sourcing | {BRAIN} start "
        "product_sourcing --input -", env=cli.env, cwd=cli.home,
    )  # fmt: skip
    assert piped.code == 0, piped
    assert piped.json()["process"] == "product_sourcing"


TOKEN_ARGS = ("token", "--sub", "ops", "--tenant", "acme", "--role", "admin")


async def test_token_answers_json_and_raw_prints_the_token_alone(cli: CliEnv) -> None:
    done = await cli.brain(*TOKEN_ARGS, "--ttl", "600")
    assert done.code == 0, done
    minted = done.json()
    assert minted.keys() == {"token", "expires_at"}
    claims = jwt.decode(minted["token"], DEV_JWT_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["tenant"], claims["role"]) == ("ops", "acme", "admin")
    assert claims["exp"] - claims["iat"] == 600
    expires_at = datetime.fromisoformat(minted["expires_at"])
    assert expires_at.tzinfo is not None and expires_at.timestamp() == claims["exp"]

    raw = await cli.brain(*TOKEN_ARGS, "--raw")
    assert raw.code == 0, raw
    assert raw.out.count("\n") == 1 and raw.out.count(".") == 2, raw.out
    assert jwt.decode(raw.out.strip(), DEV_JWT_SECRET, algorithms=["HS256"])["sub"] == "ops"


async def test_token_carries_audience_and_issuer_and_respects_the_maximum(cli: CliEnv) -> None:
    secret = "cli-token-test-secret-0123456789abcdef"
    env = cli.env | {
        "BRAIN_JWT_SECRET": secret,
        "BRAIN_JWT_AUDIENCE": "brain-api",
        "BRAIN_JWT_ISSUER": "brain-test",
        "BRAIN_JWT_MAX_TTL_SECONDS": "3600",
    }
    done = await run_cmd(BRAIN, *TOKEN_ARGS, "--ttl", "3600", env=env, cwd=cli.home)
    assert done.code == 0, done
    token = done.json()["token"]
    claims = jwt.decode(
        token, secret, algorithms=["HS256"], audience="brain-api", issuer="brain-test"
    )
    assert claims["exp"] - claims["iat"] == 3600

    too_long = await run_cmd(BRAIN, *TOKEN_ARGS, "--ttl", "3601", env=env, cwd=cli.home)
    assert too_long.code == 2, too_long
    assert "BRAIN_JWT_MAX_TTL_SECONDS=3600" in too_long.err
    default_max = await cli.brain(*TOKEN_ARGS, "--ttl", str(7 * 86400 + 1))
    assert default_max.code == 2 and "BRAIN_JWT_MAX_TTL_SECONDS" in default_max.err


async def test_api_and_worker_refuse_the_built_in_jwt_secret(cli: CliEnv) -> None:
    for command in ("api", "worker"):
        done = await cli.brain(command)  # cli.env sets no BRAIN_JWT_SECRET
        assert done.code == 1, (command, done)
        refused = done.error()
        assert refused["error"] == "InsecureJwtSecret", (command, refused)
        assert "BRAIN_JWT_SECRET" in refused["detail"]
    # With HS256 off nobody mints with the built-in secret, but the door key would still be
    # derived from it: refused until BRAIN_DOOR_KEY gives a real one.
    hs256_off = cli.env | {"BRAIN_JWT_HS256_ENABLED": "false"}
    for env in (hs256_off, hs256_off | {"BRAIN_DOOR_KEY": "short"}):
        for command in ("api", "worker"):
            done = await run_cmd(BRAIN, command, env=env, cwd=cli.home)
            assert done.code == 1, (command, done)
            assert done.error()["error"] == "NoDoorKey", (command, done)
            assert "BRAIN_DOOR_KEY" in done.error()["detail"]
