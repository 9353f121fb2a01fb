"""``brain worker`` and ``brain api`` as production runs them: against Temporal through TLS,
mTLS and API-key-checked fronts (nginx, tests/production/nginx.py), against a PostgreSQL that
speaks only TLS and wants a client certificate, every secret read from a file; and each
misconfiguration failing at start with a message naming the setting to fix.

One module-wide set of processes (a worker and an API per front) serves the end-to-end test;
it is a single test so that no other worker of the suite starts the set again."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from api.auth import mint_token
from core.settings import Settings
from temporal.client import connect
from temporal.connect_errors import TemporalConnectError
from tests.cli.conftest import BRAIN, clean_env, example, run_cmd
from tests.cli.procs import free_ports
from tests.polling import eventually
from tests.production.conftest import (
    JWT_SECRET,
    Proc,
    Secrets,
    database_env,
    spawn,
    stop,
)
from tests.production.nginx import API_KEY, SERVER_NAME, Fronts
from tests.production.pki import Authority, Issued
from tests.production.postgres_tls import TlsPostgres

FRONTS = ("tls", "mtls", "api_key")
START_WITHIN = 120
FLOW_WITHIN = 60
TENANT = "prod"


@pytest.fixture(scope="module")
def temporal_client_cert(authority: Authority) -> Issued:
    return authority.issue("temporal-client", "brain-worker", client=True)


def temporal_env(
    front: str, fronts: Fronts, authority: Authority, cert: Issued, secrets: Secrets
) -> dict[str, str]:
    """``BRAIN_TEMPORAL_*`` for one front. The CA alone turns TLS on."""
    env = {
        "BRAIN_TEMPORAL_ADDRESS": fronts.address(front),
        "BRAIN_TEMPORAL_TLS_CA": str(authority.cert),
    }
    if front == "mtls":
        env |= {
            "BRAIN_TEMPORAL_TLS_CERT": str(cert.cert),
            "BRAIN_TEMPORAL_TLS_KEY": str(cert.key),
            # Dialled by IP, verified (and SNI sent) by the name the certificate holds.
            "BRAIN_TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        }
    if front == "api_key":
        env["BRAIN_TEMPORAL_API_KEY_FILE"] = str(secrets.api_key)
    return env


@dataclass
class Pair:
    """A worker and an API, both through one front."""

    front: str
    env: dict[str, str]
    api_url: str
    probes_url: str
    worker: Proc
    api: Proc


async def _answers_200(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        async with httpx.AsyncClient(timeout=10) as http:
            return (await http.get(url)).status_code == 200
    return False


async def _until_ready(pair: Pair) -> None:
    async def ready() -> bool:
        for p in (pair.worker, pair.api):
            if p.proc.returncode is not None:
                raise AssertionError(f"{p.name} exited {p.proc.returncode}:\n{p.output()[-3000:]}")
        return await _answers_200(f"{pair.api_url}/health/ready") and await _answers_200(
            f"{pair.probes_url}/health/ready"
        )

    try:
        await eventually(ready, within=START_WITHIN)
    except AssertionError as err:
        logs = "\n".join(f"--- {p.name}\n{p.output()[-2000:]}" for p in (pair.worker, pair.api))
        raise AssertionError(f"{pair.front}: not ready ({err}):\n{logs}") from err


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pairs(
    fronts: Fronts,
    migrated: TlsPostgres,
    authority: Authority,
    temporal_client_cert: Issued,
    secrets: Secrets,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[dict[str, Pair]]:
    home = tmp_path_factory.mktemp("brain-prod")
    made: dict[str, Pair] = {}
    procs: list[Proc] = []
    try:
        for front in FRONTS:
            api_port, metrics_port = free_ports(2)
            env = (
                database_env(migrated, authority, secrets)
                | temporal_env(front, fronts, authority, temporal_client_cert, secrets)
                | {
                    "BRAIN_HOME": str(home),
                    "BRAIN_JWT_SECRET_FILE": str(secrets.jwt_secret),
                    "BRAIN_TASK_QUEUE": f"prod-{front}-{uuid.uuid4().hex[:8]}",
                    "BRAIN_REDIS_URL": "",
                    "BRAIN_SHUTDOWN_TIMEOUT_SECONDS": "5",
                }
            )
            worker_env = env | {"BRAIN_METRICS_PORT": str(metrics_port)}
            worker = await spawn(f"worker-{front}", ["worker"], worker_env, home)
            api = await spawn(f"api-{front}", ["api", "--port", str(api_port)], env, home)
            procs += [worker, api]
            made[front] = Pair(
                front,
                env,
                f"http://127.0.0.1:{api_port}/api/brain",
                f"http://127.0.0.1:{metrics_port}",
                worker,
                api,
            )
        await asyncio.gather(*(_until_ready(pair) for pair in made.values()))
        yield made
    finally:
        await stop(procs)


def _token() -> dict[str, str]:
    token = mint_token("ops-lead", TENANT, "approver", 600, JWT_SECRET)
    return {"Authorization": f"Bearer {token}"}


async def _state(http: httpx.AsyncClient, workflow_id: str, wanted: str) -> dict | None:
    r = await http.get(f"/workflows/{workflow_id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] in ("running", "awaiting_approval", wanted), body
    return body if body["state"] == wanted else None


async def _park_approve_complete(pair: Pair) -> str:
    async with httpx.AsyncClient(base_url=pair.api_url, headers=_token(), timeout=30) as http:
        r = await http.post("/workflows/lead_scoring", json=example("lead_scoring", "unsure"))
        assert r.status_code == 201, (pair.front, r.text)
        workflow_id: str = r.json()["workflow_id"]
        await eventually(lambda: _state(http, workflow_id, "awaiting_approval"), FLOW_WITHIN)
        r = await http.post(f"/workflows/{workflow_id}/approve", json={"comment": pair.front})
        assert r.status_code == 200, (pair.front, r.text)
        done = await eventually(lambda: _state(http, workflow_id, "completed"), FLOW_WITHIN)
        assert done["decision"]["action"] == "approve" and done["decision"]["comment"] == pair.front
        assert done["result"] is not None
        return workflow_id


async def test_worker_and_api_run_end_to_end_through_each_front(
    pairs: dict[str, Pair], secrets: Secrets
) -> None:
    """Start, park, approve, complete through TLS, mTLS and API-key fronts to Temporal and
    TLS to PostgreSQL, each secret from a file; then no secret shows in the probes, /health,
    `brain status` or any process's log."""
    ids = await asyncio.gather(*(_park_approve_complete(pairs[f]) for f in FRONTS))

    pair = pairs["mtls"]
    seen = []
    async with httpx.AsyncClient(timeout=30) as http:
        for url in (
            f"{pair.api_url}/health",
            f"{pair.api_url}/health/ready",
            f"{pair.api_url}/health/live",
            f"{pair.probes_url}/health/ready",
            f"{pair.probes_url}/health/live",
        ):
            r = await http.get(url)
            assert r.status_code == 200, (url, r.text)
            seen.append(r.text)
    assert json.loads(seen[1]) == {
        "status": "ready", "temporal": "up", "database": "up", "task_queue": "up"
    }  # fmt: skip
    assert json.loads(seen[3])["worker"] == "polling"
    status = await run_cmd(BRAIN, "status", ids[1], env=clean_env() | pair.env, cwd=Path.cwd())
    assert status.code == 0, status.err
    assert status.json()["state"] == "completed"
    seen += [status.out, status.err]
    seen += [p.output() for front in FRONTS for p in (pairs[front].worker, pairs[front].api)]
    for text in seen:
        for secret in secrets.values:
            assert secret not in text


# --- each misconfiguration fails at start, naming the setting ------------------------------


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "setting"),
    [
        ("wrong CA", "BRAIN_TEMPORAL_TLS_CA"),
        ("CA not given", "BRAIN_TEMPORAL_TLS_CA"),
        ("missing client certificate", "BRAIN_TEMPORAL_TLS_CERT"),
        ("expired client certificate", "BRAIN_TEMPORAL_TLS_CERT"),
        ("key of another certificate", "BRAIN_TEMPORAL_TLS_KEY"),
        ("wrong server name", "BRAIN_TEMPORAL_TLS_SERVER_NAME"),
        ("missing API key", "BRAIN_TEMPORAL_API_KEY"),
        ("wrong API key", "BRAIN_TEMPORAL_API_KEY"),
        ("expired server certificate", "BRAIN_TEMPORAL_ADDRESS"),
        ("TLS off, server speaks TLS", "BRAIN_TEMPORAL_TLS"),
    ],
)
async def test_a_misconfigured_connection_fails_at_once_naming_the_setting(
    case: str,
    setting: str,
    fronts: Fronts,
    authority: Authority,
    other_authority: Authority,
    temporal_client_cert: Issued,
) -> None:
    ca = authority.cert
    old = authority.issue("client-expired", "brain-worker", client=True, expired=True)
    settings = {
        "wrong CA": _settings(
            temporal_address=fronts.address("tls"), temporal_tls_ca=other_authority.cert
        ),
        "CA not given": _settings(temporal_address=fronts.address("tls"), temporal_tls=True),
        "missing client certificate": _settings(
            temporal_address=fronts.address("mtls"), temporal_tls_ca=ca
        ),
        "expired client certificate": _settings(
            temporal_address=fronts.address("mtls"),
            temporal_tls_ca=ca,
            temporal_tls_cert=old.cert,
            temporal_tls_key=old.key,
        ),
        "key of another certificate": _settings(
            temporal_address=fronts.address("mtls"),
            temporal_tls_ca=ca,
            temporal_tls_cert=temporal_client_cert.cert,
            temporal_tls_key=old.key,
        ),
        "wrong server name": _settings(
            temporal_address=fronts.address("tls"),
            temporal_tls_ca=ca,
            temporal_tls_server_name="not-temporal.brain.test",
        ),
        "missing API key": _settings(
            temporal_address=fronts.address("api_key"), temporal_tls_ca=ca
        ),
        "wrong API key": _settings(
            temporal_address=fronts.address("api_key"),
            temporal_tls_ca=ca,
            temporal_api_key="not-" + API_KEY,
        ),
        "expired server certificate": _settings(
            temporal_address=fronts.address("expired"), temporal_tls_ca=ca
        ),
        "TLS off, server speaks TLS": _settings(temporal_address=fronts.address("tls")),
    }[case]
    # A bound against a hang, not a measurement: each fails in well under a second.
    async with asyncio.timeout(60):
        with pytest.raises(TemporalConnectError) as raised:
            await connect(settings)
    message = str(raised.value)
    assert setting in message, message
    assert API_KEY not in message


async def test_brain_worker_and_api_that_cannot_connect_exit_1_with_the_setting_not_a_traceback(
    fronts: Fronts,
    migrated: TlsPostgres,
    authority: Authority,
    other_authority: Authority,
    secrets: Secrets,
    tmp_path: Path,
) -> None:
    base = database_env(migrated, authority, secrets) | {
        "BRAIN_HOME": str(tmp_path),
        "BRAIN_JWT_SECRET_FILE": str(secrets.jwt_secret),
        "BRAIN_REDIS_URL": "",
    }
    tls = {
        "BRAIN_TEMPORAL_ADDRESS": fronts.address("tls"),
        "BRAIN_TEMPORAL_TLS_CA": str(authority.cert),
    }
    cases = [
        # (command, env, error, setting)
        (
            ["worker"],
            base | tls | {"BRAIN_TEMPORAL_TLS_CA": str(other_authority.cert)},
            "TemporalConnectError",
            "BRAIN_TEMPORAL_TLS_CA",
        ),
        (
            ["api", "--port", str(free_ports(1)[0])],
            base | tls | {"BRAIN_TEMPORAL_ADDRESS": fronts.address("api_key")},
            "TemporalConnectError",
            "BRAIN_TEMPORAL_API_KEY",
        ),
        (
            ["worker"],
            base | tls | {"BRAIN_DATABASE_SSL_CA": str(other_authority.cert)},
            "DatabaseConnectError",
            "BRAIN_DATABASE_SSL_CA",
        ),
    ]
    env = clean_env()
    # run_cmd bounds each command: a hang fails the test rather than holding it.
    done = await asyncio.gather(
        *(run_cmd(BRAIN, *args, env=env | extra, cwd=tmp_path) for args, extra, _, _ in cases)
    )
    for (args, _, error, setting), result in zip(cases, done, strict=True):
        assert result.code == 1, (args, result.out, result.err)
        assert "Traceback" not in result.err, result.err
        said = result.error()
        assert said["error"] == error and setting in said["detail"], said
        for secret in secrets.values:
            assert secret not in result.err + result.out


def test_brain_up_talks_plainly_to_its_own_dev_server_whatever_the_tls_settings(
    authority: Authority, temporal_client_cert: Issued
) -> None:
    """Production's BRAIN_TEMPORAL_* in the environment must not turn TLS on against the dev
    server `brain up` starts (any TLS detail turns TLS on: temporal/tls.py)."""
    from cli.local import local_settings
    from temporal.tls import temporal_tls

    production = _settings(
        temporal_tls=True,
        temporal_tls_ca=authority.cert,
        temporal_tls_cert=temporal_client_cert.cert,
        temporal_tls_key=temporal_client_cert.key,
        temporal_tls_server_name=SERVER_NAME,
        temporal_api_key=API_KEY,
    )
    assert temporal_tls(production).enabled
    local = local_settings(
        production, temporal_address="127.0.0.1:7300", ui_url="http://127.0.0.1:8300", api_port=1
    )
    assert not temporal_tls(local).enabled and local.temporal_api_key is None
