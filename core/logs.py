"""Process logging: plain text for people, or one JSON object per line for log pipelines.

JSON lines carry the run they concern — ``workflow_id``, ``run_id``, ``tenant`` and
``process`` — whichever logger wrote them: the SDK's ``workflow.logger`` and
``activity.logger`` attach the run (``temporal_workflow`` / ``temporal_activity`` extras),
a module logger inside an activity gets it from ``activity.info()``, and the tenant and
the process come from the workflow id, which is Brain's business key
(``<process>:<tenant>:<key>``, ``policy-broadcast:<process>:<tenant>:v<n>``).
"""

import logging
import sys
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from temporalio import activity, workflow

from core.settings import LogFormat
from models.processes import registered_names

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TEMPORAL_EXTRAS = ("temporal_activity", "temporal_workflow", "activity_info", "workflow_info")


def business_key(workflow_id: str) -> tuple[str, str] | None:
    """``(process, tenant)`` named by a Brain workflow id; ``None`` for any other id."""
    parts = workflow_id.split(":")
    if parts[0] == "policy-broadcast":
        parts = parts[1:]
    if len(parts) >= 3 and parts[0] in registered_names():
        return parts[0], parts[1]
    return None


def run_context(record: logging.LogRecord) -> dict[str, Any]:
    """The run a record concerns, from the SDK's extras or the current activity."""
    details: dict[str, Any] = {}
    temporal = getattr(record, "temporal_workflow", None) or getattr(
        record, "temporal_activity", None
    )
    if isinstance(temporal, dict):
        details["workflow_id"] = temporal.get("workflow_id")
        details["run_id"] = temporal.get("run_id") or temporal.get("workflow_run_id")
        for key in ("workflow_type", "activity_type", "attempt", "update_name"):
            if temporal.get(key) is not None:
                details[key] = temporal[key]
    elif activity.in_activity():
        info = activity.info()
        details.update(
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            activity_type=info.activity_type,
            attempt=info.attempt,
        )
    workflow_id = details.get("workflow_id")
    owner = business_key(workflow_id) if workflow_id else None
    if owner is not None:
        details["process"], details["tenant"] = owner
    return {k: v for k, v in details.items() if v is not None}


class BrainJsonFormatter(JsonFormatter):
    """``{"level", "logger", "message", "time" (ISO, UTC), <run context>, <extras>}``."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            reserved_attrs=[*RESERVED_ATTRS, "taskName", *_TEMPORAL_EXTRAS],
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for key, value in run_context(record).items():
            # An explicit ``extra`` wins over what is derived.
            log_data.setdefault(key, value)


def setup_logging(fmt: LogFormat = LogFormat.text, level: int = logging.INFO) -> None:
    """Configure the root logger once for the process (``brain worker``/``api``/``up``)."""
    handler = logging.StreamHandler(sys.stderr)
    json_lines = fmt == LogFormat.json
    handler.setFormatter(BrainJsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every migration check at INFO.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # In JSON the run is a field: the SDK need not also append it to each message.
    activity.logger.activity_info_on_message = not json_lines
    workflow.logger.workflow_info_on_message = not json_lines


def json_logging() -> bool:
    """Whether the root logger writes JSON lines (uvicorn must then not install its own)."""
    return any(isinstance(h.formatter, BrainJsonFormatter) for h in logging.getLogger().handlers)
