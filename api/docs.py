"""``/docs`` (Swagger UI) and ``/redoc`` served with assets from the ``fastapi-offline`` wheel:
Brain is offline-first, and FastAPI's own pages load their JS, CSS, favicon and fonts from
CDNs. This is FastAPI's recipe for self-hosting ("Custom Docs UI Static Assets").

Also the OpenAPI document's edge errors: every route with a body may answer 413 and 415
(api/edge.py), which no route declares itself.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.errors import responses

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
# Swagger UI's validator badge is an image from validator.swagger.io: off.
_SWAGGER_PARAMETERS = {"validatorUrl": None}
# The browser itself keeps the pages local: ReDoc's side menu always asks cdn.redoc.ly for
# its logo (no option turns that off), and this blocks it. Inline script and styles: Swagger
# UI's start-up script, ReDoc's styled components; blob: workers: ReDoc's search.
_LOCAL_ONLY = {
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "worker-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
}


def install_docs(app: FastAPI) -> None:
    """The pages on a FastAPI built with ``docs_url=None, redoc_url=None``."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root, assets = _prefixes(request)
        return _local_only(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                swagger_css_url=f"{assets}/swagger-ui.css",
                swagger_favicon_url=f"{assets}/favicon.png",
                swagger_ui_parameters=_SWAGGER_PARAMETERS,
            )
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root, assets = _prefixes(request)
        return _local_only(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{assets}/redoc.standalone.js",
                redoc_favicon_url=f"{assets}/favicon.png",
                with_google_fonts=False,
            )
        )

    # Read by whoever prints where the docs are (``brain up``'s banner). FastAPI added its
    # CDN pages in its constructor, so setting these now adds none.
    app.docs_url, app.redoc_url = DOCS_URL, REDOC_URL


def _local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(_LOCAL_ONLY)
    return page


def _prefixes(request: Request) -> tuple[str, str]:
    # Behind a proxy that mounts the API under a path (uvicorn --root-path), as FastAPI does.
    root = request.scope.get("root_path", "").rstrip("/")
    return root, root + ASSETS_URL


def document_edge_errors(app: FastAPI) -> None:
    """Add 413 and 415 to every operation with a request body in the OpenAPI document."""
    build = app.openapi
    edge = responses(413, 415)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                if "requestBody" not in operation:
                    continue
                for code, spec in edge.items():
                    operation["responses"].setdefault(
                        str(code),
                        {
                            "description": spec["description"],
                            "content": {"application/json": {"schema": ref}},
                        },
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
