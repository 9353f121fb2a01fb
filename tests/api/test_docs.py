"""``/docs`` and ``/redoc`` load nothing from outside (Brain is offline-first): every asset
the pages name is a local path the app serves, and the browser is told to fetch nothing else.
"""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from core.settings import Settings

PAGES = {
    "/docs": {"swagger-ui-bundle.js": "javascript", "swagger-ui.css": "text/css"},
    "/redoc": {"redoc.standalone.js": "javascript"},
}
_ASSET = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']""")
_ABSOLUTE = re.compile(r"""https?:|["']//""")


@pytest_asyncio.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # The pages need no Temporal or database: the app without its lifespan is enough.
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://brain"
    ) as client:
        yield client


@pytest.mark.parametrize("page", sorted(PAGES))
async def test_the_docs_pages_use_only_local_assets(http: httpx.AsyncClient, page: str) -> None:
    r = await http.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    # No absolute URL at all: no CDN, no fonts, no favicon from elsewhere.
    assert not _ABSOLUTE.search(r.text), r.text
    assets = _ASSET.findall(r.text)
    names = {url.rsplit("/", 1)[-1]: url for url in assets}
    assert PAGES[page].keys() <= names.keys(), assets
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        served = await http.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 1000, url
    for name, kind in PAGES[page].items():
        served = await http.get(names[name])
        assert kind in served.headers["content-type"], (name, served.headers["content-type"])
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy


async def test_swagger_ui_has_no_validator_badge(http: httpx.AsyncClient) -> None:
    # The badge is an image from validator.swagger.io.
    assert '"validatorUrl": null' in (await http.get("/docs")).text


async def test_the_openapi_document_is_where_the_pages_look(http: httpx.AsyncClient) -> None:
    r = await http.get("/openapi.json")
    assert r.status_code == 200 and r.json()["info"]["title"] == "Brain"
    assert "'/openapi.json'" in (await http.get("/docs")).text
