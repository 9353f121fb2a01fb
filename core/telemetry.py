"""Tracing: one OpenTelemetry trace from the HTTP request through the workflow to the decision.

Configured only from the standard ``OTEL_*`` variables: spans go to an OTLP/HTTP collector
when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set, nowhere otherwise.
The Temporal side is ``temporalio.contrib.opentelemetry.TracingInterceptor`` on the client
(``temporal/client.py``), so workers built from that client trace workflows and activities
too; the API side is the FastAPI instrumentation (``api/app.py``).
"""

import logging
import os
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
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


def tracing_interceptor(provider: trace.TracerProvider | None = None) -> TracingInterceptor:
    """The Temporal interceptor; without ``provider``, the global one (a no-op until
    ``setup_tracing`` installs one, which the proxy tracer then follows)."""
    tracer = (provider or trace.get_tracer_provider()).get_tracer(TRACER_NAME)
    return TracingInterceptor(tracer)


def instrument_app(app: Any, provider: trace.TracerProvider | None = None) -> None:
    """Trace every request of the FastAPI ``app`` (the server span is the trace's root)."""
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
