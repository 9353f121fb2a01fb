"""``brain ops patches``: how many open runs still take each path kept for earlier code, so
ops know when it can go (hitl/PATCHES.md)."""

import uuid
from typing import Any

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from models.workflow_io import ProcessResult, ProcessStart
from services import patches
from temporal.search_attributes import BRAIN_PROCESS, BRAIN_TENANT
from tests.support import LEAD, Brain, eventually, parked


async def test_open_runs_are_counted_per_patch_by_the_version_they_started_with(
    brain: Brain,
) -> None:
    today = await brain.start()
    await parked(today)
    # A run parked by the code before gate 5 (its start carries version 4, no attribute).
    before = await brain.client.start_workflow(
        "LeadScoringWorkflow",
        ProcessStart(tenant=brain.tenant, requested_by="t", input=LEAD, gate_version=4),
        id=f"lead_scoring:{brain.tenant}:{uuid.uuid4().hex}",
        task_queue=brain.task_queue,
        result_type=ProcessResult,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(BRAIN_PROCESS, "lead_scoring"),
                SearchAttributePair(BRAIN_TENANT, brain.tenant),
            ]
        ),
    )
    await parked(before)

    async def counted() -> Any:
        found = await patches.report(brain.client, brain.task_queue)
        return found if found.open_runs_by_gate_version == {4: 1, 5: 1} else None

    found = await eventually(counted, 15)
    uses = {u.patch: u.open_runs for u in found.items}
    assert uses["gate-v5"] == 1 and uses["signed-policy-change-<n>"] == 1
    assert uses["gate-v4"] == 0 and uses["gate-v3-audit-after-commit"] == 0
    for handle in (today, before):
        await handle.terminate("done")
