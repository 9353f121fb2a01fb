"""``brain api --workers N``: several API processes on one port, each with its own listening
socket (``SO_REUSEPORT``) that keeps Nagle off, all stopped by one SIGTERM."""

import asyncio
import contextlib
import os
import signal
import socket
from pathlib import Path

import httpx

from cli.api_processes import tcp_listener
from tests.cli.conftest import BRAIN, CliEnv
from tests.cli.procs import alive, children_of, free_ports
from tests.support import eventually


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


async def _nodelay_of_accepted(listener: socket.socket) -> int:
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
    try:
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        value = await asyncio.wait_for(accepted, 5)
        writer.close()
        return value
    finally:
        server.close()
        await server.wait_closed()


async def test_connections_accepted_on_our_listener_turn_nagle_off() -> None:
    assert await _nodelay_of_accepted(tcp_listener("127.0.0.1", 0)) == 1
    assert await _nodelay_of_accepted(tcp_listener("127.0.0.1", 0, reuse_port=True)) == 1
    # What uvicorn's own bind does (proto 0): asyncio leaves Nagle on. If this starts
    # failing, uvicorn#3149 is fixed in asyncio or the OS and the workaround can go.
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain.bind(("127.0.0.1", 0))
    assert await _nodelay_of_accepted(plain) == 0


async def test_two_api_processes_serve_one_port_and_stop_on_sigterm(cli: CliEnv) -> None:
    (port,) = free_ports(1)
    # A file, not a pipe: a pipe nobody reads would block the API processes' logging.
    log = cli.home / f"api-{port}.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(BRAIN), "api", "--workers", "2", "--port", str(port),
            stdout=out, stderr=asyncio.subprocess.STDOUT,
            env=cli.env | {"BRAIN_JWT_SECRET": "x" * 32}, cwd=cli.home,
        )  # fmt: skip
    children: list[int] = []
    try:
        await _serve_then_stop(proc, port, children)
    except BaseException as err:
        tail = log.read_text(errors="replace")[-3000:]
        raise AssertionError(f"brain api --workers 2 misbehaved; its log:\n{tail}") from err
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def _serve_then_stop(
    proc: asyncio.subprocess.Process, port: int, children: list[int]
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/brain") as http:

        async def healthy() -> bool:
            with contextlib.suppress(httpx.TransportError):
                return (await http.get("/health")).status_code == 200
            return False

        await eventually(healthy, within=60)
        for _ in range(20):
            assert (await http.get("/health")).status_code == 200
    children.extend(children_of(proc.pid))
    workers = [pid for pid in children if b"cli.api_processes" in _cmdline(pid)]
    assert len(workers) == 2, [_cmdline(pid) for pid in children]
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 30) == 0

    # The API processes are gone with the parent; multiprocessing's resource tracker
    # follows once it sees the parent's end of its pipe close.
    async def all_gone() -> bool:
        return not any(alive(pid) for pid in children)

    await eventually(all_gone, within=10)


async def test_processes_that_cannot_start_end_the_command_non_zero(cli: CliEnv) -> None:
    (port,) = free_ports(1)
    env = cli.env | {"BRAIN_JWT_SECRET": "x" * 32, "BRAIN_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    proc = await asyncio.create_subprocess_exec(
        str(BRAIN), "api", "--workers", "2", "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env=env, cwd=cli.home,
    )  # fmt: skip
    try:
        code = await asyncio.wait_for(proc.wait(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code != 0


async def test_one_api_process_stops_on_sigterm_within_the_bound(cli: CliEnv) -> None:
    (port,) = free_ports(1)
    log = cli.home / f"api-{port}.log"
    env = cli.env | {"BRAIN_JWT_SECRET": "x" * 32, "BRAIN_SHUTDOWN_TIMEOUT_SECONDS": "5"}
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(BRAIN), "api", "--port", str(port),
            stdout=out, stderr=asyncio.subprocess.STDOUT, env=env, cwd=cli.home,
        )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/brain") as http:

            async def healthy() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get("/health")).status_code == 200
                return False

            await eventually(healthy, within=60)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 5 + 3) == 0, log.read_text()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
