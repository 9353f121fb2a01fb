"""Runs: start one per process, list, read, cancel."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, ValidationError

from api import decisions, errors, queries
from api.deps import Operator, SettingsDep, StateDep, Viewer
from api.errors import responses
from api.paging import PageSize, PageToken
from api.params import WorkflowId
from api.responses import model_response
from api.schemas import CancelResponse, Page, ProcessName, StartResponse, WorkflowView
from api.scopes import TenantFilter, list_tenant
from api.views import run_view
from models.processes import Process, RunState
from processes import registry
from processes.kit.definition import ProcessDefinition
from services.starting import GlobalTenant, IdempotencyConflict, start_process

router = APIRouter(tags=["workflows"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9._:-]{1,200}$",
        description="Retry-safe start: the same key with the same body gives the same run",
    ),
]


def _start_route(
    definition: ProcessDefinition,
) -> Callable[..., Coroutine[Any, Any, StartResponse]]:
    process = Process(definition.name)
    body_model: type[BaseModel] = definition.input_model

    async def start(
        body: body_model,  # type: ignore[valid-type]
        principal: Operator,
        state: StateDep,
        settings: SettingsDep,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> StartResponse:
        try:
            started = await start_process(
                state.client,
                state.sessions,
                process=process,
                tenant=principal.tenant,
                requested_by=principal.sub,
                body=body,
                task_queue=state.task_queue,
                idempotency_key=idempotency_key,
                subjects_case_sensitive=settings.subjects_case_sensitive,
            )
        except ValidationError as e:
            raise errors.invalid(e, "body") from None
        except GlobalTenant as e:
            raise errors.Forbidden(f"{e}: start it with a token of that tenant") from None
        except IdempotencyConflict as e:
            raise errors.IdempotencyKeyReused(
                [{"loc": ["header", "Idempotency-Key"], "msg": str(e), "type": "conflict"}]
            ) from None
        if not started.created:
            response.status_code = status.HTTP_200_OK
        return StartResponse(
            workflow_id=started.workflow_id,
            run_id=started.run_id,
            process=started.process,
            state=started.state,
        )

    return start


for _definition in registry.definitions():
    router.add_api_route(
        f"/workflows/{_definition.name}",
        _start_route(_definition),
        methods=["POST"],
        name=f"start_{_definition.name}",
        summary=f"Start a {_definition.name} run",
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": StartResponse, "description": "The run this Idempotency-Key started"},
            **responses(401, 403, 422, 429, 503),
        },
    )
    # Seed aliases (SPEC §1) start the same process, undocumented so a client has one name.
    for _alias in _definition.aliases:
        router.add_api_route(
            f"/workflows/{_alias}",
            _start_route(_definition),
            methods=["POST"],
            name=f"start_{_alias}",
            status_code=status.HTTP_201_CREATED,
            include_in_schema=False,
        )


@router.post("/workflows/{process}", include_in_schema=False, name="start_unknown")
async def start_unknown(process: str, principal: Operator) -> None:
    # Without this, a POST to an unknown process would match GET /workflows/{id}: 405.
    raise errors.UnknownProcess(f"unknown process {process!r}")


@router.get(
    "/workflows",
    name="list_workflows",
    response_model=Page[WorkflowView],
    responses=responses(401, 403, 422, 429),
)
async def list_workflows(
    principal: Viewer,
    state: StateDep,
    process: Annotated[ProcessName | None, Query()] = None,
    run_state: Annotated[RunState | None, Query(alias="state")] = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
    tenant: TenantFilter = None,
) -> Response:
    """The caller's tenant's runs, newest first."""
    rows, token = await queries.list_runs(
        state.sessions,
        list_tenant(principal, tenant),
        process=process,
        state=run_state,
        page_size=page_size,
        page_token=page_token,
    )
    return model_response(
        Page[WorkflowView](items=[run_view(r) for r in rows], next_page_token=token)
    )


@router.get(
    "/workflows/{workflow_id}",
    name="get_workflow",
    response_model=WorkflowView,
    responses=responses(401, 403, 404, 422, 429),
)
async def get_workflow(workflow_id: WorkflowId, principal: Viewer, state: StateDep) -> Response:
    """The run as its row holds it, kept true by the run's own steps; a run terminated or
    timed out from outside Brain shows so after the reconciler's next pass (every 20 s)."""
    return model_response(run_view(await decisions.visible_run(state, principal, workflow_id)))


@router.post(
    "/workflows/{workflow_id}/cancel",
    name="cancel_workflow",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(401, 403, 404, 409, 422, 429, 503),
)
async def cancel_workflow(
    workflow_id: WorkflowId, principal: Operator, state: StateDep
) -> CancelResponse:
    """Cancel a run that has not applied yet; it records state `canceled` once it stops."""
    return await decisions.cancel(state, principal, workflow_id)
