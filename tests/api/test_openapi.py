"""Schemathesis over the app's own OpenAPI document, with a valid super-admin token: no 5xx,
and every response conforms to the document (status, content type, headers, body).

Cases are generated synchronously and sent through the test's own ASGI client, because the
app's clients (Temporal, the database) live on this test's event loop; schemathesis's own
ASGI transport would run the app on another one.
"""

import contextlib
import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from tests.api.support import Api
from tests.support import ai_result

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_POLICY_WRITES = ("toggle_hitl", "set_threshold", "set_policy")


def _cases(operation: Any, mode: GenerationMode, **fixed: Any) -> list[Case]:
    drawn: list[Case] = []

    @given(operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=EXAMPLES,
        # Random locally, where it keeps finding new cases; fixed in CI, so a green change
        # is not failed by a case it never touched.
        derandomize=bool(os.environ.get("CI")),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def draw(case: Case) -> None:
        drawn.append(case)

    # Unsatisfiable: e.g. negative data for an operation that takes no input.
    with contextlib.suppress(Unsatisfiable):
        draw()
    return drawn


# On PostgreSQL only, the production database, which refuses more inputs than SQLite: the
# same app and schema on SQLite added a dozen seconds to the suite for nothing.
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_the_api_conforms_to_its_openapi_document(api: Api) -> None:
    # Every started run parks with nothing to apply: the fuzzer starts many.
    api.brain.model.default = ai_result(proposal=None, confidence=0.0, needs_review=True, error="x")
    parked = (await api.parked())["workflow_id"]
    app = create_app(api.settings, state=api.state)
    schema = schemathesis.openapi.from_dict(app.openapi())
    headers = api.auth("super_admin")
    failures: list[str] = []
    sent = 0
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://brain") as http:
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operation = result.ok()
            fixed: dict[str, Any] = {}
            if "{workflow_id}" in operation.path:
                fixed["path_parameters"] = {"workflow_id": parked}
            for mode in GenerationMode:
                # Random ids (mostly 404s), then the parked run's id (the handlers behind).
                cases = _cases(operation, mode)
                if fixed:
                    cases += _cases(operation, mode, **fixed)
                for case in cases:
                    if _writes_policy(operation) and isinstance(case.body, dict):
                        # Keep the fuzzer off the global rows every other test shares.
                        case.body["tenant"] = api.tenant
                    kwargs = case.as_transport_kwargs(headers=headers)
                    response = await http.request(
                        kwargs["method"],
                        kwargs["url"],
                        params=kwargs.get("params"),
                        headers=kwargs.get("headers"),
                        json=kwargs.get("json"),
                        content=kwargs.get("data"),
                    )
                    sent += 1
                    try:
                        case.validate_response(response, checks=CHECKS, headers=headers)
                    except FailureGroup as e:  # collect them all, then fail once
                        failures.append(f"{operation.label} [{mode}] {response.status_code}: {e}")
    assert sent > 100
    assert not failures, "\n\n".join(failures[:10])


def _writes_policy(operation: Any) -> bool:
    return operation.definition.raw.get("operationId") in _POLICY_WRITES
