"""The Temporal Web UI door (SPEC §2-§3) in a real browser: an admin opens a parked run in the
dev server's Web UI, reads what to decide in its current details, and approves it through the
UI's own *Send a Signal* form.

Debian's chromium (installed by ``scripts/browser.sh``, which ``make test`` runs) is driven by
Playwright through ``executable_path``; no browser is ever downloaded. Without chromium the
test fails and says why, it is never skipped. Screenshots go to ``test-artifacts/webui/``.
"""

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from models.hitl import RunStatus
from models.processes import RunState
from models.workflow_io import ProcessResult
from temporal.search_attributes import ALL as SEARCH_ATTRIBUTES
from tests.conftest import Database, _temporal_binary
from tests.support import Brain, ai_result, running_brain
from workflows.lead_scoring_workflow import LeadScoringWorkflow

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
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "webui"
UI_TIMEOUT_MS = 15_000
NAMESPACE = "default"
PROPOSAL = {"score": 77, "tier": "warm", "rationale": "mid-size company, referral"}

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class UIServer:
    env: WorkflowEnvironment
    ui_url: str

    def workflow_url(self, workflow_id: str) -> str:
        return f"{self.ui_url}/namespaces/{NAMESPACE}/workflows/{quote(workflow_id, safe='')}"


@pytest_asyncio.fixture(scope="module")
async def ui_server() -> AsyncIterator[UIServer]:
    """A dev server of this module's own with its Web UI on (the shared one runs headless)."""
    ui_port = _free_port()
    env = await WorkflowEnvironment.start_local(
        namespace=NAMESPACE,
        dev_server_existing_path=_temporal_binary(),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        ui=True,
        ui_port=ui_port,
        dev_server_extra_args=["--ui-disable-news-fetch"],
    )
    try:
        yield UIServer(env, f"http://127.0.0.1:{ui_port}")
    finally:
        await env.shutdown()


@pytest_asyncio.fixture
async def ui_brain(ui_server: UIServer, database: Database) -> AsyncIterator[Brain]:
    """A Brain worker on the Web UI's dev server (as the shared ``brain`` fixture builds it)."""
    async with running_brain(ui_server.env.client, database, queue="brain-webui") as brain:
        yield brain


async def _parked(handle: WorkflowHandle) -> RunStatus:
    for _ in range(150):
        status: RunStatus = await handle.query(LeadScoringWorkflow.status)
        if status.state is RunState.AWAITING_APPROVAL:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id} did not park for approval")


async def _current_details(page: Any, expect: Any) -> str:
    """Open the run's *User Metadata* tab and return the rendered current details' text."""
    await page.get_by_role("tab", name="User Metadata").click()
    # The UI renders the markdown in an iframe of its own, below the section's heading.
    heading = page.get_by_role("heading", name="Current Details", exact=True)
    details = heading.locator("xpath=following::iframe[1]").content_frame.locator("body")
    await expect(details).to_contain_text("lead_scoring", timeout=UI_TIMEOUT_MS)
    return str(await details.inner_text())


async def test_admin_approves_a_parked_run_through_the_web_ui_signal_form(
    async_playwright: Any, ui_server: UIServer, ui_brain: Brain
) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # HITL is on by default for lead scoring, so even a confident proposal parks.
    ui_brain.model.default = ai_result(PROPOSAL, confidence=0.91)
    handle = await ui_brain.start()
    status = await _parked(handle)
    assert status.approval is not None and status.policy is not None
    assert status.policy.hitl_enabled

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1400})
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            await _approve_in_the_web_ui(page, expect, ui_server, handle, status)
        except BaseException:
            await page.screenshot(path=ARTIFACTS / "failure.png", full_page=True)
            raise
        finally:
            await browser.close()

    [audit] = await ui_brain.audit(handle.id)
    assert (audit.decision, audit.actor, audit.channel) == ("approve", "ui-admin", "signal")
    assert audit.approval_id == status.approval.approval_id
    assert audit.final_proposal == PROPOSAL


async def _approve_in_the_web_ui(
    page: Any, expect: Any, ui_server: UIServer, handle: WorkflowHandle, status: RunStatus
) -> None:
    assert status.approval is not None
    threshold = status.approval.threshold
    await page.goto(ui_server.workflow_url(handle.id))
    await expect(page.get_by_role("heading", name=handle.id)).to_be_visible()

    # What the admin reads before deciding: the proposal, the confidence, the policy.
    text = await _current_details(page, expect)
    await page.screenshot(path=ARTIFACTS / "1-parked-run-details.png", full_page=True)
    assert "lead_scoring: awaiting approval" in text
    assert f"Waiting for a decision on approval {status.approval.approval_id}" in text
    assert '"tier": "warm"' in text and '"score": 77' in text
    assert '"rationale": "mid-size company, referral"' in text
    assert f"Confidence: 0.91 (threshold {threshold:.2f})" in text
    assert f"Policy: HITL on (people review every proposal), threshold {threshold:.2f}" in text
    assert "Send the signal approve or reject" in text

    # The UI's own signal form: choose `approve` among the run's defined signals.
    await page.get_by_role("button", name="More Actions").click()
    await page.get_by_role("menuitem", name="Send a Signal").click()
    dialog = page.get_by_role("dialog", name="Send a Signal")
    await expect(dialog).to_be_visible()
    signals = dialog.get_by_test_id("signal-select-button")
    await signals.click()
    approve = page.get_by_role("option").filter(has=page.get_by_text("approve", exact=True))
    # The signal's description (hitl/gate.py) shows in the list.
    await expect(approve).to_contain_text("Approve the pending proposal")
    await approve.click()
    await expect(signals).to_have_accessible_name("approve")
    data = dialog.get_by_role("textbox", name="Data")
    await data.click()  # also closes the signal list
    await expect(signals).to_have_attribute("aria-expanded", "false")
    await data.fill('{"by": "ui-admin"}')
    submit = dialog.get_by_role("button", name="Submit")
    await expect(submit).to_be_enabled()
    await page.screenshot(path=ARTIFACTS / "2-send-a-signal-form.png")
    await submit.click()
    await expect(dialog).to_be_hidden()

    result: ProcessResult = await asyncio.wait_for(handle.result(), timeout=20)
    assert result.state is RunState.COMPLETED

    # The UI shows the run completed, decided by the admin through a signal.
    await page.reload()
    await expect(page.get_by_text("Completed", exact=True).first).to_be_visible()
    text = await _current_details(page, expect)
    await page.screenshot(path=ARTIFACTS / "3-after-approval.png", full_page=True)
    assert "lead_scoring: completed" in text
    assert "Decided: approve by ui-admin via signal" in text
