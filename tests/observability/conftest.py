"""A Brain worker and API wired the way the entry points wire them — client built by
``temporal.client.connect`` (so traced), metrics on a registry of the test's own — with the
spans kept in memory."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.gate_metrics import GateMetrics
from core.settings import Settings
from temporal.client import connect
from tests.api.conftest import app_state
from tests.api.support import SECRET, Api
from tests.conftest import Database
from tests.support import Brain, running_brain


@dataclass
class Observed:
    api: Api
    spans: InMemorySpanExporter
    metrics: GateMetrics

    @property
    def brain(self) -> Brain:
        return self.api.brain

    def sample(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return value or 0.0


@pytest.fixture
def settings(temporal_env: WorkflowEnvironment) -> Settings:
    return Settings(
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_namespace=temporal_env.client.namespace,
        jwt_secret=SecretStr(SECRET),
        rate_limit_per_minute=100_000,
        _env_file=None,
    )


# Test modules here take one database (``SQLITE_ONLY``): what is observed does not depend on it.
SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest_asyncio.fixture
async def observed(settings: Settings, database: Database) -> AsyncIterator[Observed]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    client = await connect(settings, tracer_provider=provider)
    metrics = GateMetrics(CollectorRegistry())
    async with running_brain(client, database, queue="brain-obs", metrics=metrics) as brain:
        # The API counts the decisions it records on the same registry as the worker.
        state = app_state(brain, settings, metrics=metrics)
        app = create_app(settings, state=state, tracer_provider=provider)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://brain/api/brain"
        ) as http:
            yield Observed(Api(http, brain, settings, state), spans, metrics)
    provider.shutdown()
