"""The real ``temporal`` dev server: startup, namespace shape, restart on the same DB file."""

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from temporal import search_attributes
from temporal.devserver import RETENTION, DevServer, DevServerError, temporal_binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _ui_answers(url: str) -> int:
    # The UI listener may come up a moment after the gRPC frontend.
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(50):
            try:
                return (await http.get(url)).status_code
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never answered")


async def _check_namespace(server: DevServer) -> None:
    client = await Client.connect(server.address)
    attrs = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    for key in search_attributes.ALL:
        assert key.name in attrs.custom_attributes
    desc = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert desc.config.workflow_execution_retention_ttl.ToTimedelta() == RETENTION


def test_binary_is_found() -> None:
    assert Path(temporal_binary()).is_file()


async def test_start_configure_restart(tmp_path: Path) -> None:
    home = tmp_path / ".brain"
    server = DevServer(home, _free_port(), _free_port())
    async with server:
        assert server.running
        assert (home / "temporal.db").exists()
        await _check_namespace(server)
        assert await _ui_answers(server.ui_url) == 200
        proc = server._proc
    assert not server.running
    assert proc is not None and proc.returncode is not None  # reaped, not a zombie

    # Same DB file: the CLI's own --search-attribute would be skipped here; ours is not.
    # A zero grace period forces the SIGKILL path, which must still reap the process.
    async with DevServer(home, _free_port(), _free_port(), stop_grace=0) as again:
        await _check_namespace(again)
        proc = again._proc
    assert proc is not None and proc.returncode is not None


async def test_early_exit_shows_log_tail(tmp_path: Path) -> None:
    (tmp_path / "temporal.db").mkdir()  # SQLite cannot open a directory: the CLI exits at once
    server = DevServer(tmp_path, _free_port(), _free_port())
    with pytest.raises(DevServerError, match="exited with code") as info:
        await server.start()
    assert "temporal.db" in str(info.value) or "database" in str(info.value)
    assert not server.running


async def test_busy_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevServerError, match=f"port {port}"):
            await DevServer(tmp_path, port, _free_port()).start()
        with pytest.raises(DevServerError, match=f"port {port}"):
            await DevServer(tmp_path, _free_port(), port).start()
    assert not (tmp_path / "temporal.db").exists()
