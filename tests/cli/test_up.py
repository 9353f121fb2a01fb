"""``brain up`` as a user runs it: the whole stack on free ports, a run started against it,
then Ctrl-C, which must stop everything — including the dev server in its own process
group — and exit 0."""

import asyncio
import importlib.util
import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import BRAIN, clean_env, run_cmd
from tests.cli.procs import alive, answers, descendants_of, free_ports, interrupt, kill_all
from tests.fakes.openai_server import FakeOpenAIServer, answer

STARTUP_TIMEOUT = 120


async def _wait_for_port(port: int) -> None:
    for _ in range(150):
        if answers(port):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"nothing answers on port {port}")


async def _read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = await stream.readline()
        if not line:
            raise AssertionError("brain up ended before it was up:\n" + "".join(seen))
        seen.append(line.decode())
        if marker in seen[-1]:
            return


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX only")
async def test_brain_up_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    temporal_port, ui_port, api_port = free_ports(3)
    env = clean_env(home=str(tmp_path / ".brain"), redis_url="")
    proc = await asyncio.create_subprocess_exec(
        str(BRAIN), "up", "--temporal-port", str(temporal_port), "--ui-port", str(ui_port),
        "--api-port", str(api_port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdout is not None
    out: list[str] = []
    servers: list[int] = []
    try:
        await asyncio.wait_for(_read_until(proc.stdout, "Ctrl-C stops", out), STARTUP_TIMEOUT)
        rest = asyncio.create_task(_read_until(proc.stdout, "Brain stopped.", out))
        servers = descendants_of(proc.pid)
        assert len(servers) == 2, "no dev server (and its guard) under brain up"
        await _wait_for_port(ui_port)
        banner = "".join(out)
        ui = f"http://127.0.0.1:{ui_port}"
        inbox = f"{ui}/namespaces/default/workflows?query=BrainState%3D%22awaiting_approval%22"
        assert f"Inbox      {inbox}\n" in banner, banner
        assert "start lead_scoring --example unsure" in banner
        if importlib.util.find_spec("api.app") is not None:
            base = f"http://127.0.0.1:{api_port}"
            assert f"API docs   {base}/docs  (ReDoc: {base}/redoc)" in banner, banner
            # The banner's export line is what the README's curl examples need.
            [export] = [line.split() for line in out if "export BRAIN=" in line]
            variables = dict(part.split("=", 1) for part in export[1:])
            assert variables["BRAIN"] == f"{base}/api/brain"
            async with httpx.AsyncClient() as http:
                health = await http.get(f"{base}/api/brain/health")
                assert health.status_code == 200, health.text
                auth = {"Authorization": f"Bearer {variables['TOKEN']}"}
                policies = await http.get(f"{variables['BRAIN']}/workflows/policies", headers=auth)
                assert policies.status_code == 200, policies.text

        # The other commands find this stack through its home, without BRAIN_TEMPORAL_*.
        stack_file = tmp_path / ".brain" / "stack.json"
        assert stack_file.stat().st_mode & 0o777 == 0o600
        assert json.loads(stack_file.read_text())["temporal_address"].endswith(f":{temporal_port}")
        cli_env = env
        started = await run_cmd(
            BRAIN, "start", "lead_scoring", "--example", "unsure",
            env=cli_env, cwd=tmp_path,
        )  # fmt: skip
        assert started.code == 0, started
        workflow_id = started.json()["workflow_id"]
        async with asyncio.timeout(30):
            while True:
                status = await run_cmd(BRAIN, "status", workflow_id, env=cli_env, cwd=tmp_path)
                assert status.code == 0, status
                if status.json()["state"] == "awaiting_approval":
                    break
                await asyncio.sleep(0.5)

        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 60)
        await asyncio.wait_for(rest, 5)
        assert code == 0, "".join(out)
        assert "Brain stopped." in "".join(out)
        assert not any(alive(pid) for pid in servers), "the dev server outlived brain up"
        assert not answers(temporal_port)
        assert not stack_file.exists(), "brain up left its addresses behind"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        kill_all(servers, groups=True)


async def test_brain_up_with_ai_openai_calls_the_configured_endpoint(tmp_path: Path) -> None:
    """``--ai openai`` plus ``BRAIN_OPENAI_BASE_URL``, and nothing else, serves the AI step."""
    good = {"rationale": "VP, referred, asked for a demo.", "score": 88, "tier": "hot"}
    temporal_port, ui_port, api_port = free_ports(3)
    with FakeOpenAIServer() as server:
        server.script(answer({**good, "confidence": 0.95}, usage=(100, 20)))
        env = clean_env(
            home=str(tmp_path / ".brain"),
            redis_url="",
            openai_base_url=server.base_url,
            openai_model="local-model",
        )
        proc = await asyncio.create_subprocess_exec(
            str(BRAIN), "up", "--ai", "openai", "--no-api", "--temporal-port", str(temporal_port),
            "--ui-port", str(ui_port), "--api-port", str(api_port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert proc.stdout is not None
        out: list[str] = []
        servers: list[int] = []
        try:
            await asyncio.wait_for(_read_until(proc.stdout, "Brain is up.", out), STARTUP_TIMEOUT)
            servers = descendants_of(proc.pid)
            cli_env = env | {"BRAIN_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}"}
            started = await run_cmd(
                BRAIN, "start", "lead_scoring", "--example", "confident",
                env=cli_env, cwd=tmp_path,
            )  # fmt: skip
            assert started.code == 0, started
            workflow_id = started.json()["workflow_id"]
            async with asyncio.timeout(30):
                while True:
                    status = await run_cmd(BRAIN, "status", workflow_id, env=cli_env, cwd=tmp_path)
                    assert status.code == 0, status
                    if status.json()["state"] == "awaiting_approval":  # HITL is on by default
                        break
                    await asyncio.sleep(0.5)
            ai = status.json()["ai"]
            assert ai["proposal"] == good and ai["confidence"] == 0.95
            assert ai["call"]["model"] == "local-model" and ai["call"]["tokens_in"] == 100
            [request] = server.requests
            assert request.path == "/v1/chat/completions" and request.body["model"] == "local-model"
        finally:
            await interrupt(proc)
            kill_all(servers, groups=True)
        assert proc.returncode == 0, "".join(out)
