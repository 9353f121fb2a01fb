"""Inputs and results of the policy broadcast: one model per workflow and activity."""

from pydantic import BaseModel

from models.hitl import PolicyChange


class PolicyBroadcast(BaseModel):
    """Make every parked run of ``change.process`` (and tenant, unless ``*``) see the change."""

    change: PolicyChange


class SignalStaleRuns(BaseModel):
    change: PolicyChange
    # Per pass; a larger backlog is worked through by the following passes.
    limit: int = 1000


class SignalReport(BaseModel):
    # Parked runs of the scope still holding an older policy version (all were signalled).
    stale: int
    # Rows that claim a parked run whose workflow has closed: nothing left to tell.
    closed: int = 0


class BroadcastResult(BaseModel):
    passes: int
    signalled: int
    remaining: int
    gave_up: bool = False
