"""The CLI as a user runs it: ``brain`` in a subprocess, configured by ``BRAIN_*`` env vars,
against the session dev server and a SQLite file of its own, with a worker (real rules
model) running in the test process on its own task queue."""

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.rules_model import RulesModel
from hitl.gate import GatedWorkflow
from models.processes import RunState
from processes import registry
from store.db import make_engine, make_sessionmaker, migrate
from store.policies import PolicyStore
from temporal.sandbox import WORKFLOW_RUNNER
from workers.registry import WORKFLOWS, build_activities

BIN = Path(sys.executable).parent
BRAIN = BIN / "brain"
TEMPORAL = BIN / "temporal"
COMMAND_TIMEOUT = 60
PARK_TIMEOUT = 30


def example(process: str, kind: str) -> dict[str, Any]:
    """A start body from the process's definition (what `brain example` prints)."""
    return dict(registry.definition(registry.parse(process)).examples[kind])


@dataclass
class Done:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def error(self) -> dict[str, Any]:
        """The ``{"error", "detail"}`` document a refused command prints on stderr."""
        start = self.err.index("{")
        document: dict[str, Any] = json.loads(self.err[start:])
        return document


def clean_env(**brain: str) -> dict[str, str]:
    """The test process's environment without its ``BRAIN_*`` settings, plus ``brain``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRAIN_")}
    return env | {f"BRAIN_{k.upper()}": v for k, v in brain.items()}


async def run_cmd(program: Path, *args: object, env: dict[str, str], cwd: Path) -> Done:
    # Async, so the worker in this process keeps running while the command waits on it.
    proc = await asyncio.create_subprocess_exec(
        str(program),
        *map(str, args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


@dataclass
class CliEnv:
    client: Client
    address: str
    task_queue: str
    env: dict[str, str]
    home: Path
    sessions: async_sessionmaker[AsyncSession]
    policies: PolicyStore

    async def brain(self, *args: object) -> Done:
        return await run_cmd(BRAIN, *args, env=self.env, cwd=self.home)

    async def temporal(self, *args: object) -> Done:
        return await run_cmd(
            TEMPORAL, *args, "--address", self.address, env=self.env, cwd=self.home
        )

    async def parked(self, workflow_id: str) -> None:
        handle = self.client.get_workflow_handle(workflow_id)
        async with asyncio.timeout(PARK_TIMEOUT):
            while True:
                status = await handle.query(GatedWorkflow.status)
                if status.state is RunState.AWAITING_APPROVAL:
                    return
                assert status.state is RunState.RUNNING, status
                await asyncio.sleep(0.1)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cli(temporal_env: WorkflowEnvironment, tmp_path_factory: Any) -> AsyncIterator[CliEnv]:
    home = tmp_path_factory.mktemp("brain-cli")
    url = f"sqlite+aiosqlite:///{home / 'brain.db'}"
    await migrate(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    policies = PolicyStore(sessions)
    client = temporal_env.client
    address = client.service_client.config.target_host
    task_queue = f"brain-cli-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        temporal_address=address,
        database_url=url,
        task_queue=task_queue,
        home=str(home),
        redis_url="",
    )
    try:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=build_activities(sessions, policies, RulesModel(), client=client),
            workflow_runner=WORKFLOW_RUNNER,
        ):
            yield CliEnv(client, address, task_queue, env, home, sessions, policies)
    finally:
        await engine.dispose()
