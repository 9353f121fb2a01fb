"""A process's Prometheus endpoint: Brain's own metrics plus the Temporal SDK's.

The SDK's metrics (task slots, poll latencies, activity and workflow task outcomes) come
from its Rust core, which serves them on an address of its own. A worker with
``BRAIN_METRICS_PORT`` set runs that server on a private loopback port and folds its output
into the one ``/metrics`` it serves, so Prometheus scrapes one target per process.
"""

import logging
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sdk_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime whose core serves the SDK's metrics at ``bind_address``."""
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=bind_address, counters_total_suffix=True, durations_as_seconds=True
            )
        )
    )


class ScrapedCollector(Collector):
    """Re-serves another endpoint's metrics (the SDK core's) as part of this registry."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout

    def describe(self) -> list[Metric]:
        # Registering must not scrape: the names are whatever the SDK serves at the time.
        return []

    def collect(self) -> Iterator[Metric]:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                text = response.read().decode()
        except OSError as err:
            # A scrape must still answer with Brain's own metrics.
            log.debug("SDK metrics unavailable at %s: %s", self.url, err)
            return
        yield from text_string_to_metric_families(text)


# Extra paths a metrics server answers besides the metrics (a worker's probes): each returns
# the HTTP status and a JSON body. Called on the server's request threads.
Route = Callable[[], tuple[int, bytes]]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Prometheus scrapes and probes every few seconds: no line per request."""


def _app(registry: CollectorRegistry, routes: Mapping[str, Route]) -> "WSGIApplication":
    metrics: WSGIApplication = make_wsgi_app(registry)

    def app(environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            return metrics(environ, start_response)
        status, body = route()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    return app


def start_metrics_server(
    port: int,
    host: str = "127.0.0.1",
    registry: CollectorRegistry = REGISTRY,
    routes: Mapping[str, Route] | None = None,
) -> Callable[[], None]:
    """Serve ``registry`` at ``http://host:port/metrics`` (and ``routes`` at their paths);
    returns the function that stops it."""

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    server = make_server(host, port, _app(registry, routes or {}), Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    log.info("metrics at http://%s:%d/metrics", host, port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


def worker_telemetry(
    port: int,
    host: str = "127.0.0.1",
    registry: CollectorRegistry = REGISTRY,
    routes: Mapping[str, Route] | None = None,
) -> tuple[Runtime, Callable[[], None]]:
    """The runtime a worker's client must use, and the stop function of its endpoint (which
    also answers ``routes``: the worker's probes)."""
    sdk_address = f"127.0.0.1:{_free_loopback_port()}"
    runtime = sdk_runtime(sdk_address)
    collector = ScrapedCollector(f"http://{sdk_address}/metrics")
    registry.register(collector)
    stop_server = start_metrics_server(port, host, registry, routes)

    def stop() -> None:
        stop_server()
        registry.unregister(collector)

    return runtime, stop
