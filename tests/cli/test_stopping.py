"""Stopping is always bounded (README, Stopping): `brain up` and `brain worker` with a run
wedged in an activity that never returns (even one that blocks the event loop) stop within
BRAIN_SHUTDOWN_TIMEOUT_SECONDS, leave no process and no port behind, and the runs they had
parked can still be decided after a restart on the same home. A second signal stops at
once; `brain up` SIGKILLed takes its dev server with it."""

import asyncio
import json
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from cli.stopping import EXIT_CLEAN, EXIT_CUT_SHORT
from hitl.gate import GatedWorkflow
from tests.cli.conftest import BRAIN, clean_env, run_cmd
from tests.cli.procs import alive, answers, descendants_of, free_ports, kill_all, until
from tests.cli.wedge import Wedge
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]
WEDGED_BRAIN = ("-m", "tests.cli.wedge")  # `brain`, whose worker also runs WedgedWorkflow
BOUND = 4.0  # BRAIN_SHUTDOWN_TIMEOUT_SECONDS here: short, to keep the tests quick
SLACK = 3.0  # the process's own exit, on a busy two-core machine
STARTUP_TIMEOUT = 120


class Proc:
    """A `brain` process (through tests.cli.wedge), its output in a file."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc, self.log = proc, log

    @classmethod
    async def start(cls, *args: object, env: dict[str, str], cwd: Path, log: Path) -> "Proc":
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *WEDGED_BRAIN, *map(str, args),
                stdout=out, stderr=asyncio.subprocess.STDOUT, env=env, cwd=cwd,
            )  # fmt: skip
        return cls(proc, log)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def until(self, marker: str) -> None:
        async def seen() -> bool:
            assert self.proc.returncode is None, f"it ended early:\n{self.output()}"
            return marker in self.output()

        await eventually(seen, within=STARTUP_TIMEOUT)

    async def stop(self, sig: int, again_after: float | None = None) -> tuple[float, int]:
        """Send ``sig`` (twice with ``again_after``); (seconds until it exited, exit code)."""
        began = time.monotonic()
        self.proc.send_signal(sig)
        if again_after is not None:
            await asyncio.sleep(again_after)
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), BOUND + 30)
        return time.monotonic() - began, code

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def _start_parked(env: dict[str, str], cwd: Path) -> str:
    started = await run_cmd(
        BRAIN, "start", "lead_scoring", "--example", "unsure",
        env=env, cwd=cwd,
    )  # fmt: skip
    assert started.code == 0, started
    workflow_id: str = started.json()["workflow_id"]
    await _state(env, cwd, workflow_id, "awaiting_approval")
    return workflow_id


async def _state(env: dict[str, str], cwd: Path, workflow_id: str, state: str) -> None:
    # Asked of Temporal directly, not with `brain status`: a command costs seconds of imports
    # on every poll, and these tests are about stopping (tests/cli/test_cli.py has `status`).
    client = await Client.connect(
        env["BRAIN_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    handle = client.get_workflow_handle(workflow_id)

    async def reached() -> bool:
        return (await handle.query(GatedWorkflow.status)).state.value == state

    await eventually(reached, within=30)


async def _wedge(
    client: Client, task_queue: str, tmp: Path, *, local: bool, blocking: bool = False
) -> tuple[WorkflowHandle[Any, Any], Path]:
    """Start a WedgedWorkflow, wait until its activity runs; (its handle, its release file)."""
    name = uuid.uuid4().hex[:8]
    release = tmp / f"release-{name}"
    started = str(tmp / f"started-{name}")
    spec = Wedge(local=local, started=started, release=str(release), blocking=blocking)
    handle = await client.start_workflow(
        "WedgedWorkflow", spec, id=f"wedged-{name}", task_queue=task_queue
    )
    await until(Path(started).exists, within=30)
    await asyncio.sleep(0.5)  # past the local activity's failed first attempt
    return handle, release


def _worker_env(client: Client, tmp: Path) -> tuple[str, dict[str, str]]:
    task_queue = f"brain-stop-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        temporal_address=client.service_client.config.target_host,
        database_url=f"sqlite+aiosqlite:///{tmp / 'brain.db'}",
        task_queue=task_queue,
        home=str(tmp),
        redis_url="",
        jwt_secret="x" * 32,
        shutdown_timeout_seconds=str(BOUND),
    )
    return task_queue, env | {"PYTHONPATH": str(ROOT)}


def _ports_free(*ports: int) -> bool:
    return not any(answers(port) for port in ports)


def _server_pid(home: Path) -> int:
    return int(json.loads((home / "temporal.pid").read_text())["server"])


async def test_brain_up_stops_within_the_bound_and_its_parked_runs_survive(
    tmp_path: Path,
) -> None:
    temporal_port, ui_port, api_port = free_ports(3)
    home = tmp_path / ".brain"
    env = clean_env(home=str(home), redis_url="", shutdown_timeout_seconds=str(BOUND))
    env["PYTHONPATH"] = str(ROOT)
    cli_env = env | {"BRAIN_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}"}
    ports = ("--temporal-port", temporal_port, "--ui-port", ui_port, "--api-port", api_port)
    ups: list[Proc] = []
    processes: list[int] = []  # theirs: the dev servers and their guards

    async def up() -> Proc:
        log = tmp_path / f"up-{len(ups)}.log"
        ups.append(await Proc.start("up", *ports, env=env, cwd=tmp_path, log=log))
        await ups[-1].until("Brain is up.")
        processes.extend(descendants_of(ups[-1].proc.pid))
        return ups[-1]

    try:
        first = await up()
        approve_me = await _start_parked(cli_env, tmp_path)
        reject_me = await _start_parked(cli_env, tmp_path)
        client = await Client.connect(
            f"127.0.0.1:{temporal_port}", data_converter=pydantic_data_converter
        )
        wedged, release = await _wedge(client, "brain", tmp_path, local=True)
        server = _server_pid(home)

        # SIGTERM with a run wedged in a local activity: within the bound, cut short.
        took, code = await first.stop(signal.SIGTERM)
        assert code == EXIT_CUT_SHORT, first.output()
        assert took < BOUND + SLACK, f"{took:.1f} s"
        assert not alive(server)
        assert not any(alive(pid) for pid in processes)
        assert _ports_free(temporal_port, ui_port, api_port)
        release.touch()

        # Restarted on the same home: the parked run is decided, the wedged one finishes.
        second = await up()
        approved = await run_cmd(BRAIN, "approve", approve_me, env=cli_env, cwd=tmp_path)
        assert approved.code == 0, approved
        await _state(cli_env, tmp_path, approve_me, "completed")
        client = await Client.connect(
            f"127.0.0.1:{temporal_port}", data_converter=pydantic_data_converter
        )
        await asyncio.wait_for(client.get_workflow_handle(wedged.id).result(), 60)

        # SIGKILLed: its dev server follows within 5 s.
        server = _server_pid(home)
        await second.kill()
        await until(lambda: not alive(server), within=5)
        await until(lambda: _ports_free(temporal_port, ui_port, api_port), within=5)

        # And again on the same home: nothing left behind, the other parked run is decided.
        third = await up()
        assert "left behind" not in third.output()
        rejected = await run_cmd(BRAIN, "reject", reject_me, env=cli_env, cwd=tmp_path)
        assert rejected.code == 0, rejected
        await _state(cli_env, tmp_path, reject_me, "rejected")
        took, code = await third.stop(signal.SIGINT)
        assert code == EXIT_CLEAN, third.output()
        assert took < BOUND + SLACK, f"{took:.1f} s"
        assert third.output().rstrip().endswith("Brain stopped.")
    finally:
        await _cleanup(processes, *ups)


async def test_brain_worker_stops_within_the_bound_with_an_activity_that_sleeps(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = temporal_env.client
    task_queue, env = _worker_env(client, tmp_path)
    workers: list[Proc] = []

    async def worker() -> Proc:
        log = tmp_path / f"worker-{len(workers)}.log"
        workers.append(await Proc.start("worker", env=env, cwd=tmp_path, log=log))
        return workers[-1]

    try:
        first = await worker()
        parked = await _start_parked(env, tmp_path)
        wedged, release = await _wedge(client, task_queue, tmp_path, local=False)

        took, code = await first.stop(signal.SIGTERM)
        assert code == EXIT_CUT_SHORT, first.output()
        assert took < BOUND + SLACK, f"{took:.1f} s"
        release.touch()

        # The next worker decides the parked run and retries the abandoned activity.
        second = await worker()
        approved = await run_cmd(BRAIN, "approve", parked, env=env, cwd=tmp_path)
        assert approved.code == 0, approved
        await _state(env, tmp_path, parked, "completed")
        await asyncio.wait_for(wedged.result(), 60)

        # A second SIGTERM does not wait for the bound, even with a local activity wedged.
        wedged, release = await _wedge(client, task_queue, tmp_path, local=True)
        took, code = await second.stop(signal.SIGTERM, again_after=0.5)
        assert code == 128 + signal.SIGTERM, second.output()
        assert took < 0.5 + SLACK, f"{took:.1f} s"
        release.touch()

        # With nothing in flight the stop is clean; the wedged run finished first.
        third = await worker()
        await asyncio.wait_for(wedged.result(), 60)
        took, code = await third.stop(signal.SIGTERM)
        assert code == EXIT_CLEAN, third.output()
        assert took < BOUND, f"{took:.1f} s"
    finally:
        await _cleanup([], *workers)


async def _cleanup(processes: list[int], *procs: Proc) -> None:
    for proc in procs:
        await proc.kill()
    kill_all(processes)


async def test_brain_worker_stops_within_the_bound_even_with_its_event_loop_blocked(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # An activity that blocks the event loop: no loop callback runs any more, the signal's
    # included; the stop's own thread still ends the process on time (cli/stopping.py).
    task_queue, env = _worker_env(temporal_env.client, tmp_path)
    worker = await Proc.start("worker", env=env, cwd=tmp_path, log=tmp_path / "worker.log")
    try:
        await _wedge(temporal_env.client, task_queue, tmp_path, local=False, blocking=True)
        took, code = await worker.stop(signal.SIGTERM)
        assert code == EXIT_CUT_SHORT, worker.output()
        assert BOUND <= took < BOUND + SLACK, f"{took:.1f} s"
    finally:
        await worker.kill()
