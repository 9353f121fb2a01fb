"""The one way to build a Temporal client: pydantic converter, TLS or API key, interceptors."""

from collections.abc import Sequence
from datetime import timedelta

from opentelemetry.trace import TracerProvider
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from core.pem_files import TlsFileError
from core.settings import Settings
from core.telemetry import tracing_interceptors
from temporal.connect_errors import TemporalConnectError, explain
from temporal.tenant_scope import TenantScopeInterceptor
from temporal.tls import temporal_tls

# A TCP or TLS connect that takes longer than this fails (and is explained) instead of
# hanging a start on an address that drops packets.
CONNECT_TIMEOUT = timedelta(seconds=10)


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
    (``temporal.tenant_scope``).

    Raises ``TemporalConnectError`` (a ``RuntimeError``) naming the setting to fix: a TLS
    file that is missing or wrong, a certificate Temporal's does not chain to, a refused
    handshake or API key (temporal/connect_errors.py)."""
    try:
        tls = temporal_tls(settings)
    except TlsFileError as err:
        raise TemporalConnectError(str(err)) from None
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            api_key=(
                settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
            ),
            tls=tls.config or tls.enabled,
            connect_timeout=CONNECT_TIMEOUT,
            data_converter=pydantic_data_converter,
            interceptors=[
                *tracing_interceptors(tracer_provider),
                TenantScopeInterceptor(),
                *interceptors,
            ],
            runtime=runtime,
        )
    except RuntimeError as err:
        raise TemporalConnectError(await explain(settings, tls, err)) from err
