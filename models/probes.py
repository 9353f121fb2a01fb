"""What the probes answer (``/health/live``, ``/health/ready``), on the API's port and on a
worker's metrics port alike."""

from typing import Literal

from pydantic import BaseModel

Up = Literal["up", "down"]


class Liveness(BaseModel):
    """The process answers: its event loop is not stuck. Nothing outside it is asked, so a
    dependency's outage never gets a healthy process restarted."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether to send this process work: Temporal answers, the database answers, and the task
    queue can be described (the namespace exists and Brain's credentials may use it). A
    worker also says whether it is polling; until it is, the other checks are not made."""

    status: Literal["ready", "not_ready"]
    temporal: Up | None = None
    database: Up | None = None
    task_queue: Up | None = None
    # Workers only: ``starting`` until it polls, ``stopping`` once it was told to stop.
    worker: Literal["starting", "polling", "stopping"] | None = None
