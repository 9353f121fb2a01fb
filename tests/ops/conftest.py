"""A worker whose apply step fails while ``guard.broken`` is set: the test decides when a
run fails and when it is "fixed", then replays it through the API or the CLI."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from core.settings import Settings
from models.activity_io import ApplyRequest
from temporal import errors
from tests.api.conftest import REDIS_URL, close_api, open_api
from tests.api.support import SECRET, Api
from tests.cli.conftest import cli  # noqa: F401 (the CLI tests' fixture, shared)
from tests.conftest import Database
from tests.support import Brain, running_brain


@dataclass
class Guard:
    broken: bool = True
    refused: int = 0

    def __call__(self, req: ApplyRequest) -> None:
        if self.broken:
            self.refused += 1
            # Non-retryable: the run fails at once instead of after ten backed-off attempts.
            raise ApplicationError("the CRM is down", type=errors.APPLY_FAILED, non_retryable=True)


@pytest.fixture
def guard() -> Guard:
    return Guard()


@pytest_asyncio.fixture
async def brain(client: Client, database: Database, guard: Guard) -> AsyncIterator[Brain]:
    async with running_brain(client, database, queue="brain-ops", apply_guard=guard) as brain:
        yield brain


@pytest.fixture
def settings() -> Settings:
    return Settings(
        jwt_secret=SecretStr(SECRET),
        redis_url=REDIS_URL,
        rate_limit_per_minute=100_000,
        _env_file=None,
    )


@pytest_asyncio.fixture
async def api(brain: Brain, settings: Settings) -> AsyncIterator[Api]:
    opened = await open_api(brain, settings)
    try:
        yield opened
    finally:
        await close_api(opened)
