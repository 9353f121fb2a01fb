"""Stopping within a bound: ``brain up``, ``brain worker`` and ``brain api`` (README, Stopping).

The first SIGINT or SIGTERM asks every part to stop and starts a clock of
``BRAIN_SHUTDOWN_TIMEOUT_SECONDS``. Whatever has not stopped when it runs out is left to
Temporal: a workflow or activity task that was in flight times out on the server and is
retried by the next worker, so nothing durable is lost. Then, or on a second signal, the
process leaves at once, after the ``on_force`` hooks (which kill the dev server).

A thread reads the signals, not the event loop. A loop held by a wedged call would never run
a loop signal handler, and the bound would hold only while the loop is healthy. CPython's
C-level handler writes each signal's number to the ``set_wakeup_fd`` pipe from whichever
thread it lands on, so the thread sees it in every case.
"""

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection
from typing import Any, NoReturn

log = logging.getLogger(__name__)

EXIT_CLEAN = 0
# The bound cut the stop short (the code timeout(1) uses): work in flight was left to
# Temporal's retries. A second signal exits with 128 + its number (130 for Ctrl-C, 143 for
# SIGTERM), as a process killed by it would.
EXIT_CUT_SHORT = 124
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_FLUSH_SECONDS = 0.5


class Stopper:
    """The stop of one process: ``event`` is set on the first signal (or by ``stop()``)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.event = asyncio.Event()
        self.cut_short = False
        self._deadline: float | None = None
        self._hooks: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        """Take over SIGINT and SIGTERM; call from the event loop, in the main thread."""
        self._loop = asyncio.get_running_loop()
        read, write = os.pipe()
        os.set_blocking(write, False)
        for sig in STOP_SIGNALS:
            # A no-op Python handler: the default ones would raise or terminate, and without
            # any Python handler CPython does not write to the wakeup fd.
            signal.signal(sig, _ignore)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        threading.Thread(
            target=self._read_signals, args=(read,), name="brain-stop", daemon=True
        ).start()

    def on_force(self, hook: Callable[[], None]) -> None:
        """``hook`` runs (from any thread) just before a forced exit."""
        self._hooks.append(hook)

    @property
    def stopping(self) -> bool:
        return self._deadline is not None

    def stop(self) -> None:
        """Begin stopping: set ``event`` and start the clock. Idempotent, from any thread."""
        with self._lock:
            if self._deadline is not None:
                return
            self._deadline = time.monotonic() + self.timeout
            why = f"the stop took longer than {self.timeout:g} s"
            self._timer = threading.Timer(self.timeout, self.force, (EXIT_CUT_SHORT, why))
            self._timer.daemon = True
            self._timer.start()
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self.event.set)
        else:
            self.event.set()

    def remaining(self, reserve: float = 0.0) -> float:
        """Seconds left on the clock (all of it before the stop), less ``reserve``."""
        left = self.timeout if self._deadline is None else self._deadline - time.monotonic()
        return max(left - reserve, 0.0)

    async def wait(self, tasks: Collection[asyncio.Task[Any]], reserve: float = 0.0) -> None:
        """Wait for ``tasks`` until the clock, less ``reserve``, runs out. Those still running
        are cancelled but not awaited (one may ignore the cancel), and cut the stop short."""
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self.remaining(reserve))
        for task in pending:
            log.warning("The %s did not stop in time; leaving it.", task.get_name())
            task.cancel()
            self.cut_short = True

    def finish(self, code: int = EXIT_CLEAN) -> int:
        """The exit code once the parts have stopped. After a cut-short stop this leaves at
        once: ``asyncio.run`` would otherwise wait for the tasks left behind. The clock keeps
        running either way: ``asyncio.run`` also waits for its executor's threads (a
        migration stuck on a database that does not answer, say), and the process must
        still leave in time."""
        if self.cut_short:
            self.force(EXIT_CUT_SHORT, "the stop was cut short")
        return code

    def force(self, code: int, why: str) -> NoReturn:
        """Run the hooks and leave now, from any thread; stdio gets a bounded flush."""
        for hook in self._hooks:
            with contextlib.suppress(Exception):
                hook()
        note = f"Brain: {why}, exit {code}; work in flight is left to Temporal's retries.\n"
        with contextlib.suppress(OSError):
            os.write(sys.stderr.fileno(), note.encode())
        # A flush can block (a full pipe nobody reads): a thread, given a moment, not forever.
        flusher = threading.Thread(target=_flush, daemon=True)
        flusher.start()
        flusher.join(_FLUSH_SECONDS)
        os._exit(code)

    def _read_signals(self, read: int) -> None:
        while data := os.read(read, 64):
            for signum in data:
                if signum not in STOP_SIGNALS:
                    continue
                if self.stopping:
                    self.force(128 + signum, f"a second {signal.Signals(signum).name}")
                self.stop()  # first: logging could block on a stream lock
                log.warning(
                    "Stopping (within %g s; %s again stops at once) ...",
                    self.timeout,
                    "Ctrl-C" if signum == signal.SIGINT else "SIGTERM",
                )


def _ignore(_signum: int, _frame: object) -> None:
    pass


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
