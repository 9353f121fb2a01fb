"""Bodies of the ops routes (SPEC §4 ``/ops/*``)."""

from typing import Any

from pydantic import BaseModel, Field, model_validator

from api.schemas import ProcessName, _Body
from models.timestamps import Timestamp


class FailedRunView(BaseModel):
    workflow_id: str
    run_id: str
    process: str | None
    tenant: str | None
    status: str = Field(description="failed, terminated, timed_out, or stuck (still running)")
    failure: str | None = Field(description="The failure message")
    failure_type: str | None = None
    step: str | None = Field(description="The failing step (activity type), or workflow_task")
    last_decision: dict[str, Any] | None = None
    since: Timestamp | None = None


class ReplayBody(_Body):
    workflow_id: str | None = Field(
        None, min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$"
    )
    process: ProcessName | None = None
    dry_run: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> "ReplayBody":
        if self.workflow_id is None and self.process is None:
            raise ValueError("name a workflow_id or a process")
        return self


class ReplayItemView(BaseModel):
    workflow_id: str
    old_run_id: str
    new_run_id: str | None = Field(description="null in a dry run or when not replayed")
    outcome: str = Field(description="replayed, dry run: ..., refused: <why>, or error: ...")
    reset_event_id: int | None = None


class ReplayResponse(BaseModel):
    items: list[ReplayItemView]
