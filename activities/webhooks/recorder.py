"""The deliverer's recorder: what the lanes' attempts did, written to the outbox rows."""

import asyncio
import contextlib

from activities.webhooks.claims import Claims, Outcome


class Recorder:
    """Records the lanes' outcomes, a statement per flush, one flush at a time. A flush
    first gathers for ``every`` seconds (nothing waits for it: a recorded row's lease only
    has to outlive it), so one statement records what many lanes sent."""

    def __init__(self, claims: Claims, every: float) -> None:
        self._claims = claims
        self._every = every
        self._pending: list[Outcome] = []
        self._flushing: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()

    def add(self, outcomes: list[Outcome]) -> None:
        self._pending.extend(outcomes)
        if self._flushing is None or self._flushing.done():
            self.raise_error()
            self._flushing = asyncio.create_task(self._flush(), name="webhooks recorder")

    async def _flush(self) -> None:
        while self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hurry.wait(), self._every)
            batch, self._pending = self._pending, []
            await self._claims.record(batch)

    async def drain(self) -> None:
        """Record what is pending now, without the gathering wait."""
        if self._flushing is not None:
            self._hurry.set()
            try:
                await self._flushing
            finally:
                self._hurry.clear()

    def raise_error(self) -> None:
        task = self._flushing
        if task is not None and task.done() and not task.cancelled() and task.exception():
            self._flushing = None
            raise task.exception()  # type: ignore[misc]
