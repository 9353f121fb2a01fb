"""Starting a process run: shared by the REST API and the CLI.

The workflow id is a business key (process, tenant, idempotency key), and the server
refuses a second run with the same id, so a retried start never runs the process twice.
"""

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from hitl.details import text_line
from models.hitl import GLOBAL_TENANT
from models.processes import Process, RunState
from models.tables import RunRow
from models.workflow_io import GATE_VERSION, ProcessStart
from processes import registry
from store import runs
from store.db import single_statement
from temporal.search_attributes import (
    BRAIN_GATE_VERSION,
    BRAIN_PROCESS,
    BRAIN_STATE,
    BRAIN_SUBJECT,
    BRAIN_TENANT,
)

_MEMO_INPUT_HASH = "brain_input_hash"
# The database cannot be reached (asyncpg raises a refused connection unwrapped).
_DATABASE_DOWN = (OperationalError, InterfaceError, OSError)

log = logging.getLogger(__name__)


class GlobalTenant(ValueError):
    """A run was asked for under tenant ``*``."""


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different body."""


@dataclass(frozen=True)
class StartedRun:
    workflow_id: str
    run_id: str
    process: Process
    state: RunState
    created: bool


def input_hash(run_input: BaseModel) -> str:
    canonical = json.dumps(run_input.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def static_details(process: Process, subject: str, tenant: str, requested_by: str) -> str:
    # Shown in the Web UI's *User Metadata* tab, beside the current details (hitl/details.py).
    return "\n".join(
        [
            f"**{process.value.replace('_', ' ').capitalize()}** for {text_line(subject)}",
            f"Tenant `{tenant}`, requested by `{requested_by}`.",
            "The AI proposes first. When a person must decide, the run waits, and its "
            "**Current Details** say what the AI proposes and what to send: *More Actions* → "
            "*Send a Signal* → **approve** or **reject**.",
            "Every run waiting for a decision: the workflows list filtered by "
            '`BrainState="awaiting_approval"`.',
        ]
    )


def workflow_id_for(process: Process, tenant: str, key: str | None) -> str:
    return f"{process.value}:{tenant}:{key or uuid.uuid4().hex}"


async def start_process(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    *,
    process: Process,
    tenant: str,
    requested_by: str,
    body: dict[str, Any] | BaseModel,
    task_queue: str,
    idempotency_key: str | None = None,
    subjects_case_sensitive: bool = False,
) -> StartedRun:
    """Validate ``body`` (raises ``pydantic.ValidationError``) and start the run once.
    Raises ``GlobalTenant`` for tenant ``*``: it names the global policies, and a run under
    it would act across every tenant (row-level security's bypass).
    ``subjects_case_sensitive``: how the run compares people (core/identity.py), for its
    whole life."""
    if tenant == GLOBAL_TENANT:
        raise GlobalTenant("a run belongs to one tenant; '*' names the global policies")
    run_input = registry.definition(process).parse_input(body)
    subject = run_input.subject()[:300]
    start = ProcessStart(
        tenant=tenant,
        requested_by=requested_by,
        input=run_input.model_dump(mode="json"),
        gate_version=GATE_VERSION,
        subjects_case_sensitive=subjects_case_sensitive,
        temporal_address=client.service_client.config.target_host,
    )
    digest = input_hash(run_input)
    workflow_id = workflow_id_for(process, tenant, idempotency_key)
    try:
        handle = await client.start_workflow(
            registry.definition(process).workflow_type,
            start,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(BRAIN_PROCESS, process.value),
                    SearchAttributePair(BRAIN_TENANT, tenant),
                    SearchAttributePair(BRAIN_STATE, RunState.RUNNING.value),
                    SearchAttributePair(BRAIN_SUBJECT, subject),
                    SearchAttributePair(BRAIN_GATE_VERSION, GATE_VERSION),
                ]
            ),
            memo={_MEMO_INPUT_HASH: digest},
            # The Web UI's default view of the run: what it is, and where to decide.
            static_summary=f"{process.value}: {subject} (tenant {tenant})",
            static_details=static_details(process, subject, tenant, requested_by),
        )
    except WorkflowAlreadyStartedError:
        if idempotency_key is None:
            raise
        return await _existing(
            client,
            sessions,
            workflow_id,
            process,
            digest,
            tenant=tenant,
            requested_by=requested_by,
            idempotency_key=idempotency_key,
        )
    run_id = handle.result_run_id or ""
    try:
        async with sessions.begin() as session:
            await single_statement(session)
            await runs.create(
                session,
                workflow_id=workflow_id,
                run_id=run_id,
                tenant=tenant,
                process=process.value,
                state=RunState.RUNNING.value,
                requested_by=requested_by,
                idempotency_key=idempotency_key,
                input_hash=digest,
                subject=subject,
            )
    except _DATABASE_DOWN as err:
        # The run has started: an error now would have the caller retry and start a second
        # one. Its row is written by the run's first database step once the database is back.
        log.warning(
            "run %s started; its row waits for the database (%s)", workflow_id, type(err).__name__
        )
    return StartedRun(workflow_id, run_id, process, RunState.RUNNING, created=True)


async def _existing(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    workflow_id: str,
    process: Process,
    digest: str,
    *,
    tenant: str,
    requested_by: str,
    idempotency_key: str,
) -> StartedRun:
    description = await client.get_workflow_handle(workflow_id).describe()
    memo = await description.memo()
    if memo.get(_MEMO_INPUT_HASH) != digest:
        raise IdempotencyConflict(
            f"the idempotency key was already used with a different body ({workflow_id})"
        )
    # The runs table is kept current by the gate; the search attribute is only a fallback
    # for a run whose row is missing (it never records terminated or timed-out runs).
    async with sessions() as session:
        row = await session.get(RunRow, workflow_id)
    if row is not None:
        return StartedRun(
            workflow_id, description.run_id, process, RunState(row.state), created=False
        )
    # The first attempt started the run but could not record it (the database was down):
    # record it now, so the run this answer names can be read at once.
    state = description.typed_search_attributes.get(BRAIN_STATE) or RunState.RUNNING.value
    async with sessions.begin() as session:
        await runs.create(
            session,
            workflow_id=workflow_id,
            run_id=description.run_id,
            tenant=tenant,
            process=process.value,
            state=state,
            requested_by=requested_by,
            idempotency_key=idempotency_key,
            input_hash=digest,
        )
    return StartedRun(workflow_id, description.run_id, process, RunState(state), created=False)
