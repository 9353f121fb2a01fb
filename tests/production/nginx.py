"""Debian's nginx as a TLS terminator in front of the Temporal dev server, proxying gRPC
(``grpc_pass``), as a platform team's ingress or Temporal Cloud's front would be.

One nginx process, four fronts on ports of their own:
- ``tls``: a server certificate from the test CA;
- ``mtls``: the same, and a client certificate from that CA required (``ssl_verify_client``);
- ``api_key``: TLS, and an ``authorization: Bearer <API_KEY>`` header required;
- ``expired``: TLS with a server certificate that has expired.

nginx answers a refused client with HTTP 400 or 401 and an HTML body, as such a front does;
Brain must explain that in terms of its settings all the same. ``scripts/tls_tools.sh``
(``make test``) installs nginx; without it these tests fail, saying so.
"""

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.cli.procs import answers, free_ports
from tests.production.pki import Authority

API_KEY = "brain-test-temporal-api-key-7f3e9c"
# The name the fronts' certificate holds besides 127.0.0.1 and localhost.
SERVER_NAME = "temporal.brain.test"
START_TIMEOUT = 30


@dataclass(frozen=True)
class Fronts:
    tls: int
    mtls: int
    api_key: int
    expired: int

    def address(self, front: str) -> str:
        return f"127.0.0.1:{getattr(self, front)}"


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise AssertionError(
            "nginx is missing; the production tests need Debian's nginx in front of Temporal: "
            "run `make tls-tools` (scripts/tls_tools.sh), or apt-get install nginx"
        )
    return found


def _server(
    port: int, cert: Path, key: Path, upstream: str, extra: str = "", guard: str = ""
) -> str:
    return f"""
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {extra}
        location / {{
            {guard}
            grpc_pass grpc://{upstream};
        }}
    }}"""


def _config(home: Path, authority: Authority, upstream: str, fronts: Fronts) -> str:
    good = authority.issue("front", SERVER_NAME, dns=(SERVER_NAME, "localhost"), ips=("127.0.0.1",))
    old = authority.issue("front-expired", SERVER_NAME, ips=("127.0.0.1",), expired=True)
    temp = "\n".join(
        f"    {kind}_temp_path {home / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
daemon off;
master_process off;
pid {home / "nginx.pid"};
error_log {home / "error.log"} warn;
events {{}}
http {{
    access_log off;
{temp}
    # Workflow histories can be large, and long polls last a minute: no body limit, and
    # timeouts well past Temporal's poll.
    client_max_body_size 0;
    grpc_read_timeout 300s;
    grpc_send_timeout 300s;
    client_body_timeout 300s;
    keepalive_timeout 3600s;
    keepalive_requests 1000000;
{_server(fronts.tls, good.cert, good.key, upstream)}
{
        _server(
            fronts.mtls,
            good.cert,
            good.key,
            upstream,
            extra=f"ssl_client_certificate {authority.cert}; ssl_verify_client on;",
        )
    }
{
        _server(
            fronts.api_key,
            good.cert,
            good.key,
            upstream,
            guard=f'if ($http_authorization != "Bearer {API_KEY}") {{ return 401; }}',
        )
    }
{_server(fronts.expired, old.cert, old.key, upstream)}
}}
"""


@contextlib.contextmanager
def grpc_fronts(authority: Authority, upstream: str, home: Path) -> Iterator[Fronts]:
    """nginx in front of ``upstream`` (host:port of the dev server) until the block ends."""
    binary = nginx_binary()
    home.mkdir(parents=True, exist_ok=True)
    fronts = Fronts(*free_ports(4))
    conf = home / "nginx.conf"
    conf.write_text(_config(home, authority, upstream, fronts))
    log = home / "error.log"
    # -e: the log for the moments before the configuration is read (the compiled-in default
    # is /var/log/nginx, which need not exist or be writable).
    proc = subprocess.Popen(
        [binary, "-p", str(home), "-c", str(conf), "-e", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(proc, fronts, log)
        yield fronts
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _wait_listening(proc: subprocess.Popen[bytes], fronts: Fronts, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    ports = (fronts.tls, fronts.mtls, fronts.api_key, fronts.expired)
    while not all(answers(port) for port in ports):
        if proc.poll() is not None or time.monotonic() > deadline:
            said = log.read_text(errors="replace") if log.exists() else "(no log)"
            raise AssertionError(f"nginx did not start (exit {proc.poll()}):\n{said}")
        time.sleep(0.05)
