"""The dev server never outlives the process that started it (temporal/devserver_guard.py),
and one left behind all the same is found through the PID file and stopped."""

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from temporal.devserver import DevServer, DevServerError, temporal_binary
from tests.cli.procs import alive, answers, free_ports, until

ROOT = Path(__file__).resolve().parents[2]


def _server_pid(home: Path) -> int:
    return int(json.loads((home / "temporal.pid").read_text())["server"])


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


async def test_the_server_dies_with_its_owner_even_by_sigkill(tmp_path: Path) -> None:
    temporal_port, ui_port = free_ports(2)
    owner_code = textwrap.dedent(f"""
        import asyncio, sys
        from pathlib import Path
        from temporal.devserver import DevServer

        async def main():
            await DevServer(Path({str(tmp_path)!r}), {temporal_port}, {ui_port}).start()
            print("up", flush=True)
            await asyncio.sleep(600)

        asyncio.run(main())
    """)
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", owner_code, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert owner.stdout is not None
        assert await asyncio.wait_for(owner.stdout.readline(), 60) == b"up\n"
        server = _server_pid(tmp_path)
        assert alive(server)
        owner.kill()
        await owner.wait()
        await until(lambda: not alive(server), within=5)
        await until(lambda: not answers(temporal_port) and not answers(ui_port), within=5)
        # The guard removes its PID file once the server is gone.
        await until(lambda: not (tmp_path / "temporal.pid").exists(), within=2)
    finally:
        if owner.returncode is None:
            owner.kill()
            await owner.wait()


async def test_the_server_outlives_the_thread_that_started_it(tmp_path: Path) -> None:
    # What PR_SET_PDEATHSIG on the server would get wrong: it fires when the forking
    # *thread* ends, here while the process (and so the server's owner) goes on.
    server = DevServer(tmp_path, *free_ports(2))
    starter = threading.Thread(target=asyncio.run, args=(server.start(),))
    starter.start()
    await asyncio.to_thread(starter.join)
    try:
        await asyncio.sleep(1.0)
        assert server.running
        assert alive(_server_pid(tmp_path))
    finally:
        await server.stop()
    assert not server.running


async def test_a_server_left_behind_is_reported_and_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    temporal_port, ui_port = free_ports(2)
    db = (tmp_path / "temporal.db").resolve()
    # As an older `brain up` would have left it: no guard, own session, owner gone.
    stray = await asyncio.create_subprocess_exec(
        temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1",
        "--port", str(temporal_port), "--ui-port", str(ui_port), "--db-filename", str(db),
        "--log-level", "error",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        await until(lambda: answers(temporal_port), within=30)
        pid_file = tmp_path / "temporal.pid"
        pid_file.write_text(json.dumps({"server": stray.pid, "owner": _dead_pid()}))
        with caplog.at_level(logging.WARNING, logger="temporal.devserver"):
            async with DevServer(tmp_path, temporal_port, ui_port) as server:
                assert server.running
                assert _server_pid(tmp_path) != stray.pid
        assert f"(PID {stray.pid}) left behind" in caplog.text
        assert await asyncio.wait_for(stray.wait(), 5) == -9  # SIGKILLed
    finally:
        if stray.returncode is None:
            stray.kill()
            await stray.wait()


async def test_a_server_whose_owner_still_runs_is_left_alone(tmp_path: Path) -> None:
    temporal_port, ui_port = free_ports(2)
    first = DevServer(tmp_path, temporal_port, ui_port)
    # A stand-in for the other `brain up`: alive, and "brain" in its command line.
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(60)", "brain"
    )
    try:
        async with first:
            server = _server_pid(tmp_path)
            pid_file = tmp_path / "temporal.pid"
            pid_file.write_text(json.dumps({"server": server, "owner": owner.pid}))
            with pytest.raises(DevServerError, match=rf"PID {owner.pid}.*PID {server}"):
                await DevServer(tmp_path, *free_ports(2)).start()
            assert first.running
    finally:
        owner.kill()
        await owner.wait()
