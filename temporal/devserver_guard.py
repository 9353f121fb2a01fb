"""Keeps the Temporal dev server from outliving ``brain up``, however ``brain up`` ends.

``DevServer`` runs this file (``python -I -S devserver_guard.py WATCH_FD PID_FILE -- temporal
server start-dev ...``) instead of the server itself. The guard starts the server and blocks
on WATCH_FD, the read end of a pipe whose only write end ``brain up`` holds. The kernel
closes that end when ``brain up`` dies for any reason, SIGKILL included; the guard then reads
EOF and stops the server.

Why a pipe and not ``PR_SET_PDEATHSIG`` on the server: the death signal fires when the
*thread* that forked the child exits, not the process. ``brain up`` runs on an event loop
that may hand work to threads, and a server forked from one would be killed when that
thread ended while Brain still runs; it also needs ``preexec_fn``, which is unsafe in a
process with threads (the SDK's runtime has several). A pipe has neither problem and works
on any POSIX system. The guard itself is single-threaded, so it does set the death signal
on the server (Linux only): should the guard be SIGKILLed alone, the server goes too.

The guard writes the server's PID and its owner's to a PID file under the Brain home; the
helpers at the end let the next ``brain up`` find a server left behind all the same (one
started by an older Brain without the guard, or on a system where the guard was killed).

Standard library only, started with ``-I -S``: it costs a few milliseconds and no imports
of Brain's dependencies.
"""

import contextlib
import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1
# SIGTERM gets a clean shutdown, but this server build can take two minutes to finish one
# (its frontend drains long polls); SQLite keeps its state consistent through a SIGKILL.
_TERM_GRACE_SECONDS = 2.0


def _die_with_guard(guard_pid: int) -> None:
    # Runs in the forked child before exec; the guard is single-threaded, so this is safe.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != guard_pid:  # the guard died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


def _write_pid_file(path: str, server: int, owner: int) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as out:
        json.dump({"server": server, "guard": os.getpid(), "owner": owner}, out)
    os.replace(tmp, path)


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(_TERM_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()


def main(argv: list[str]) -> int:
    watch_fd, pid_file, args = int(argv[1]), argv[2], argv[4:]
    owner, me = os.getppid(), os.getpid()
    preexec = (lambda: _die_with_guard(me)) if sys.platform == "linux" else None
    server = subprocess.Popen(args, stdin=subprocess.DEVNULL, preexec_fn=preexec)
    # DevServer.stop() signals the whole group: let the server finish, then leave with its
    # exit code. A Python handler, not SIG_IGN, so the server (already started) is unaffected.
    signal.signal(signal.SIGTERM, lambda *_: None)
    _write_pid_file(pid_file, server.pid, owner)
    try:
        while server.poll() is None:
            readable, _, _ = select.select([watch_fd], [], [], 0.5)
            if readable and not os.read(watch_fd, 64):
                _stop(server)  # EOF: brain up is gone
    finally:
        if server.poll() is not None:
            with contextlib.suppress(OSError):
                os.unlink(pid_file)
    return server.wait()


def recorded(pid_file: Path) -> tuple[int, int] | None:
    """(server PID, owner PID) from the PID file, if there is a readable one."""
    try:
        data = json.loads(pid_file.read_text())
        return int(data["server"]), int(data["owner"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cmdline(pid: int) -> list[str] | None:
    """The process's arguments; None if it is gone, a zombie, or unknown (no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return None
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.decode(errors="replace").split("\0")


def is_dev_server(pid: int, db_file: Path) -> bool:
    """A live ``temporal server start-dev`` on ``db_file``: the PID was not reused since."""
    args = cmdline(pid) or []
    return "start-dev" in args and str(db_file) in args


def is_brain(pid: int) -> bool:
    return any("brain" in arg for arg in cmdline(pid) or [])


def kill_left_behind(pid: int, timeout: float = 5.0) -> bool:
    """SIGKILL a server that is not our child (and its guard, if any); True once it is gone."""
    with contextlib.suppress(ProcessLookupError):
        group = os.getpgid(pid)
        if group != os.getpgrp():
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while cmdline(pid) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv))
