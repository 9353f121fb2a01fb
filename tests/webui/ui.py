"""What an approver does in the Temporal Web UI, as Playwright steps: give the inbox its
columns, read a run's current details, check that what they must paste is inside the panel,
send a signal."""

import asyncio
from pathlib import Path
from typing import Any

UI_TIMEOUT_MS = 15_000
# The inbox's columns (README, "Deciding in the Temporal Web UI"), in the order they are
# added, and the default ones the inbox does without, so that they fit beside each other.
INBOX_COLUMNS = ("BrainSubject", "BrainConfidence", "BrainGate", "BrainDeadline")
NOT_IN_THE_INBOX = ("Run ID", "Type", "Start", "End")
# Reloads while waiting for the worker to refresh a run's current details.
_REFRESH_ATTEMPTS = 30
Box = dict[str, float]


async def show_inbox_columns(page: Any, expect: Any) -> None:
    """The README's recipe on the workflows list: *Configure Columns*, add the Brain
    attributes (they join at the end), remove the columns the inbox does not need, and move
    *Workflow ID* last with its down arrow. The UI keeps this per namespace in the browser's
    local storage."""
    await page.get_by_role("button", name="Configure Columns").click()
    drawer = page.get_by_role("region").filter(
        has=page.get_by_role("heading", name="Configure Workflows Table")
    )
    await expect(drawer).to_be_visible()
    for name in INBOX_COLUMNS:
        await drawer.get_by_role("button", name=f"Add {name} column").click()
    for name in NOT_IN_THE_INBOX:
        await drawer.get_by_role("button", name=f"Remove {name} column").click()
    down = drawer.get_by_role("button", name="Move Workflow ID column down")
    for _ in INBOX_COLUMNS:
        await down.click()
    await expect(down).to_be_disabled()  # the last column
    await drawer.get_by_role("button", name="Close Workflows Table configuration").click()
    await expect(drawer).to_be_hidden()
    headers = page.get_by_role("columnheader")
    await expect(headers.last).to_have_text("Workflow ID")
    shown = [h.strip() for h in await headers.all_inner_texts()]
    assert shown[-len(INBOX_COLUMNS) - 2 :] == ["Status", *INBOX_COLUMNS, "Workflow ID"], shown


async def inbox_cells(page: Any, workflow_id: str) -> dict[str, Any]:
    """The run's row in the workflows list: its cells by column heading."""
    headers = [h.strip() for h in await page.get_by_role("columnheader").all_inner_texts()]
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=workflow_id))
    return {h: row.get_by_role("cell").nth(i) for i, h in enumerate(headers) if h}


def _details_heading(page: Any) -> Any:
    return page.get_by_role("heading", name="Current Details", exact=True)


def details_body(page: Any) -> Any:
    # The UI renders the markdown in an iframe of its own (its /render page), below the
    # section's heading.
    frame = _details_heading(page).locator("xpath=following::iframe[1]").content_frame
    return frame.locator("body")


def details_panel(page: Any) -> Any:
    """The *Current Details* column: its heading and the iframe."""
    return _details_heading(page).locator("xpath=ancestor::div[.//iframe][1]")


async def current_details(page: Any, expect: Any, contains: str) -> str:
    """Open the run's *User Metadata* tab; return the current details' text once it has
    ``contains``, reloading while the worker has not refreshed them yet."""
    for _ in range(_REFRESH_ATTEMPTS):
        await page.get_by_role("tab", name="User Metadata").click()
        body = details_body(page)
        await expect(body).to_contain_text("Lead scoring:")
        text = str(await body.inner_text())
        if contains in text:
            return text
        await asyncio.sleep(0.5)
        await page.reload()
    raise AssertionError(f"the current details never showed {contains!r}:\n{text}")


def inside(outer: Box, inner: Box) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


async def assert_inside_the_panel(page: Any, expect: Any, texts: list[str]) -> None:
    """Each text is an inline-code element of the details, shown whole, within the panel's
    box and the iframe's (not cut off sideways or below), and nothing scrolls sideways."""
    panel = await details_panel(page).bounding_box()
    frame = await _details_heading(page).locator("xpath=following::iframe[1]").bounding_box()
    assert panel is not None and frame is not None
    assert inside(panel, frame), (panel, frame)
    body = details_body(page)
    wide, room = await body.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert wide <= room, f"the details scroll sideways: {wide} > {room} px"
    for text in texts:
        code = body.locator("code").filter(has_text=text).first
        await expect(code).to_have_text(text)
        box = await code.bounding_box()
        assert box is not None and inside(panel, box) and inside(frame, box), (text, box, panel)


async def send_signal(page: Any, expect: Any, name: str, data: str) -> None:
    """*More Actions* → *Send a Signal*, pick ``name`` among the run's defined signals."""
    await page.get_by_role("button", name="More Actions").click()
    await page.get_by_role("menuitem", name="Send a Signal").click()
    dialog = page.get_by_role("dialog", name="Send a Signal")
    await expect(dialog).to_be_visible()
    signals = dialog.get_by_test_id("signal-select-button")
    await signals.click()
    option = page.get_by_role("option").filter(has=page.get_by_text(name, exact=True))
    # The signal's description (hitl/gate.py) shows in the list.
    await expect(option).to_contain_text(f"{name.capitalize()} the pending proposal")
    await option.click()
    await expect(signals).to_have_accessible_name(name)
    field = dialog.get_by_role("textbox", name="Data")
    await field.click()  # also closes the signal list
    await expect(signals).to_have_attribute("aria-expanded", "false")
    await field.fill(data)
    # The editor pretty-prints JSON when it loses focus, which grows it and moves Submit
    # down: blur first, or the click's own blur moves the button from under the pointer.
    await field.blur()
    submit = dialog.get_by_role("button", name="Submit")
    await expect(submit).to_be_enabled()
    await submit.click()
    await expect(dialog).to_be_hidden()


async def signal_list(page: Any, expect: Any, screenshot: Path) -> list[str]:
    """The entries of the *Send a Signal* list as shown (name, description), photographed."""
    await page.get_by_role("button", name="More Actions").click()
    await page.get_by_role("menuitem", name="Send a Signal").click()
    dialog = page.get_by_role("dialog", name="Send a Signal")
    await dialog.get_by_test_id("signal-select-button").click()
    options = page.get_by_role("option")
    await expect(options.first).to_be_visible()
    shown = [str(t) for t in await options.all_inner_texts()]
    await page.screenshot(path=screenshot)
    await page.keyboard.press("Escape")
    if await dialog.is_visible():
        await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    return shown
