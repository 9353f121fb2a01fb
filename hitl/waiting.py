"""Waiting for a decision: one timer at a time for the deadline, the next reminder or the
escalation, whichever comes first; votes toward a quorum shown on the run's row as they come."""

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

from hitl import ballot, steps
from hitl.state import GateState

with workflow.unsafe.imports_passed_through():
    from models.events import EventType
    from models.processes import Action, Channel

# A run parked for months with reminders every minute would outgrow its history.
MAX_REMINDERS = 500

Show = Callable[[], None]


async def await_decision(s: GateState, show: Show) -> None:
    while s.decision is None:
        s.wake = False
        wait, summary = next_wake(s)
        try:
            await workflow.wait_condition(
                lambda: s.decision is not None or s.wake or bool(s.unrecorded_votes),
                timeout=wait,
                timeout_summary=summary,
            )
        except TimeoutError:
            if s.decision is None and not s.wake:
                await _on_timer(s, show)
        if s.unrecorded_votes and s.decision is None and s.current:
            await steps.record_votes(s)
    s.unrecorded_votes = []


def next_wake(s: GateState) -> tuple[timedelta, str]:
    """The next timer: the approval's deadline, or a reminder or escalation before it."""
    assert s.approval is not None and s.policy is not None
    when, what = s.approval.expires_at, "approval timeout"
    if s.current:
        requested, p = s.approval.requested_at, s.policy
        if p.escalate_after_seconds and not s.escalated:
            at = requested + timedelta(seconds=p.escalate_after_seconds)
            when, what = min((when, what), (at, "escalation"))
        if p.remind_every_seconds and s.reminders_sent < MAX_REMINDERS:
            at = requested + timedelta(seconds=p.remind_every_seconds * (s.reminders_sent + 1))
            when, what = min((when, what), (at, "reminder"))
    return max(when - workflow.now(), timedelta(milliseconds=1)), what


async def _on_timer(s: GateState, show: Show) -> None:
    assert s.approval is not None and s.policy is not None
    now = workflow.now()
    if now >= s.approval.expires_at:
        decide_on_timeout(s)
        show()
        return
    p, since = s.policy, (now - s.approval.requested_at).total_seconds()
    if p.escalate_after_seconds and not s.escalated and since >= p.escalate_after_seconds:
        s.escalated = True
        await steps.publish(s, EventType.APPROVAL_ESCALATED.value, 1)
    if p.remind_every_seconds:
        due = min(int(since // p.remind_every_seconds), MAX_REMINDERS)
        if due > s.reminders_sent:
            s.reminders_sent = due
            await steps.publish(s, EventType.APPROVAL_REMINDER.value, due)


def decide_on_timeout(s: GateState) -> None:
    assert s.policy is not None and s.approval is not None
    action = Action(s.policy.on_timeout)
    comment = f"no decision within {s.policy.approval_timeout_seconds} s"
    if action is Action.APPROVE and s.approval.proposal is None:
        # Nothing valid to approve: a step that needs review can only time out rejected.
        action, comment = Action.REJECT, comment + "; nothing valid to approve"
    now = workflow.now()
    ballot.claim(s, action, actor="timeout", channel=Channel.TIMEOUT, comment=comment, now=now)
