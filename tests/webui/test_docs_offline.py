"""``/docs`` (Swagger UI) and ``/redoc`` render in a real browser with no network but
127.0.0.1: every request to another host is aborted, and the pages must still show the API.

ReDoc always asks cdn.redoc.ly for its logo; the page's Content-Security-Policy blocks that
request in the browser (api/docs.py), so it fails with reason ``csp`` and is allowed. Any
other failed request, or any request that reached the network for another host, fails the
test.
"""

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest_asyncio
import uvicorn
from pydantic import SecretStr

from api.app import create_app
from core.settings import Settings
from tests.webui.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

TIMEOUT_MS = 15_000
LOCAL = "127.0.0.1"


@pytest_asyncio.fixture
async def api_url() -> AsyncIterator[str]:
    """The app served by uvicorn on a free port. The pages need no Temporal or database,
    so the lifespan that would connect to them stays off."""
    settings = Settings(jwt_secret=SecretStr("docs-test-secret-" + "0" * 32), _env_file=None)
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host=LOCAL, port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes only a flag)
                await asyncio.sleep(0.05)
        yield f"http://{LOCAL}:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Offline:
    """What the page tried outside 127.0.0.1, and which requests failed and why."""

    aborted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    async def route(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname == LOCAL:
            await route.continue_()
        else:
            self.aborted.append(route.request.url)
            await route.abort("internetdisconnected")

    def on_failed(self, request: Any) -> None:
        self.failed.append((request.url, request.failure or ""))

    def unexpected(self) -> list[tuple[str, str]]:
        return [(url, why) for url, why in self.failed if "csp" not in why.lower()]


async def _offline_page(browser: Any) -> tuple[Any, Offline]:
    offline = Offline()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.route("**/*", offline.route)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("requestfailed", offline.on_failed)
    return page, offline


async def test_swagger_ui_and_redoc_render_offline(async_playwright: Any, api_url: str) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, offline = await _offline_page(browser)
            await page.goto(f"{api_url}/docs")
            # The operations, grouped and listed: Swagger UI loaded its bundle and the schema.
            await expect(page.locator(".opblock").first).to_be_visible()
            assert await page.locator(".opblock").count() > 20
            await expect(page.get_by_text("/api/brain/approvals", exact=True)).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "docs-swagger-offline.png")
            assert not offline.aborted and not offline.unexpected(), offline

            page, offline = await _offline_page(browser)
            await page.goto(f"{api_url}/redoc")
            title = page.get_by_role("heading", level=1).filter(has_text=re.compile("^Brain"))
            await expect(title).to_be_visible()
            await expect(page.get_by_text("/api/brain/approvals").first).to_be_attached()
            await page.screenshot(path=ARTIFACTS / "docs-redoc-offline.png")
            assert not offline.aborted and not offline.unexpected(), offline
        finally:
            await browser.close()
