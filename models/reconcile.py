"""Inputs and results of the runs reconciliation (``ReconcileRunsWorkflow``): one model per
workflow and activity."""

from datetime import datetime

from pydantic import BaseModel, Field

# The whole namespace retention of `brain up`: the first pass finds rows left open by runs
# closed long before the schedule existed.
FIRST_PASS_SECONDS = 30 * 24 * 3600
# Each pass also looks this far behind the previous one: visibility records a close a little
# after it happened (seconds on Elasticsearch, longer when it is backlogged).
OVERLAP_SECONDS = 3600


class ReconcileRuns(BaseModel):
    """What the reconciler starts (and continues as new) with; defaults in production."""

    # Where the next pass starts; None: the first pass, ``first_pass_seconds`` back.
    since: datetime | None = None
    every_seconds: float = Field(20.0, gt=0)
    # Continue as new after this many passes: a short history, few entries in the Web UI.
    passes_per_run: int = Field(500, ge=1)
    first_pass_seconds: int = Field(FIRST_PASS_SECONDS, ge=1)
    overlap_seconds: int = Field(OVERLAP_SECONDS, ge=0)
    # A bound on one pass; abnormal closes are few, so it is never reached in practice.
    limit: int = Field(50_000, ge=1)


class ReconcilePass(BaseModel):
    """Look for Brain runs closed outside Brain since ``since``."""

    since: datetime
    limit: int = 50_000


# Ids named in a report: a first pass may write thousands of rows, and a report is a
# payload (the result is also handed to the next run), which Temporal caps at 2 MB.
SAMPLE = 50


class PassReport(BaseModel):
    # Brain runs closed terminated, timed out, failed or canceled since ``since``.
    found: int
    # Rows that still said open, now set to how their run closed; the first few, by id.
    updated: int = 0
    sample: list[str] = Field(default_factory=list, max_length=SAMPLE)
    truncated: bool = False
