"""``brain api --workers N``: N API processes on one port.

Each process binds its own listening socket with ``SO_REUSEPORT``, so the kernel spreads
new connections across them. uvicorn's own ``--workers`` shares one socket instead, and
asyncio accepts every pending connection in one go: fifty keep-alive clients connecting
together could all land in one process while the other idled (measured here: 600 against
1,200 to 1,500 requests/s). Its shared socket also reports ``proto`` 0, so asyncio never
turned ``TCP_NODELAY`` on and every keep-alive response waited ~40 ms for the client's
delayed ACK (uvicorn#3149). Our sockets say ``IPPROTO_TCP``.

The parent only supervises: SIGINT or SIGTERM stops every process within
``BRAIN_SHUTDOWN_TIMEOUT_SECONDS`` (a process still running then is SIGKILLed, and the
command exits 124); a second signal kills them at once. When one exits on its own (it could
not start, say), the others are stopped and its exit code is the command's, so the
orchestrator (systemd, Kubernetes) restarts the whole unit.
"""

import asyncio
import contextlib
import logging
import signal
import socket
import subprocess
import sys
import time

import uvicorn

from cli.stopping import EXIT_CLEAN, EXIT_CUT_SHORT
from core.logs import json_logging, setup_logging
from core.settings import LogFormat, Settings
from core.telemetry import setup_tracing
from store.connect_errors import checked_migrate
from temporal.client import connect

APP_FACTORY = "api.app:create_app"
_STARTUP_FAILURE = 3  # uvicorn's own code for it


async def _preflight(settings: Settings) -> None:
    await checked_migrate(settings.effective_database_url)
    await connect(settings)


def tcp_listener(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_api_processes(
    settings: Settings, workers: int, *, log_level: str = "info", access_log: bool = True
) -> int:
    """Blocks until stopped; returns the exit code. Each process builds its app from the
    environment's settings (``BRAIN_*``, ``.env``); ``settings`` gives the address and the
    log format."""
    # Once, here: N processes starting together would race to the first migration. Temporal
    # too: a refused connection is then one message naming the setting (StartupError), not
    # a traceback from each process's lifespan.
    asyncio.run(_preflight(settings))
    timeout = settings.shutdown_timeout_seconds
    args = [
        settings.api_host,
        str(settings.api_port),
        log_level,
        str(int(access_log)),
        LogFormat.json if json_logging() else LogFormat.text,
        # Requests in flight get half the bound, then are cancelled; the app's lifespan
        # shutdown has the other half.
        str(max(int(timeout / 2), 1)),
    ]
    children = [
        subprocess.Popen([sys.executable, "-m", "cli.api_processes", *args]) for _ in range(workers)
    ]
    signals: list[int] = []

    def send_all(sig: int) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(sig)

    def on_signal(signum: int, _frame: object) -> None:
        signals.append(signum)
        # Always SIGTERM first: a Ctrl-C already reached the children from the terminal, and
        # uvicorn takes a second SIGINT as "exit now, drop what is in flight".
        send_all(signal.SIGTERM if len(signals) == 1 else signal.SIGKILL)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    killed = False
    try:
        while not signals and all(c.poll() is None for c in children):
            time.sleep(0.2)
        if not signals:
            send_all(signal.SIGTERM)
    finally:
        deadline = time.monotonic() + timeout
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            if child.poll() is None:
                killed = True
                child.kill()
                child.wait()
    if len(signals) > 1:
        return 128 + signals[1]
    if killed:
        return EXIT_CUT_SHORT
    if signals:
        return EXIT_CLEAN
    # One ended on its own: its failure is the command's.
    return next((c.returncode for c in children if c.returncode), 1)


def _serve_one(
    host: str, port: int, log_level: str, access_log: bool, fmt: LogFormat, graceful: int
) -> None:
    setup_logging(fmt, logging.getLevelName(log_level.upper()))
    setup_tracing("brain-api")
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        # With JSON logs, uvicorn's loggers must reach the root handler, not print text.
        log_config=None if json_logging() else uvicorn.config.LOGGING_CONFIG,
        timeout_graceful_shutdown=graceful,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[tcp_listener(host, port, reuse_port=True)])
    if not server.started:
        # uvicorn returns quietly when the app's lifespan fails (no Temporal, say).
        sys.exit(_STARTUP_FAILURE)


if __name__ == "__main__":
    fmt = LogFormat(sys.argv[5])
    _serve_one(
        sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1", fmt, int(sys.argv[6])
    )
