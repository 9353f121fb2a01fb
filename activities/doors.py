"""Checking, for a run, that a message came from Brain (``temporal.door``).

A local activity: workflow code cannot hold the key (it would be in history for anyone to
read) and must not depend on it when replayed (a rotated key would turn a past verdict
around). The verdict is recorded, so a replay follows it."""

from temporalio import activity

from models.activity_io import VerifySignal
from temporal import door


class DoorActivities:
    @activity.defn
    async def verify_brain_signal(self, req: VerifySignal) -> bool:
        ok = door.verify(req.workflow_id, req.fields, req.signature, door.POLICY_CHANGED)
        if not ok:
            activity.logger.warning("a signal claiming to come from Brain is not signed by it")
        return ok
