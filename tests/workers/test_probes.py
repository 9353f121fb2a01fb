"""A worker's probes on its metrics port (workers/probes.py), beside its metrics."""

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from tests.cli.procs import free_ports
from tests.polling import eventually
from tests.support import SECRET
from workers.main import run_worker
from workers.probes import WorkerProbes


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


async def test_a_running_worker_is_live_and_ready_on_its_metrics_port(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    (port,) = free_ports(1)
    settings = Settings(
        _env_file=None,
        temporal_address=temporal_env.client.service_client.config.target_host,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'brain.db'}",
        task_queue=f"probes-{uuid.uuid4().hex[:8]}",
        jwt_secret=SecretStr(SECRET),
        redis_url="",
        metrics_port=port,
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop=stop, stop_within=5))
    base = f"http://127.0.0.1:{port}"
    try:

        async def ready() -> dict | None:
            if worker.done():
                worker.result()
            with contextlib.suppress(OSError):
                status, body = await asyncio.to_thread(_get, f"{base}/health/ready")
                return json.loads(body) if status == 200 else None
            return None

        assert await eventually(ready, within=60) == {
            "status": "ready", "temporal": "up", "database": "up", "task_queue": "up",
            "worker": "polling",
        }  # fmt: skip
        assert await asyncio.to_thread(_get, f"{base}/health/live") == (200, '{"status":"ok"}')
        status, metrics = await asyncio.to_thread(_get, f"{base}/metrics")
        assert status == 200 and "temporal_" in metrics
    finally:
        stop.set()
        assert await asyncio.wait_for(worker, 30) is True


async def test_probes_before_the_worker_polls_and_when_its_loop_is_stuck() -> None:
    stop = asyncio.Event()
    probes = WorkerProbes(asyncio.get_running_loop(), stop)
    # Asked from another thread, as the metrics server does.
    status, body = await asyncio.to_thread(probes.ready)
    assert (status, json.loads(body)) == (503, {"status": "not_ready", "worker": "starting"})
    assert (await asyncio.to_thread(probes.live))[0] == 200
    stop.set()
    status, body = await asyncio.to_thread(probes.ready)
    assert (status, json.loads(body)) == (503, {"status": "not_ready", "worker": "stopping"})

    # A loop that runs nothing (as one stuck in blocking code): not live.
    stuck = asyncio.new_event_loop()
    try:
        frozen = WorkerProbes(stuck, asyncio.Event(), live_timeout=0.2)
        result: list[tuple[int, bytes]] = []
        thread = threading.Thread(target=lambda: result.append(frozen.live()))
        thread.start()
        await asyncio.to_thread(thread.join)
        assert result[0][0] == 503
    finally:
        # Run it once, on a thread of its own, so what the probe left scheduled is cancelled.
        await asyncio.to_thread(stuck.run_until_complete, asyncio.sleep(0))
        stuck.close()
