"""What a Brain worker runs: the workflows and the activities bound to their clients.

Derived from the registered processes (``processes.registry``): each process's workflow
class is made from its definition (``workflows/process_workflow.py``) and its AI and apply
activities are built from it, so adding a process, in Brain or in a plugin, edits nothing
here. Shared by the worker entry point, the dev stack, the benchmark and the tests, so they
never drift apart.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.ai import AIActivities, ModelProvider
from activities.apply import ApplyActivities, ApplyGuard
from activities.audit import AuditActivities
from activities.broadcast import BroadcastActivities
from activities.doors import DoorActivities
from activities.policy import PolicyActivities
from activities.reconcile import ReconcileActivities
from activities.webhooks.events import EventSink
from activities.webhooks.gate_events import GateEventActivities
from activities.webhooks.parts import WEBHOOK_WORKFLOWS
from activities.webhooks.policy_events import PolicyEventActivities
from core.gate_metrics import GateMetrics
from hitl.gate import GatedWorkflow
from processes import registry
from store.policies import PolicyStore
from temporal import door
from workflows.policy_broadcast_workflow import PolicyBroadcastWorkflow
from workflows.process_workflow import workflow_class
from workflows.reconcile_runs_workflow import ReconcileRunsWorkflow

PROCESS_WORKFLOWS: tuple[type[GatedWorkflow], ...] = tuple(
    workflow_class(d) for d in registry.definitions()
)
# Brain's own workflows run beside the processes' on the same task queue.
WORKFLOWS: Sequence[type] = (
    *PROCESS_WORKFLOWS,
    PolicyBroadcastWorkflow,
    *WEBHOOK_WORKFLOWS,
    ReconcileRunsWorkflow,
)


def build_activities(
    sessions: async_sessionmaker[AsyncSession],
    policies: PolicyStore,
    provider: ModelProvider,
    apply_guard: ApplyGuard | None = None,
    client: Client | None = None,
    metrics: GateMetrics | None = None,
    events: EventSink | None = None,
    door_key: bytes | None = None,
) -> list[Callable[..., Any]]:
    """``client``: the Temporal client the policy broadcast signals parked runs with; a worker
    without it does not run broadcasts' activities (another worker must). ``metrics``: where
    the gate's metrics go (default: the process's registry). ``events``: the webhook outbox
    runs write their events to (none: not told). ``door_key``: the key that proves a decision came
    through the REST door (``temporal.door``), set for this worker process."""
    if door_key is not None:
        door.configure(door_key)
    gate = PolicyActivities(sessions, policies, metrics, events)
    audit = AuditActivities(sessions, metrics, events)
    ai = AIActivities(provider, policies)
    activities: list[Callable[..., Any]] = [
        ai.propose_at_gates,
        *ai.activities(),
        *ApplyActivities(sessions, apply_guard, metrics, events).activities(),
        gate.open_gate,
        gate.open_gates,
        gate.park,
        gate.refresh_policy,
        DoorActivities().verify_brain_signal,
        audit.record_decision,
        audit.record_vote,
        audit.record_outcome,
        GateEventActivities(sessions, events).publish_gate_event,
    ]
    if client is not None:
        activities += [
            BroadcastActivities(client, sessions, policies).signal_stale_runs,
            PolicyEventActivities(sessions, policies, events).publish_policy_changed,
        ]
        activities.append(ReconcileActivities(client, sessions).reconcile_runs)
    return activities
