"""The one way to build a Temporal client: pydantic converter, TLS or API key, interceptors."""

from collections.abc import Sequence

from opentelemetry.trace import TracerProvider
from temporalio.client import Client, Interceptor, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from core.settings import Settings
from core.telemetry import tracing_interceptors
from temporal.tenant_scope import TenantScopeInterceptor


def _tls(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
            server_root_ca_cert=(
                settings.temporal_tls_ca.read_bytes() if settings.temporal_tls_ca else None
            ),
        )
    # Temporal Cloud with an API key always speaks TLS.
    return settings.temporal_tls or settings.temporal_api_key is not None


async def connect(
    settings: Settings,
    interceptors: Sequence[Interceptor] = (),
    *,
    tracer_provider: TracerProvider | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """Traced when ``tracer_provider`` is given or an exporter is configured
    (``core.telemetry``); workers built from this client then trace their workflows and
    activities as well.
    ``runtime``: one that exports the SDK's own metrics (``core.metrics.sdk_runtime``).
    Workers built from the client run each activity in its run's tenant scope
    (``temporal.tenant_scope``)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=(
            settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
        ),
        tls=_tls(settings),
        data_converter=pydantic_data_converter,
        interceptors=[
            *tracing_interceptors(tracer_provider),
            TenantScopeInterceptor(),
            *interceptors,
        ],
        runtime=runtime,
    )
