"""Ports and processes, as the CLI tests watch them (through /proc: no extra package)."""

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants_of(pid: int) -> list[int]:
    """Children, grandchildren, ...: `brain up`'s dev server runs under a guard process."""
    found, todo = [], [pid]
    while todo:
        children = children_of(todo.pop())
        found += children
        todo += children
    return found


def answers(port: int) -> bool:
    """Something listens on the port (on 127.0.0.1)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def until(check: Callable[[], bool], within: float) -> None:
    """Poll a plain check until it holds, for at most ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)


async def interrupt(proc: asyncio.subprocess.Process, within: float = 60) -> None:
    """Ctrl-C a process that still runs; SIGKILL it if it has not ended ``within`` seconds."""
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(proc.wait(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def kill_all(pids: list[int], *, groups: bool = False) -> None:
    """SIGKILL those still alive (with ``groups``, each one's process group): a test's
    leftovers, such as the dev server and its guard under `brain up`."""
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                (os.killpg if groups else os.kill)(pid, signal.SIGKILL)
