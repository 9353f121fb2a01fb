"""Browser tests: Playwright's async API over Debian's chromium, or a clear failure."""

import os
from typing import Any

import pytest

from tests.webui.browser import CHROMIUM


@pytest.fixture(scope="module")
def async_playwright() -> Any:
    """Playwright's async API, or a clear failure (never a skip) when the browser is missing;
    module-scoped so it is checked before the dev server starts."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the Web UI test needs Debian's chromium; "
            "`bash scripts/browser.sh` (run by `make test`) installs it as root with apt-get",
            pytrace=False,
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(
            "the Python package `playwright` is missing: `pip install -e '.[dev]'` "
            "(never `playwright install`: the test drives Debian's chromium)",
            pytrace=False,
        )
    return async_playwright
