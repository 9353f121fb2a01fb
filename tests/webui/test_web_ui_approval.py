"""The Temporal Web UI door (SPEC §2-§3) in a real browser, as an approver meets it: the inbox
link lists the parked run and, with the columns the README adds, its subject, confidence, gate
and deadline; its page and current details (*User Metadata*) show what to decide, the AI's
text as written (``77/100``, no fraction glyph), and the payloads to paste inside the panel;
a malformed signal sent through the UI's own *Send a Signal* form is ignored and the details
say why; an approve with edits completes the run and the details show the edited proposal.

Debian's chromium (installed by ``scripts/browser.sh``, which ``make test`` runs) is driven by
Playwright through ``executable_path``; no browser is ever downloaded. Without chromium the
test fails and says why, it is never skipped. Screenshots go to ``test-artifacts/webui/``
(docs/webui-default.png and docs/webui-details.png show the same two views of a `brain up`
run; ``scripts/webui_screenshots.py`` takes docs/webui-inbox.png with this test's steps).
"""

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from cli.local import inbox_url
from models.hitl import RunStatus
from models.processes import RunState
from models.workflow_io import ProcessResult
from temporal.search_attributes import ALL as SEARCH_ATTRIBUTES
from tests.conftest import Database, _temporal_binary
from tests.support import Brain, ai_result, running_brain
from tests.webui.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.webui.ui import (
    UI_TIMEOUT_MS,
    assert_inside_the_panel,
    current_details,
    details_body,
    inbox_cells,
    send_signal,
    show_inbox_columns,
    signal_list,
)
from workflows.process_workflow import LeadScoringWorkflow

NAMESPACE = "default"
PROPOSAL = {"score": 77, "tier": "warm", "rationale": "mid-size company, referral"}
EDITS = {"score": 85}
# The AI's rationale: the Web UI's renderer would make "77/100" a superscript fraction.
WHY = "Score 77/100: mid-size company, referral"
SUBJECT = "Ada Lovelace (Analytical Engines)"
# A laptop's window: the details panel is then about 480 px wide, the narrow case.
VIEWPORT = {"width": 1280, "height": 1000}
TALL = {"width": 1280, "height": 1700}  # for screenshots of the whole details panel
WIDE = {"width": 1600, "height": 600}  # for the inbox's screenshot, every column in view

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


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


async def test_an_approver_decides_a_parked_run_in_the_web_ui(
    async_playwright: Any, ui_server: UIServer, ui_brain: Brain
) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # HITL is on by default for lead scoring, so even a confident proposal parks.
    ui_brain.model.default = ai_result(PROPOSAL, confidence=0.91).model_copy(
        update={"rationale": WHY}
    )
    handle = await ui_brain.start()
    status = await _parked(handle)
    assert status.approval is not None and status.policy is not None
    assert status.policy.hitl_enabled

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The list shows times in the browser's locale and zone: these, as _as_the_list_shows.
        page = await browser.new_page(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            await _find_it_in_the_inbox(page, expect, ui_server, handle.id, listed=True)
            await _see_what_waits(page, expect, handle.id, status)
            await _read_what_to_decide(page, expect, ui_server, handle, status)
            await _a_malformed_signal_is_shown_as_ignored(page, expect, handle)
            await _approve_with_edits(page, expect, handle)
            await _find_it_in_the_inbox(page, expect, ui_server, handle.id, listed=False)
        except BaseException:
            await page.screenshot(path=ARTIFACTS / "failure.png", full_page=True)
            raise
        finally:
            await browser.close()

    [audit] = await ui_brain.audit(handle.id)
    assert (audit.decision, audit.actor, audit.channel) == ("approve", "ui-admin", "signal")
    assert status.approval is not None and audit.final_proposal is not None
    assert audit.approval_id == status.approval.approval_id
    assert audit.edits == EDITS and audit.final_proposal["score"] == EDITS["score"]
    assert audit.final_proposal["tier"] == "hot"  # the tier follows the edited score


async def _find_it_in_the_inbox(
    page: Any, expect: Any, ui_server: UIServer, workflow_id: str, *, listed: bool
) -> None:
    """The README's inbox link: the workflows list filtered to runs awaiting approval."""
    link = page.get_by_role("link", name=workflow_id)
    for _ in range(30):  # visibility is eventually consistent; the list does not poll
        await page.goto(inbox_url(ui_server.ui_url, NAMESPACE))
        await expect(page.get_by_text('BrainState = "awaiting_approval"')).to_be_visible()
        # The count above the list: it shows once the filtered list has loaded.
        count = page.get_by_role("status").filter(has_text=re.compile(r"^\d+ Workflows?$"))
        await expect(count).to_be_visible()
        if await link.is_visible() == listed:
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError(f"{workflow_id} {'not ' if listed else ''}in the inbox")


async def _see_what_waits(page: Any, expect: Any, workflow_id: str, status: RunStatus) -> None:
    """The README's columns, added through the UI: what the run is about, how sure the AI
    is, the gate it waits at and until when."""
    approval = status.approval
    assert approval is not None and approval.gate is not None
    await show_inbox_columns(page, expect)
    cells = await inbox_cells(page, workflow_id)
    await page.set_viewport_size(WIDE)
    shown = {
        "BrainSubject": SUBJECT,
        "BrainConfidence": str(approval.confidence),
        "BrainGate": approval.gate,
        "BrainDeadline": re.compile(_as_the_list_shows(approval.expires_at)),
    }
    for column, text in shown.items():
        await expect(cells[column]).to_have_text(text)
        # Whole in the window, not scrolled off the table's right edge: in the screenshot.
        await expect(cells[column]).to_be_in_viewport(ratio=1)
    await page.screenshot(path=ARTIFACTS / "0-inbox.png")
    await page.set_viewport_size(VIEWPORT)


def _as_the_list_shows(moment: datetime) -> str:
    """A pattern for a time as the workflows list shows it: ``Dec 7, 2026, 9:58:36.40 PM UTC``
    (fractions of a second cut, not rounded)."""
    t = moment.astimezone(UTC)
    return rf"^{t:%b} {t.day}, {t.year}, {t.hour % 12 or 12}:{t:%M:%S}(\.\d+)? {t:%p} UTC$"


async def _read_what_to_decide(
    page: Any, expect: Any, ui_server: UIServer, handle: WorkflowHandle, status: RunStatus
) -> None:
    assert status.approval is not None
    approval_id, threshold = status.approval.approval_id, status.approval.threshold
    await page.goto(ui_server.workflow_url(handle.id))
    await expect(page.get_by_role("heading", name=handle.id)).to_be_visible()
    # The default view: the run's input, and no result while it waits.
    await expect(page.get_by_role("textbox", name="Input")).to_contain_text("Ada Lovelace")
    result = page.get_by_role("textbox", name="Result")
    await expect(result).to_contain_text("Results will appear upon completion.")
    await page.screenshot(path=ARTIFACTS / "1-default.png")

    text = await current_details(page, expect, "Waiting for a decision")
    await page.set_viewport_size(TALL)
    await page.screenshot(path=ARTIFACTS / "2-details.png")
    await page.set_viewport_size(VIEWPORT)
    assert "Lead scoring: awaiting approval" in text
    assert "Confidence: 0.91 (threshold 0.85)" in text
    assert f"Policy: HITL on (people review every proposal) · threshold {threshold:.2f}" in text
    assert "score: 77" in text and "tier: warm" in text
    assert "Model: scripted" in text
    # The AI's text as written: the word joiner text_line puts before the slash is
    # invisible, and the renderer made no superscript fraction of it.
    assert f"Why: {WHY}" in text.replace("\u2060", ""), text
    await expect(details_body(page).locator("sup, sub")).to_have_count(0)
    assert "To approve" in text and "To reject" in text
    # What the approver pastes: whole, and inside the panel, not cut off at its edge.
    await assert_inside_the_panel(
        page,
        expect,
        [
            '{"by": "your name"}',
            '{"by": "your name", "edits": {"score": 77}}',
            '{"by": "your name", "comment": "why"}',
            approval_id,
        ],
    )
    # Static details, beside them: what this run is and where to decide.
    static = page.get_by_role("heading", name="Details", exact=True)
    summary = static.locator("xpath=following::iframe[1]").content_frame.locator("body")
    await expect(summary).to_contain_text("Send a Signal")


async def _a_malformed_signal_is_shown_as_ignored(
    page: Any, expect: Any, handle: WorkflowHandle
) -> None:
    shown = await signal_list(page, expect, ARTIFACTS / "3-signal-list.png")
    names = {entry.split("\n", 1)[0] for entry in shown}
    assert {"approve", "reject"} <= names, shown
    # Wrong type for score: the run must ignore it, keep waiting, and say why.
    await send_signal(page, expect, "approve", '{"by": "ui-admin", "edits": {"score": "high"}}')
    await page.reload()
    text = await current_details(page, expect, "Last ignored signal")
    await page.screenshot(path=ARTIFACTS / "4-ignored-signal.png")
    assert "InvalidEdits" in text and "edits.score" in text, text
    assert "Lead scoring: awaiting approval" in text
    status: RunStatus = await handle.query(LeadScoringWorkflow.status)
    assert status.state is RunState.AWAITING_APPROVAL and status.ignored_signals


async def _approve_with_edits(page: Any, expect: Any, handle: WorkflowHandle) -> None:
    data = json.dumps({"by": "ui-admin", "comment": "known account", "edits": EDITS})
    await send_signal(page, expect, "approve", data)
    result: ProcessResult = await asyncio.wait_for(handle.result(), timeout=20)
    assert result.state is RunState.COMPLETED

    await page.reload()
    await expect(page.get_by_text("Completed", exact=True).first).to_be_visible()
    text = await current_details(page, expect, "Final proposal")
    await page.set_viewport_size(TALL)
    await page.screenshot(path=ARTIFACTS / "5-after-approval.png")
    await page.set_viewport_size(VIEWPORT)
    assert "Lead scoring: completed" in text
    assert "Decided: approve by ui-admin via signal" in text
    assert "Comment: known account" in text
    assert "Edited: score: 85" in text and "score: 85" in text and "tier: hot" in text
