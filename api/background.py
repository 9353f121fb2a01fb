"""Work a request hands off so that it can answer at once (Slack wants its 200 within 3 s):
tasks held by the app's state, so none is garbage-collected mid-flight, and awaited when the
app shuts down, so a decision already taken still gets its answer posted."""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

# How long shutdown waits for them: a decision waits up to 10 s for its worker, then its
# reply is posted.
DRAIN_SECONDS = 30.0


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` after the response; it inherits the request's context (its tenant
        scope among it). A failure is logged: there is no caller left to raise it to."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    async def drain(self, within: float) -> None:
        """Wait for the tasks in flight, up to ``within`` seconds; cancel what is left."""
        pending = set(self._tasks)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=within)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())
