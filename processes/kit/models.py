"""Base classes of a process's own models: its input, its proposal and its business row.

The bases carry what every process needs and no process should have to remember: strict
fields, the edge checks of ``safety``, derived fields, the unique key of the apply step.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import DateTime
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from models.safety import check_value
from models.timestamps import Timestamp


class _Checked(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _safe(cls, value: Any) -> Any:
        # Nested models are checked by their own validator; everything else here.
        if isinstance(value, BaseModel):
            return value
        if isinstance(value, list):
            return [v if isinstance(v, BaseModel) else check_value(v) for v in value]
        return check_value(value)


class ProcessInput(_Checked):
    """A process's input. ``extra="forbid"``: a stray field (a ``tenant`` in a start body)
    is refused, not silently obeyed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    def subject(self) -> str:
        """What the run is about, in a few words (the Web UI's summary, Slack messages)."""
        raise NotImplementedError


class InputPart(_Checked):
    """A nested part of an input, under the same rules."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class Proposal(_Checked):
    """What an AI step proposes. Its validators may read the run's input from the
    validation context (``info.context["input"]``) and recompute ``derived`` fields."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # Fields computed from others; an edit may not set them to anything else.
    derived: ClassVar[tuple[str, ...]] = ()

    rationale: str = Field(min_length=1, max_length=5000)


T = TypeVar("T", bound=BaseModel)


def repeated(names: Iterable[str]) -> list[str]:
    """The names given more than once, sorted: for inputs keyed by name."""
    counts = Counter(names)
    return sorted(n for n, count in counts.items() if count > 1)


def input_of(info: ValidationInfo, kind: type[T]) -> T | None:
    """The run's input from the validation context, as ``kind``."""
    run_input = (info.context or {}).get("input")
    if run_input is None or isinstance(run_input, kind):
        return run_input
    return kind.model_validate(run_input)


def utcnow() -> datetime:
    return datetime.now(UTC)


class BusinessRow(SQLModel):
    """Written by the apply step, once per workflow: the unique key makes a retried or
    replayed apply a no-op."""

    id: int | None = TableField(default=None, primary_key=True)
    workflow_id: str = TableField(max_length=300, unique=True)
    tenant: str = TableField(max_length=128, index=True)
    approval_id: str = TableField(max_length=300)
    created_at: Timestamp = TableField(default_factory=utcnow, sa_type=DateTime(timezone=True))
