"""Search attributes Brain sets on every run (SPEC §2).

They must be registered before any worker runs: a workflow that upserts an unregistered
attribute fails its workflow task over and over.
"""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

BRAIN_PROCESS = SearchAttributeKey.for_keyword("BrainProcess")
BRAIN_TENANT = SearchAttributeKey.for_keyword("BrainTenant")
BRAIN_STATE = SearchAttributeKey.for_keyword("BrainState")
BRAIN_CONFIDENCE = SearchAttributeKey.for_float("BrainConfidence")
# The inbox's columns (README, the Web UI): what a run is about (set at start), the gate it
# waits at and until when (set when it parks).
BRAIN_SUBJECT = SearchAttributeKey.for_text("BrainSubject")
BRAIN_GATE = SearchAttributeKey.for_keyword("BrainGate")
BRAIN_DEADLINE = SearchAttributeKey.for_datetime("BrainDeadline")
# The gate's shape a run was started with (hitl/versions.py), so ops can tell when a path
# kept for older runs has none left (``brain ops patches``). Runs before gate 5 have none.
BRAIN_GATE_VERSION = SearchAttributeKey.for_int("BrainGateVersion")

ALL: tuple[SearchAttributeKey, ...] = (
    BRAIN_PROCESS,
    BRAIN_TENANT,
    BRAIN_STATE,
    BRAIN_CONFIDENCE,
    BRAIN_SUBJECT,
    BRAIN_GATE,
    BRAIN_DEADLINE,
    BRAIN_GATE_VERSION,
)

_INDEXED = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "DOUBLE": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "TEXT": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
}


async def ensure_registered(client: Client, namespace: str) -> list[str]:
    """Register any missing Brain attribute; return the names added (idempotent)."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: _INDEXED[key.indexed_value_type.name]
        for key in ALL
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
