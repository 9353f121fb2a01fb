"""``brain api --workers N``: N API processes sharing one listening socket, under uvicorn's
supervisor (it restarts a process that dies and stops them all on SIGINT/SIGTERM).

The socket is ours, not uvicorn's: uvicorn binds it with ``proto`` 0, the accepted sockets
inherit that, and asyncio turns ``TCP_NODELAY`` on only for sockets that report
``IPPROTO_TCP``. With Nagle left on, every keep-alive response waited about 40 ms for the
client's delayed ACK (uvicorn#3149; measured here: 0.2 ms per request with one process,
44 ms with two, on the same app).
"""

import asyncio
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from core.logs import json_logging
from core.settings import Settings
from store.db import migrate

APP_FACTORY = "api.app:create_app"


def tcp_listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run_api_processes(
    settings: Settings, workers: int, *, log_level: str = "info", access_log: bool = True
) -> None:
    """Blocks until stopped. Each process builds its app from the environment's settings
    (``BRAIN_*``, ``.env``); ``settings`` gives the address and the database."""
    # Once, here: N processes starting together would race to the first migration.
    asyncio.run(migrate(settings.effective_database_url))
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        # With JSON logs, uvicorn's loggers must reach the root handler, not print text.
        log_config=None if json_logging() else uvicorn.config.LOGGING_CONFIG,
    )
    Multiprocess(config, sockets=[tcp_listener(settings.api_host, settings.api_port)]).run()
