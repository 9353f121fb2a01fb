"""Events Brain tells people and apps about (SPEC §6), and the links each one carries.

An event's id is derived from what happened, never random (SPEC §8): ``<approval_id>:<type>``
for an approval's events, ``<workflow_id>:<type>`` for a run's, with ``:<n>`` after the type
for a fact that repeats (the n-th reminder, a vote). Re-emitting the same fact after a
retry or a replay yields the same id, so it is delivered once per subscription (the outbox's
unique key, ``activities/webhooks/outbox.py``).
"""

from enum import StrEnum
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field

from models.timestamps import Timestamp


class EventType(StrEnum):
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_REMINDER = "approval.reminder"
    APPROVAL_ESCALATED = "approval.escalated"
    APPROVAL_DECIDED = "approval.decided"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"
    POLICY_CHANGED = "policy.changed"


class Event(BaseModel):
    """``data`` holds ``workflow_id``, ``process``, ``state``, ``approval`` (approval.*) or
    ``result``/``error`` (run.*), ``links`` (``run_links``), and optionally ``subject`` (a
    short human name of what the run is about, shown by the Slack format)."""

    id: str = Field(min_length=1, max_length=600)
    type: EventType
    created_at: Timestamp
    tenant: str = Field(min_length=1, max_length=128)
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def process(self) -> str | None:
        process = self.data.get("process")
        return str(process) if process is not None else None

    @property
    def workflow_id(self) -> str | None:
        workflow_id = self.data.get("workflow_id")
        return str(workflow_id) if workflow_id is not None else None


def event_id(about: str, event_type: EventType, *repeat: str | int) -> str:
    """A deterministic id: ``event_id(approval_id, APPROVAL_REQUESTED)`` gives
    ``"<approval_id>:approval.requested"``; ``repeat`` tells apart the occurrences of a fact
    that happens more than once (``event_id(approval_id, APPROVAL_REMINDER, 2)``:
    ``"<approval_id>:approval.reminder:2"``)."""
    return ":".join([about, event_type.value, *(str(p) for p in repeat)])


class RunLinks(BaseModel):
    api: str
    web_ui: str


def run_links(workflow_id: str, *, api_url: str, web_ui_url: str, namespace: str) -> RunLinks:
    """The run in the REST API and in the Temporal Web UI (namespace-aware)."""
    # ":" is legal in a path segment and keeps the usual workflow ids readable.
    wid = quote(workflow_id, safe=":")
    ns = quote(namespace, safe="")
    return RunLinks(
        api=f"{api_url.rstrip('/')}/workflows/{wid}",
        web_ui=f"{web_ui_url.rstrip('/')}/namespaces/{ns}/workflows/{wid}",
    )
