"""Changing a policy: shared by the REST API and the CLI.

A change is written (new version, change logged, its ``policy.changed`` event queued for
subscribers, in one transaction), counted, then announced to parked runs by one broadcast
workflow per version (SPEC §2: they react within seconds).
"""

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from activities.webhooks.outbox import Outbox
from activities.webhooks.policy_events import PolicyEvents
from core.gate_metrics import default_metrics
from models.broadcast import PolicyBroadcast
from models.hitl import Policy, PolicyChange, PolicyFields
from models.processes import Process
from store.policies import PolicyStore
from workflows.policy_broadcast_workflow import PolicyBroadcastWorkflow, workflow_id_for


class BroadcastNotStarted(Exception):
    """The policy was saved, but parked runs could not be told yet; repeating the change
    is harmless (a run ignores a version it has seen)."""

    def __init__(self, policy: Policy, cause: Exception) -> None:
        super().__init__(
            f"policy version {policy.version} was saved, but parked runs could not be told "
            f"yet ({cause}); repeat the change to retry"
        )
        self.policy = policy


async def change_policy(
    client: Client,
    policies: PolicyStore,
    *,
    task_queue: str,
    process: Process,
    tenant: str,
    changed_by: str,
    patch: PolicyFields,
    gate: str | None = None,
) -> Policy:
    """Write the change to ``gate``'s policy (``None``: the process's first gate), its
    ``policy.changed`` event with it, and announce it. Raises ``ValueError`` for bad values,
    ``KeyError`` for a gate the process does not have, ``BroadcastNotStarted`` when the
    announcement failed after the write."""
    # The event goes to the deliverer of the queue the broadcast runs on.
    events = PolicyEvents(policies, Outbox(task_queue))
    policy = await policies.set(
        process, tenant, patch, changed_by=changed_by, gate=gate, then=events.write
    )
    given = patch.model_dump(exclude_none=True)
    default_metrics().policy_changed(process, iter(given))
    change = PolicyChange(
        process=process,
        tenant=tenant,
        version=policy.version,
        changed_by=changed_by,
        gate=policy.gate,
    )
    try:
        await announce(client, change, task_queue)
    except RPCError as err:
        raise BroadcastNotStarted(policy, err) from err
    return policy


async def announce(client: Client, change: PolicyChange, task_queue: str) -> str:
    """Start the broadcast for this version; return its workflow id. The id comes from the
    version, so a retried announcement joins the running broadcast; once that has closed a
    new one may run again, which is harmless and covers a database that was reset while
    Temporal kept the old broadcasts."""
    workflow_id = workflow_id_for(change)
    await client.start_workflow(
        PolicyBroadcastWorkflow.run,
        PolicyBroadcast(change=change),
        id=workflow_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return workflow_id
