"""A Brain worker and API wired the way the entry points wire them — client built by
``temporal.client.connect`` (so traced), metrics on a registry of the test's own — with the
spans kept in memory."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from core.settings import Settings
from hitl.metrics import GateMetrics
from store.policies import PolicyStore
from temporal.client import connect
from temporal.sandbox import WORKFLOW_RUNNER
from tests.api.conftest import app_state
from tests.api.support import SECRET, Api
from tests.conftest import Database
from tests.support import Brain, ScriptedModel
from workers.registry import WORKFLOWS, build_activities


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
        jwt_secret=SECRET,
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
    policies = PolicyStore(database.sessions)
    model = ScriptedModel()
    task_queue = f"brain-obs-{uuid.uuid4().hex[:8]}"
    activities = build_activities(
        database.sessions, policies, model, client=client, metrics=metrics
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=WORKFLOW_RUNNER,
    ):
        brain = Brain(client, task_queue, database, policies, model)
        state = app_state(brain, settings)
        app = create_app(settings, state=state, tracer_provider=provider)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://brain/api/brain"
        ) as http:
            yield Observed(Api(http, brain, settings, state), spans, metrics)
    provider.shutdown()
