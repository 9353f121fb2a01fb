"""The stack the bench measures, all on this machine: an in-memory Temporal dev server, a
Brain worker, a baseline worker and a tuned-baseline worker with its door (each in its own
process), and the API in processes of its own (``brain api --workers N``), so that the load
generator never shares an event loop with what it measures."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.baseline import create_table
from store import statement_counts
from store.db import make_engine, make_sessionmaker, migrate
from store.scratch import scratch_postgres
from temporal.search_attributes import ALL as SEARCH_ATTRIBUTES

BRAIN_QUEUE = "bench-brain"
JWT_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
_REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def cpu_seconds(self) -> float:
        """User + system CPU of the process and its children (uvicorn workers)."""
        return _cpu(self.pid)

    def check(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _cpu(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total
    except psutil.Error:
        return 0.0


def _postgres_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``database`` (the server is shared with
    whatever else runs on this machine: only this database's backends count). A backend that
    exited took its CPU with it; the pools keep theirs for the whole run."""
    total = 0.0
    for proc in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(proc.info["cmdline"] or [])
            if proc.info["name"] and "postgres" in proc.info["name"] and f" {database} " in cmd:
                total += sum(proc.cpu_times()[:2])
    return total


def _temporal_pid() -> int:
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.name().startswith("temporal"):
                return child.pid
    return 0


@dataclass
class Stack:
    client: Client
    temporal_address: str
    database_url: str
    database_kind: str
    api_url: str
    workdir: Path
    brain_worker: Proc
    baseline_worker: Proc
    tuned_worker: Proc
    api: Proc
    # The tuned baseline's door (bench/tuned_door.py): its runs start in its worker's process.
    tuned_url: str = ""
    procs: list[Proc] = field(default_factory=list)
    temporal_pid: int = 0
    # Where each process writes its database counters (bench/dbcounts.py).
    counts_dir: Path = Path()

    def check(self) -> None:
        for proc in self.procs:
            proc.check()

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each part of the stack (``db``: PostgreSQL's backends for
        this database; SQLite's work is inside the processes), and of the load generator."""
        db = 0.0
        if self.database_kind == "postgres":
            db = _postgres_cpu(make_url(self.database_url).database or "")
        return {
            "api": self.api.cpu_seconds(),
            "brain_worker": self.brain_worker.cpu_seconds(),
            "baseline_worker": self.baseline_worker.cpu_seconds(),
            "tuned_worker": self.tuned_worker.cpu_seconds(),
            "temporal": _cpu(self.temporal_pid) if self.temporal_pid else 0.0,
            "db": db,
            "load_generator": sum(psutil.Process().cpu_times()[:2]),
        }


def _spawn(name: str, args: list[str], env: dict[str, str], workdir: Path) -> Proc:
    log = workdir / f"{name}.log"
    out = log.open("wb")
    popen = subprocess.Popen(
        [sys.executable, *args],
        cwd=_REPO,
        env={**env, statement_counts.ROLE_ENV: name.replace("-", "_")},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    return Proc(name, popen, log)


async def _wait_http(url: str, proc: Proc, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            proc.check()
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url, timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{proc.name} did not answer {url} within {within} s:\n{proc.tail()}")


async def _baseline_table(db_url: str) -> None:
    """The baselines' table, created once here: two workers creating it at once would race
    (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a concurrent one)."""
    # Not Brain's: no tenants, so the owner's plain connection.
    engine = make_engine(db_url, app_role=False)
    try:
        await create_table(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def running_stack(database: str, api_workers: int = 1) -> AsyncIterator[Stack]:
    """``database``: ``postgres`` (a fresh database on 127.0.0.1:5432, migrated by its
    owner, the app acting as the row-level-security role ``brain_app`` as in production;
    dropped afterwards) or ``sqlite`` (a file in a temp dir, Brain's embedded default)."""
    workdir = Path(tempfile.mkdtemp(prefix="brain-bench-"))
    scratch = contextlib.AsyncExitStack()
    if database == "postgres":
        db_url = await scratch.enter_async_context(scratch_postgres("brain_bench"))
    else:
        db_url = f"sqlite+aiosqlite:///{workdir / 'brain.db'}"
    await migrate(db_url)
    await _baseline_table(db_url)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        # The tuned baseline's eager starts (on by default in recent servers; said here so a
        # server that defaults it off cannot quietly turn the tuned column into the bare one).
        dev_server_extra_args=["--dynamic-config-value", "system.enableEagerWorkflowStart=true"],
    )
    procs: list[Proc] = []
    finished = False
    try:
        address = env.client.service_client.config.target_host
        port = free_port()
        child_env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            # A deployed worker has bytecode. Without it the workflow sandbox, which
            # re-imports the workflow modules for every run, compiles them from source each
            # time: with PYTHONDONTWRITEBYTECODE=1 that was 12% of the worker's CPU.
            "PYTHONPYCACHEPREFIX": str(workdir / "pycache"),
            "BRAIN_TEMPORAL_ADDRESS": address,
            "BRAIN_TEMPORAL_NAMESPACE": "default",
            "BRAIN_DATABASE_URL": db_url,
            "BRAIN_TASK_QUEUE": BRAIN_QUEUE,
            "BRAIN_JWT_SECRET": JWT_SECRET,
            "BRAIN_REDIS_URL": "",
            "BRAIN_RATE_LIMIT_PER_MINUTE": "0",
            "BRAIN_HOME": str(workdir / "home"),
            "BRAIN_AI_PROVIDER": "rules",
            # The bench's one webhook receiver listens on 127.0.0.1.
            "BRAIN_WEBHOOK_ALLOW_PRIVATE": "true",
            statement_counts.DIR_ENV: str(workdir / "sqlcounts"),
            "PYTHONUNBUFFERED": "1",
        }
        brain_worker = _spawn("brain-worker", ["-m", "bench.brain_worker"], child_env, workdir)
        procs.append(brain_worker)
        baseline_worker = _spawn("baseline-worker", ["-m", "bench.baseline"], child_env, workdir)
        procs.append(baseline_worker)
        tuned_port = free_port()
        tuned_args = ["-m", "bench.baseline_tuned", str(tuned_port)]
        tuned_worker = _spawn("tuned-worker", tuned_args, child_env, workdir)
        procs.append(tuned_worker)
        api_args = ["-m", "bench.api_server", str(api_workers), str(port)]
        api = _spawn("api", api_args, child_env, workdir)
        procs.append(api)
        api_url = f"http://127.0.0.1:{port}/api/brain"
        await _wait_http(f"{api_url}/health", api)
        tuned_url = f"http://127.0.0.1:{tuned_port}"
        await _wait_http(f"{tuned_url}/health", tuned_worker)
        stack = Stack(
            client=env.client,
            temporal_address=address,
            database_url=db_url,
            database_kind=database,
            api_url=api_url,
            workdir=workdir,
            brain_worker=brain_worker,
            baseline_worker=baseline_worker,
            tuned_worker=tuned_worker,
            api=api,
            tuned_url=tuned_url,
            procs=procs,
            temporal_pid=_temporal_pid(),
            counts_dir=workdir / "sqlcounts",
        )
        yield stack
        finished = True
    finally:
        for proc in reversed(procs):
            proc.stop()
        await env.shutdown()
        with contextlib.suppress(Exception):
            await scratch.aclose()
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            # Keep the processes' logs for the post-mortem.
            print(f"bench: logs kept in {workdir}", file=sys.stderr)


def sessions_for(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = make_engine(url)
    return engine, make_sessionmaker(engine)
