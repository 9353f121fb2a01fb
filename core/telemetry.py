"""Tracing: one OpenTelemetry trace from the HTTP request through the workflow to the decision.

Configured only from the standard ``OTEL_*`` variables: spans go to an OTLP/HTTP collector
when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set. Otherwise nothing
is traced at all: the interceptor and the ASGI middleware cost CPU on every request,
workflow task and activity for spans that would go nowhere. A caller that passes its own
provider (tests) is always traced.
The Temporal side is ``temporalio.contrib.opentelemetry.TracingInterceptor`` on the client
(``temporal/client.py``), so workers built from that client trace workflows and activities
too; the API side is the FastAPI instrumentation (``api/app.py``).
"""

import logging
import os
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

if TYPE_CHECKING:
    from fastapi import FastAPI
    from temporalio.contrib.opentelemetry import TracingInterceptor

log = logging.getLogger(__name__)

TRACER_NAME = "brain"
# Probes and scrapes would drown the traces that matter.
UNTRACED_URLS = "/metrics,/api/brain/health"


def _exporting() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup_tracing(service_name: str) -> TracerProvider:
    """Install the process's tracer provider (once; later calls return the installed one)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = build_tracer_provider(service_name)
    trace.set_tracer_provider(provider)
    return provider


def build_tracer_provider(service_name: str) -> TracerProvider:
    """A provider exporting over OTLP/HTTP when an endpoint is configured, nowhere otherwise.

    ``OTEL_SERVICE_NAME`` overrides ``service_name``; ``OTEL_RESOURCE_ATTRIBUTES`` adds to it.
    """
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if _exporting():
        # Imported here: the exporter pulls in protobuf and requests, needless without it.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporter reads endpoint, headers, timeout and compression from OTEL_*.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        log.info("exporting traces of %s over OTLP/HTTP", name)
    return provider


def traced(provider: trace.TracerProvider | None = None) -> bool:
    """Whether to trace: spans either go to the given provider or to a configured exporter."""
    return provider is not None or _exporting()


def tracing_interceptors(
    provider: trace.TracerProvider | None = None,
) -> "list[TracingInterceptor]":
    """The Temporal interceptor when tracing (``traced``), none otherwise. Without
    ``provider`` it follows the global one, which ``setup_tracing`` installs."""
    if not traced(provider):
        return []
    # Imported only when tracing: it loads the worker and OpenTelemetry's metrics, a third of
    # a second that a CLI command building a client does not need.
    from temporalio.contrib.opentelemetry import TracingInterceptor

    tracer = (provider or trace.get_tracer_provider()).get_tracer(TRACER_NAME)
    return [TracingInterceptor(tracer)]


def instrument_app(app: "FastAPI", provider: trace.TracerProvider | None = None) -> None:
    """Trace every request of the FastAPI ``app`` (the server span is the trace's root), when
    tracing (``traced``)."""
    if not traced(provider):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=UNTRACED_URLS,
        exclude_spans=["receive", "send"],
    )


def shutdown_tracing() -> None:
    """Flush spans still batched (an exiting process would drop them)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
