"""Exporters come from the standard OTEL_* variables: OTLP when an endpoint is set, none else."""

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from core.telemetry import build_tracer_provider

_OTEL = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
)


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _OTEL:
        monkeypatch.delenv(name, raising=False)


def _processors(provider: TracerProvider) -> tuple[object, ...]:
    return tuple(provider._active_span_processor._span_processors)


def test_no_endpoint_exports_nothing() -> None:
    provider = build_tracer_provider("brain-api")
    assert _processors(provider) == ()
    assert provider.resource.attributes["service.name"] == "brain-api"


def test_an_endpoint_exports_over_otlp_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.invalid:4318")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "brain-eu")
    provider = build_tracer_provider("brain-worker")
    try:
        (processor,) = _processors(provider)
        assert isinstance(processor, BatchSpanProcessor)
        exporter = processor._batch_processor._exporter
        assert isinstance(exporter, OTLPSpanExporter)
        assert exporter._endpoint == "http://collector.invalid:4318/v1/traces"
        assert provider.resource.attributes["service.name"] == "brain-eu"
    finally:
        provider.shutdown()


def test_exporter_none_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.invalid:4318")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert _processors(build_tracer_provider("brain")) == ()


def test_nothing_is_traced_without_an_exporter_or_a_provider() -> None:
    # Spans that go nowhere still cost CPU on every request, workflow task and activity.
    from fastapi import FastAPI

    from core.telemetry import instrument_app, tracing_interceptors

    assert tracing_interceptors() == []
    app = FastAPI()
    instrument_app(app)
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert len(tracing_interceptors(TracerProvider())) == 1


def test_an_exporter_turns_tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import FastAPI

    from core.telemetry import instrument_app, tracing_interceptors

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.invalid:4318")
    assert len(tracing_interceptors()) == 1
    app = FastAPI()
    instrument_app(app)
    assert app._is_instrumented_by_opentelemetry  # type: ignore[attr-defined]
