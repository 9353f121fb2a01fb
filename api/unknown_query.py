"""Unknown query parameters are a 422 naming them (SPEC §8), on every route.

FastAPI ignores a parameter a route does not declare, so ``GET /workflows?limit=3`` used to
answer 50 runs as if ``limit`` meant something. One app-wide dependency compares the
request's query string with what the route declares (its own parameters and those of its
dependencies), once per route, and refuses the rest before the route runs.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.errors import MAX_FIELD_ERRORS, ValidationFailed, responses

_known: dict[int, frozenset[str]] = {}


def _declared(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        names.update(field.alias for field in current.query_params)
        todo.extend(current.dependencies)
    return frozenset(names)


def _known_for(route: APIRoute) -> frozenset[str]:
    # Keyed by the route object: routes live as long as the app, and there are few of them.
    key = id(route)
    if key not in _known:
        _known[key] = _declared(route.dependant)
    return _known[key]


async def no_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _known_for(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if not unknown:
        return
    hint = f"known: {', '.join(sorted(known))}" if known else "this route takes none"
    raise ValidationFailed(
        [
            {
                "loc": ["query", name[:64]],
                "msg": f"unknown query parameter ({hint})",
                "type": "unknown_parameter",
            }
            for name in unknown[:MAX_FIELD_ERRORS]
        ]
    )


def document_unknown_query(app: FastAPI) -> None:
    """Every operation may answer 422 (an unknown query parameter): say so in the document."""
    build = app.openapi
    spec = responses(422)[422]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation["responses"].setdefault(
                    "422",
                    {
                        "description": spec["description"],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
