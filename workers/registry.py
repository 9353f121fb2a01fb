"""What a Brain worker runs: the workflows and the activities bound to their clients.

Shared by the worker entry point, the dev stack and the tests, so they never drift apart.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.ai import AIActivities, ModelProvider
from activities.apply import ApplyActivities, ApplyGuard
from activities.audit import AuditActivities
from activities.broadcast import BroadcastActivities
from activities.policy import PolicyActivities
from hitl.metrics import GateMetrics
from store.policies import PolicyStore
from workflows import PROCESS_WORKFLOWS
from workflows.policy_broadcast_workflow import PolicyBroadcastWorkflow

WORKFLOWS: Sequence[type] = (*PROCESS_WORKFLOWS, PolicyBroadcastWorkflow)


def build_activities(
    sessions: async_sessionmaker[AsyncSession],
    policies: PolicyStore,
    provider: ModelProvider,
    apply_guard: ApplyGuard | None = None,
    client: Client | None = None,
    metrics: GateMetrics | None = None,
) -> list[Callable[..., Any]]:
    """``client``: the Temporal client the policy broadcast signals parked runs with; a worker
    without it does not run broadcasts' activities (another worker must). ``metrics``: where
    the gate's metrics go (default: the process's registry)."""
    ai = AIActivities(provider)
    gate = PolicyActivities(sessions, policies, metrics)
    audit = AuditActivities(sessions, metrics)
    apply = ApplyActivities(sessions, apply_guard, metrics)
    activities: list[Callable[..., Any]] = [
        ai.score_lead,
        ai.source_product,
        ai.tune_campaign,
        ai.generate_content,
        gate.open_gate,
        gate.refresh_policy,
        audit.record_decision,
        audit.record_outcome,
        apply.apply_lead,
        apply.apply_sourcing,
        apply.apply_campaign,
        apply.apply_content,
    ]
    if client is not None:
        activities.append(BroadcastActivities(client, sessions, policies).signal_stale_runs)
    return activities
