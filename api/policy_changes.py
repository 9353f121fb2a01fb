"""A policy write, then its broadcast to parked runs (SPEC §2: "within seconds")."""

import logging
from typing import Any

from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from api import errors
from api.auth import Principal
from api.state import AppState
from hitl.metrics import default_metrics
from models.broadcast import PolicyBroadcast
from models.hitl import GLOBAL_TENANT, Policy, PolicyChange
from models.processes import Process
from workflows.policy_broadcast_workflow import PolicyBroadcastWorkflow, workflow_id_for

log = logging.getLogger(__name__)


def parse_process(name: str) -> Process:
    try:
        return Process.parse(name)
    except ValueError:
        raise errors.UnknownProcess(f"unknown process {name!r}") from None


async def change_policy(
    state: AppState, principal: Principal, process: Process, tenant: str | None, **fields: Any
) -> Policy:
    tenant = tenant or GLOBAL_TENANT
    policy = await state.policies.set(process, tenant, changed_by=principal.sub, **fields)
    default_metrics().policy_changed(process, (k for k, v in fields.items() if v is not None))
    change = PolicyChange(
        process=process, tenant=tenant, version=policy.version, changed_by=principal.sub
    )
    await announce(state, change)
    return policy


async def announce(state: AppState, change: PolicyChange) -> None:
    """Start the broadcast for this version. Its id is derived from the version, so a retried
    announcement joins the running broadcast; once that has closed a new one may run again,
    which is harmless (a run ignores a version it has seen) and covers a database that was
    reset while Temporal kept the old broadcasts."""
    try:
        await state.client.start_workflow(
            PolicyBroadcastWorkflow.run,
            PolicyBroadcast(change=change),
            id=workflow_id_for(change),
            task_queue=state.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except RPCError as e:
        # The policy is saved and new runs obey it; only parked runs miss the news. Saying
        # so (503) lets the caller retry: a repeated change is harmless.
        log.error("policy v%d saved but its broadcast did not start: %s", change.version, e)
        raise errors.Unavailable(
            f"policy version {change.version} was saved, but parked runs could not be told "
            "yet; repeat the change to retry",
            retry_after=5,
        ) from None
