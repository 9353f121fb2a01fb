"""A policy change reaching a parked run (SPEC §2): it re-evaluates; one that no longer needs
a person, or whose votes now meet the quorum, proceeds at once (channel ``policy``, the admin
as actor). Only a change to the gate the run waits at counts. A run never acts on a version
older than one it has seen, and a change naming a version nobody wrote is ignored. The
caller has checked that Brain signed the change (``hitl.gate``)."""

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from hitl import ballot, steps
from hitl.state import GateState

with workflow.unsafe.imports_passed_through():
    from models.hitl import Policy, PolicyChange
    from models.processes import Action, Channel
    from processes.kit.definition import ProcessDefinition


async def on_policy_change(
    s: GateState, definition: ProcessDefinition, change: PolicyChange, show: Callable[[], None]
) -> None:
    if not _applies(s, change.version) or not _same_gate(s, definition, change):
        return
    policy = _carried(s, change)
    s.read_in_this_task = False
    if policy is None or not ballot.settled_by_policy(s, policy):
        # It stays parked (or the signal carried nothing usable): read the policy, and
        # record the new threshold and deadline on the run's row for the inbox.
        s.read_in_this_task = True  # what a retry of this task would read again
        try:
            policy = await steps.refresh_policy(s, change.version)
        except (ActivityError, ApplicationError) as err:
            # A change that names a version nobody wrote is ignored, never fatal.
            cause = err.cause if isinstance(err, ActivityError) else err
            s.ignore(f"policy change ignored: {cause or err}")
            show()
            return
        # Anything may have happened during the await; re-check before acting.
        if not _applies(s, policy.version):
            return
    assert s.approval is not None
    s.policy, s.approval = policy, s.approval.under(policy)
    if not ballot.settled_by_policy(s, policy):
        s.wake = True
        show()
        return
    ballot.claim(
        s,
        Action.APPROVE,
        actor=change.changed_by,
        channel=Channel.POLICY,
        comment=f"released by policy version {policy.version}",
        now=workflow.now(),
    )
    show()


def _applies(s: GateState, version: int) -> bool:
    if s.approval is None or s.decision is not None or s.run is None:
        return False
    assert s.policy is not None
    return version > s.policy.version


def _same_gate(s: GateState, definition: ProcessDefinition, change: PolicyChange) -> bool:
    """A change to another gate's policy is not this run's news. No gate name (a change or
    a run from before gates had names) means the process's first gate."""
    first = definition.gates[0].name
    return (change.gate or first) == (s.gate or first)


def _carried(s: GateState, change: PolicyChange) -> Policy | None:
    """The policy the broadcast carried, if it is for this run, its gate and recent
    enough."""
    policy = change.policy
    assert s.run is not None
    if (
        policy is None
        or policy.version < change.version
        or policy.process != s.run.process
        or policy.tenant != s.run.tenant
        or (s.version >= 5 and policy.gate != s.gate)
    ):
        return None
    return policy
