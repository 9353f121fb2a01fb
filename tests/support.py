"""A Brain worker for tests: real dev server, real database, a scripted AI so each test
chooses the confidence it needs (the rules and OpenAI models have their own tests)."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Interceptor, Worker

from activities.ai import ModelProvider
from models.ai import AIResult
from models.hitl import (
    DecideOutcome,
    DecideRequest,
    Decision,
    Policy,
    PolicyChange,
    PolicyFields,
    RunStatus,
)
from models.processes import Action, Channel, Process, RunState
from models.tables import DecisionRow, RunRow
from models.workflow_io import ProcessResult, ProcessStart
from processes import registry
from processes.kit.models import BusinessRow
from services.starting import start_process
from store.policies import PolicyStore
from temporal import door
from temporal.door import derive_key
from temporal.handlers import POLICY_CHANGED_SIGNAL
from temporal.sandbox import WORKFLOW_RUNNER
from tests.conftest import Database
from tests.polling import eventually
from workers.registry import WORKFLOWS, build_activities

if TYPE_CHECKING:
    from hitl.gate import GatedWorkflow

# The JWT secret of the tests' API; the tests' workers derive the REST door's key from it.
SECRET = "api-test-secret-" + "0123456789abcdef" * 4

Row = TypeVar("Row", bound=BusinessRow)
ProcessRun = Callable[["GatedWorkflow", ProcessStart], Awaitable[ProcessResult]]

LEAD = {
    "lead": {
        "name": "Ada Lovelace",
        "email": "ada@analytical.example",
        "company": "Analytical Engines",
        "title": "VP Engineering",
        "company_size": 250,
        "source": "referral",
    }
}


def run_of(workflow: "type[GatedWorkflow]") -> ProcessRun:
    """A process workflow's ``run``, to start it by method reference: the class is made from
    its definition (workflows/process_workflow.py), so a type checker sees only the gate it
    extends. Temporal takes a ``run`` defined on the class itself, so it is in its ``vars``."""
    run: ProcessRun = vars(workflow)["run"]
    return run


def signed_change(workflow_id: str, change: PolicyChange | dict[str, Any]) -> dict[str, Any]:
    """A policy-change payload for ``workflow_id`` signed with the tests' door key, as the
    broadcast signs it."""
    payload = change.model_dump(mode="json") if isinstance(change, PolicyChange) else change
    key = derive_key(SECRET)
    return {**payload, "signature": door.sign(key, workflow_id, payload, door.POLICY_CHANGED)}


def ai_result(
    proposal: dict[str, Any] | None = None, confidence: float = 0.95, **kw: Any
) -> AIResult:
    if proposal is None and not kw.get("needs_review"):
        proposal = {"score": 82, "tier": "hot", "rationale": "senior title, referral"}
    return AIResult(
        proposal=proposal, confidence=confidence, rationale="scripted", model="scripted", **kw
    )


class ScriptedModel:
    """Answers each process with the next scripted result (or the default)."""

    name = "scripted"

    def __init__(self) -> None:
        # When set, answers come from this real model (the rules) instead of the script.
        self.delegate: ModelProvider | None = None
        self.default = ai_result()
        self.script: list[AIResult | Exception] = []
        self.calls = 0

    async def propose(self, process: Process, run_input: BaseModel) -> AIResult:
        self.calls += 1
        if self.delegate is not None and not self.script:
            return await self.delegate.propose(process, run_input)
        nxt = self.script.pop(0) if self.script else self.default
        if isinstance(nxt, Exception):
            raise nxt
        return nxt


@dataclass
class Brain:
    client: Client
    task_queue: str
    db: Database
    policies: PolicyStore
    model: ScriptedModel
    tenant: str = field(default_factory=lambda: f"t-{uuid.uuid4().hex[:8]}")

    async def start(
        self,
        process: Process = Process("lead_scoring"),
        body: dict[str, Any] | None = None,
        **kw: Any,
    ) -> WorkflowHandle[Any, ProcessResult]:
        started = await start_process(
            self.client,
            self.db.sessions,
            process=process,
            tenant=kw.pop("tenant", self.tenant),
            requested_by="tester",
            body=body if body is not None else LEAD,
            task_queue=self.task_queue,
            **kw,
        )
        return self.client.get_workflow_handle(started.workflow_id, result_type=ProcessResult)

    async def set_policy(
        self, process: Process = Process("lead_scoring"), gate: str | None = None, **fields: Any
    ) -> Policy:
        return await self.policies.set(
            process, self.tenant, PolicyFields(**fields), changed_by="admin", gate=gate
        )

    async def later_gates_on_their_own(self, process: Process) -> None:
        """Every gate after the first passes on its own (the tests of one gate's behaviour
        on a process with several: legal would otherwise review a story's figures)."""
        for gate in registry.definition(process).gates[1:]:
            await self.set_policy(
                process, gate=gate.name, hitl_enabled=False, confidence_threshold=0.0
            )

    async def policy_changed(self, handle: WorkflowHandle, policy: Policy | None) -> None:
        """Signal the run that its tenant's policy is at its current version, carrying
        ``policy`` as the broadcast would (or nothing), from "root", signed as Brain signs."""
        own = await self.policies.effective(Process("lead_scoring"), self.tenant)
        change = PolicyChange(
            process=Process("lead_scoring"),
            tenant=self.tenant,
            version=own.version,
            changed_by="root",
            policy=policy,
        )
        await handle.signal(POLICY_CHANGED_SIGNAL, signed_change(handle.id, change))

    async def audit(self, workflow_id: str) -> list[DecisionRow]:
        async with self.db.sessions() as s:
            query = select(DecisionRow).where(col(DecisionRow.workflow_id) == workflow_id)
            rows = await s.execute(query)
            return list(rows.scalars())

    async def run_row(self, workflow_id: str) -> RunRow | None:
        async with self.db.sessions() as s:
            return await s.get(RunRow, workflow_id)

    async def rows(self, table: type[Row], workflow_id: str) -> list[Row]:
        async with self.db.sessions() as s:
            result = await s.execute(select(table).where(col(table.workflow_id) == workflow_id))
            return list(result.scalars())


@asynccontextmanager
async def running_brain(
    client: Client,
    database: Database,
    *,
    queue: str = "brain-test",
    webhooks: bool = False,
    interceptors: Sequence[Interceptor] = (),
    **activities: Any,
) -> AsyncIterator[Brain]:
    """A worker on its own task queue with a scripted AI; ``activities`` go to
    ``build_activities`` (an apply guard, metrics). ``webhooks``: its runs write their
    events to the webhook outbox, and the worker delivers them (on a fast retry schedule)."""
    from activities.webhooks.delivery_workflow import deliverer_id, ensure_deliverer
    from activities.webhooks.parts import webhook_parts
    from core.settings import Settings
    from tests.webhooks.conftest import FAST

    policies = PolicyStore(database.sessions)
    model = ScriptedModel()
    task_queue = f"{queue}-{uuid.uuid4().hex[:8]}"
    extra: list[Any] = []
    hooks = None
    if webhooks:
        settings = Settings(_env_file=None, task_queue=task_queue, webhook_allow_private=True)
        hooks = webhook_parts(database.sessions, settings, schedule=FAST)
        extra = hooks.activities
        activities["events"] = hooks.outbox
    try:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=[
                *build_activities(
                    database.sessions,
                    policies,
                    model,
                    client=client,
                    door_key=derive_key(SECRET),
                    **activities,
                ),
                *extra,
            ],
            workflow_runner=WORKFLOW_RUNNER,
            interceptors=interceptors,
        ):
            if hooks is not None:
                await ensure_deliverer(client, task_queue)
            yield Brain(client, task_queue, database, policies, model)
    finally:
        if hooks is not None:
            await client.get_workflow_handle(deliverer_id(task_queue)).terminate("test over")
            await hooks.aclose()


def signed(workflow_id: str, request: DecideRequest) -> DecideRequest:
    """``request`` as the REST door sends it (channel ``api``, signed)."""
    signature = door.sign(derive_key(SECRET), workflow_id, request.model_dump(mode="json"))
    return request.model_copy(update={"door_signature": signature})


async def decide(
    handle: WorkflowHandle, action: Action, by: str = "alice", **kw: Any
) -> Decision | DecideOutcome:
    """Decide through the ``decide`` Update as the REST door does (signed, channel ``api``,
    unless ``channel`` is given); the decision, or the votes so far under a quorum."""
    request = DecideRequest(action=action, by=by, **kw)
    if request.channel is Channel.API:
        request = signed(handle.id, request)
    outcome = await send_decide(handle, request)
    return outcome.decision if outcome.decision is not None else outcome


async def send_decide(handle: WorkflowHandle, request: DecideRequest) -> DecideOutcome:
    """The ``decide`` Update with ``request`` as it is (signed or not)."""
    from hitl.gate import GatedWorkflow

    # The handler is async: the SDK types the Update's result as the coroutine, not what it
    # returns (api/decisions.py casts alike).
    return cast(DecideOutcome, await handle.execute_update(GatedWorkflow.decide, request))


async def decided(handle: WorkflowHandle, action: Action, by: str = "alice", **kw: Any) -> Decision:
    """``decide`` when the request decides the approval (no quorum still to reach)."""
    outcome = await decide(handle, action, by, **kw)
    assert isinstance(outcome, Decision), outcome
    return outcome


def refusal(failure: WorkflowUpdateFailedError) -> ApplicationError:
    """The gate's refusal behind a failed ``decide`` Update (its ``type`` names it)."""
    assert isinstance(failure.cause, ApplicationError), failure.cause
    return failure.cause


async def parked(handle: WorkflowHandle) -> RunStatus:
    """Wait until the run holds a pending approval; return its status."""
    from hitl.gate import GatedWorkflow  # the gate's query, the same for every process

    async def check() -> RunStatus | None:
        status = await handle.query(GatedWorkflow.status)
        return status if status.state is RunState.AWAITING_APPROVAL else None

    return await eventually(check)
