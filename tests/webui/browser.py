"""The browser the tests drive: Debian's chromium (scripts/browser.sh), through Playwright's
``executable_path``; no browser is ever downloaded."""

import os
from pathlib import Path

CHROMIUM = os.environ.get("BRAIN_CHROMIUM", "/usr/bin/chromium")
# The flags this machine's notes prescribe for a closed network: no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots of every browser test, kept after the run (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "webui"
