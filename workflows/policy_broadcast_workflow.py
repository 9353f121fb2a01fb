"""Policy broadcast: one run per policy version, so a change reaches every parked run of its
scope within seconds, durably, even if the API that made the change goes away."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.broadcast import BroadcastActivities
    from activities.webhooks.policy_events import PolicyEventActivities
    from models.broadcast import (
        BroadcastResult,
        PolicyBroadcast,
        SignalReport,
        SignalStaleRuns,
    )
    from models.hitl import PolicyChange

_RECHECK_EVERY = timedelta(seconds=1)
# A run that read the policy just before the change parks with the older version a moment
# after it: keep looking for such late parkers at least this long.
_SETTLE = timedelta(seconds=5)
# A run that never catches up (e.g. its worker is down) must not keep this run open forever.
_GIVE_UP_AFTER = timedelta(minutes=10)
_PASS_TIMEOUT = timedelta(minutes=2)
# Bounded: a pass that cannot succeed (the database gone for minutes) ends the broadcast
# visibly as failed; repeating the policy change starts another.
_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=20)
# Broadcasts started before they published ``policy.changed`` replay without the step.
PUBLISHES_EVENT = "broadcast-publishes-policy-changed"
# Since the outbox, the policy write queues ``policy.changed`` itself: broadcasts started
# since skip the step; those started before still take it (hitl/PATCHES.md).
EVENT_IN_POLICY_WRITE = "policy-changed-in-policy-write"


def workflow_id_for(change: PolicyChange) -> str:
    """Derived from the change, so announcing one version twice starts one broadcast."""
    return f"policy-broadcast:{change.process.value}:{change.tenant}:v{change.version}"


@workflow.defn
class PolicyBroadcastWorkflow:
    def __init__(self) -> None:
        self._passes = 0
        self._signalled = 0

    @workflow.run
    async def run(self, broadcast: PolicyBroadcast) -> BroadcastResult:
        started = workflow.now()
        if not workflow.patched(EVENT_IN_POLICY_WRITE) and workflow.patched(PUBLISHES_EVENT):
            await self._publish(broadcast.change)
        while True:
            report = await self._signal_stale(broadcast.change)
            elapsed = workflow.now() - started
            if report.stale == 0 and elapsed >= _SETTLE:
                return self._result(remaining=0)
            if elapsed >= _GIVE_UP_AFTER:
                workflow.logger.warning(
                    "policy %s v%d: %d parked run(s) still on an older version after %s",
                    broadcast.change.process.value,
                    broadcast.change.version,
                    report.stale,
                    _GIVE_UP_AFTER,
                )
                return self._result(remaining=report.stale, gave_up=True)
            await workflow.sleep(_RECHECK_EVERY)

    async def _publish(self, change: PolicyChange) -> None:
        try:
            await workflow.execute_activity_method(
                PolicyEventActivities.publish_policy_changed,
                change,
                start_to_close_timeout=_PASS_TIMEOUT,
                retry_policy=_RETRY,
            )
        except ActivityError as err:
            # Telling subscribers must not keep parked runs from hearing of the change.
            workflow.logger.warning("policy.changed not published: %s", err.cause or err)

    async def _signal_stale(self, change: PolicyChange) -> SignalReport:
        report = await workflow.execute_activity_method(
            BroadcastActivities.signal_stale_runs,
            SignalStaleRuns(change=change),
            start_to_close_timeout=_PASS_TIMEOUT,
            retry_policy=_RETRY,
        )
        self._passes += 1
        self._signalled += report.stale
        return report

    def _result(self, remaining: int, gave_up: bool = False) -> BroadcastResult:
        return BroadcastResult(
            passes=self._passes, signalled=self._signalled, remaining=remaining, gave_up=gave_up
        )

    @workflow.query(description="Passes so far and runs signalled.")
    def progress(self) -> BroadcastResult:
        return self._result(remaining=-1)
