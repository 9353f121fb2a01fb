"""The gate's domain metrics (Prometheus): approvals asked, decisions by door and outcome,
time to decide, auto-approvals, edits, policy changes, parked runs.

Recorded by the gate's activities and the API, never by workflow code: a workflow replays,
an activity's committed write does not. A decision is counted when its audit row is first
inserted, so retries and replays of the recording step never count it twice.

Rates (auto-approval, edit) are PromQL over these counters: see the README, "Observability".
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from models.hitl import Decision
from models.processes import Action, Channel, Process, registered_names

# From a minute to a month: people decide in minutes, hours or weeks.
_DECISION_BUCKETS = (
    1,
    10,
    60,
    300,
    900,
    3600,
    4 * 3600,
    86400,
    3 * 86400,
    7 * 86400,
    30 * 86400,
)


class GateMetrics:
    """The metrics on one registry; the process-wide instance is ``default_metrics()``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.approvals_requested = Counter(
            "brain_approvals_requested",
            "Proposals that parked for a person",
            ["process"],
            registry=r,
        )
        self.decisions = Counter(
            "brain_decisions",
            "Decisions recorded, by door (api, signal, policy, timeout, auto) and outcome",
            ["process", "channel", "outcome"],
            registry=r,
        )
        self.time_to_decision = Histogram(
            "brain_time_to_decision_seconds",
            "From parking to the decision, for decisions that needed a person",
            ["process", "channel"],
            buckets=_DECISION_BUCKETS,
            registry=r,
        )
        self.auto_approvals = Counter(
            "brain_auto_approvals",
            "Proposals approved with no person asked",
            ["process"],
            registry=r,
        )
        self.edited_approvals = Counter(
            "brain_edited_approvals", "Approvals that changed the proposal", ["process"], registry=r
        )
        self.policy_changes = Counter(
            "brain_policy_changes",
            "Policy writes, by the field they changed",
            ["process", "field"],
            registry=r,
        )

    def approval_requested(self, process: Process) -> None:
        self.approvals_requested.labels(process.value).inc()

    def decided(
        self, process: Process, decision: Decision, requested_at: datetime | None = None
    ) -> None:
        """A decision's audit row was just inserted (``requested_at``: when the run parked)."""
        channel, outcome = decision.channel.value, decision.action.value
        self.decisions.labels(process.value, channel, outcome).inc()
        if decision.channel is Channel.AUTO:
            self.auto_approvals.labels(process.value).inc()
        elif requested_at is not None:
            if requested_at.tzinfo is None:  # SQLite hands timestamps back naive, in UTC
                requested_at = requested_at.replace(tzinfo=UTC)
            waited = (decision.decided_at - requested_at).total_seconds()
            self.time_to_decision.labels(process.value, channel).observe(max(waited, 0.0))
        if decision.action is Action.APPROVE and decision.edits:
            self.edited_approvals.labels(process.value).inc()

    def policy_changed(self, process: Process, fields: Iterable[str]) -> None:
        for field in fields:
            self.policy_changes.labels(process.value, field).inc()


@lru_cache
def default_metrics() -> GateMetrics:
    """The process's instance, on the default registry that ``/metrics`` serves."""
    return GateMetrics(REGISTRY)


def parked_runs(counts: Mapping[str, int]) -> GaugeMetricFamily:
    """Runs waiting for a person, by process: read from the runs table when scraped, so it
    is right whichever worker parked them and after any restart."""
    family = GaugeMetricFamily(
        "brain_parked_runs", "Runs waiting for a decision", labels=["process"]
    )
    for process in sorted(registered_names()):
        family.add_metric([process], counts.get(process, 0))
    return family
