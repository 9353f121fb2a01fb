"""docs/webui-inbox.png, the README's inbox: a real ``brain up`` (free ports, a temporary
BRAIN_HOME, the rules model), a few example runs parked for approval, and Debian's chromium
adding the inbox's columns as the README says (tests/webui/ui.py, the same steps the browser
test takes and checks).

    .venv/bin/python scripts/webui_screenshots.py
"""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cli.local import inbox_url  # noqa: E402
from tests.webui.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.webui.ui import UI_TIMEOUT_MS, inbox_cells, show_inbox_columns  # noqa: E402

if TYPE_CHECKING:
    from playwright.async_api import ViewportSize

BRAIN = Path(sys.executable).parent / "brain"
INBOX_PNG = ROOT / "docs" / "webui-inbox.png"
# Wide enough for every column of the inbox, the workflow ids whole, and tall enough for the
# runs; the picture is the page's main part (no navigation), about 1,700 px wide.
VIEWPORT: "ViewportSize" = {"width": 2000, "height": 560}
# What waits: the example runs each process parks for a person (process, example, requester).
RUNS = [
    ("lead_scoring", "unsure", "ada"),
    ("content_generation", "unsure", "grace"),
    ("product_sourcing", "unsure", "ada"),
    ("campaign_tuning", "unsure", "grace"),
    ("testimonial_generation", "unsure", "ada"),
]
STARTUP_TIMEOUT = 120


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _up(cwd: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``brain up`` without the API; returns it and its Web UI's address once it is up."""
    temporal_port, ui_port = _free_ports(2)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [BRAIN, "up", "--no-api", "--temporal-port", str(temporal_port),
             "--ui-port", str(ui_port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
        )  # fmt: skip
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while "Ctrl-C stops" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.send_signal(signal.SIGINT)
            raise SystemExit(f"brain up is not up:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    return proc, f"http://127.0.0.1:{ui_port}"


def _start(process: str, example: str, by: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [BRAIN, "start", process, "--example", example, "--by", by],
        capture_output=True, text=True, env=env, cwd=cwd, check=True, timeout=60,
    )  # fmt: skip
    workflow_id = re.search(r"[a-z_]+:local:[0-9a-f]{32}", done.stdout)
    assert workflow_id is not None, done.stdout
    return workflow_id.group()


async def _photograph(ui_url: str, workflow_ids: list[str]) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
            page.set_default_timeout(UI_TIMEOUT_MS)
            # The count above the list: it shows once the filtered list has loaded.
            count = page.get_by_role("status").filter(has_text=re.compile(r"^\d+ Workflows?$"))
            every = count.filter(has_text=re.compile(rf"^{len(workflow_ids)} Workflows$"))
            for _ in range(60):  # the runs park one by one; the list does not poll
                await page.goto(inbox_url(ui_url, "default"))
                await expect(count).to_be_visible()
                if await every.is_visible():
                    break
                await asyncio.sleep(0.5)
            else:
                raise SystemExit(f"not every run parked: {workflow_ids}")
            await show_inbox_columns(page, expect)
            for workflow_id in workflow_ids:
                cells = await inbox_cells(page, workflow_id)
                await expect(cells["BrainDeadline"]).to_have_text(re.compile(r"UTC$"))
                await expect(cells["Workflow ID"].get_by_role("link")).to_be_in_viewport(ratio=1)
            await page.locator("main").screenshot(path=INBOX_PNG)
        finally:
            await browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="brain-screenshots-") as tmp:
        cwd = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRAIN_")}
        proc, ui_url = _up(cwd, env, cwd / "brain-up.log")
        try:
            ids = [_start(process, example, by, cwd, env) for process, example, by in RUNS]
            asyncio.run(_photograph(ui_url, ids))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    print(f"wrote {INBOX_PNG.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
