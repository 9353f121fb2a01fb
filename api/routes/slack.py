"""Deciding from Slack (SPEC §8 "Slack"), over REST: an admin sets the tenant's Slack
workspace (team id and signing secret) and who each Slack user is in Brain; Slack posts the
clicks on the interactive messages' buttons to ``/slack/interactions`` (``api/slack``)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from api.auth import Principal
from api.deps import Admin, SettingsDep, StateDep
from api.errors import Conflict, Forbidden, NotFound, responses
from api.schemas import Page
from api.slack.deciding import decide_click, refuse_unmapped
from api.slack.interaction import click_of, payload_of, team_of
from api.slack.schemas import SlackUserView, SlackWorkspaceView
from api.slack.signature import SlackUnverified, verify
from models.hitl import GLOBAL_TENANT
from models.slack import SLACK_ID, SlackUserMapping, SlackWorkspace
from store.slack import SlackStore, TeamTaken
from store.tenancy import ALL_TENANTS, bind_tenant, tenant_scope

router = APIRouter(prefix="/slack", tags=["slack"])
# Slack posts a form, not JSON: this router goes without the API's JSON-only rule.
interactions_router = APIRouter(prefix="/slack", tags=["slack"])

SlackUser = Annotated[str, Path(pattern=SLACK_ID, description="The Slack user's id (U… or W…)")]
_READ_ERRORS = responses(401, 403, 404, 422, 429)


class SlackWorkspaceNotFound(NotFound):
    pass


class SlackUserNotFound(NotFound):
    pass


class SlackTeamTaken(Conflict):
    pass


def _one_tenant(principal: Principal) -> str:
    if principal.tenant == GLOBAL_TENANT:
        raise Forbidden("a Slack workspace belongs to one tenant: use a token of that tenant")
    return principal.tenant


@router.put("/workspace", name="set_slack_workspace", responses=responses(401, 403, 409, 422, 429))
async def set_workspace(
    body: SlackWorkspace, principal: Admin, state: StateDep
) -> SlackWorkspaceView:
    """Set (or replace: a rotated secret) the tenant's Slack workspace: clicks from this team
    are this tenant's, checked with this signing secret, which no answer shows again."""
    try:
        row = await SlackStore(state.sessions).set_workspace(
            _one_tenant(principal), body, principal.sub
        )
    except TeamTaken as err:
        raise SlackTeamTaken(str(err)) from None
    return SlackWorkspaceView.of(row)


@router.get("/workspace", name="get_slack_workspace", responses=_READ_ERRORS)
async def get_workspace(principal: Admin, state: StateDep) -> SlackWorkspaceView:
    """The tenant's Slack workspace (its team id; never the secret)."""
    row = await SlackStore(state.sessions).workspace(principal.tenant)
    if row is None:
        raise SlackWorkspaceNotFound("no Slack workspace is set for this tenant")
    return SlackWorkspaceView.of(row)


@router.delete(
    "/workspace",
    name="delete_slack_workspace",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_READ_ERRORS,
)
async def delete_workspace(principal: Admin, state: StateDep) -> Response:
    """Stop taking decisions from Slack: clicks from the workspace are refused (401)."""
    if not await SlackStore(state.sessions).remove_workspace(principal.tenant):
        raise SlackWorkspaceNotFound("no Slack workspace is set for this tenant")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", name="list_slack_users", responses=responses(401, 403, 422, 429))
async def list_users(principal: Admin, state: StateDep) -> Page[SlackUserView]:
    """Every mapped Slack user of the tenant, by Slack id."""
    rows = await SlackStore(state.sessions).users(principal.tenant)
    return Page[SlackUserView](items=[SlackUserView.of(r) for r in rows])


@router.put("/users/{slack_user}", name="map_slack_user", responses=responses(401, 403, 422, 429))
async def map_user(
    slack_user: SlackUser, body: SlackUserMapping, principal: Admin, state: StateDep
) -> SlackUserView:
    """Who the Slack user decides as: a subject and its groups (role approver). Replaces
    an earlier mapping of the same Slack user."""
    row = await SlackStore(state.sessions).map_user(
        _one_tenant(principal), slack_user, body, principal.sub
    )
    return SlackUserView.of(row)


@router.get("/users/{slack_user}", name="get_slack_user", responses=_READ_ERRORS)
async def get_user(slack_user: SlackUser, principal: Admin, state: StateDep) -> SlackUserView:
    row = await SlackStore(state.sessions).user(principal.tenant, slack_user)
    if row is None:
        raise SlackUserNotFound(f"Slack user {slack_user} is not mapped")
    return SlackUserView.of(row)


@router.delete(
    "/users/{slack_user}",
    name="unmap_slack_user",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_READ_ERRORS,
)
async def unmap_user(slack_user: SlackUser, principal: Admin, state: StateDep) -> Response:
    """The Slack user's clicks are refused from now on."""
    if not await SlackStore(state.sessions).unmap_user(principal.tenant, slack_user):
        raise SlackUserNotFound(f"Slack user {slack_user} is not mapped")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


_INTERACTION_RESPONSES = {
    200: {
        "description": "Taken (or not Brain's to take); the outcome is posted to the "
        "interaction's response_url",
        "content": None,
    },
    **responses(401, 422, 429),
}


@interactions_router.post(
    "/interactions",
    name="slack_interactions",
    response_class=Response,
    responses=_INTERACTION_RESPONSES,
)
async def interactions(request: Request, state: StateDep, settings: SettingsDep) -> Response:
    """Slack's Interactivity Request URL: Slack posts `application/x-www-form-urlencoded`
    with one field, `payload` (the interaction as JSON), read from the raw body since the
    signature covers its exact bytes. Slack's signature is checked with the signing secret
    of the workspace the payload names (5-minute window; a request is taken once); the click
    is answered at once and decided in the background as the Slack user's mapped subject, and
    the outcome replaces the message (or, refused, is shown to the clicker only)."""
    address = request.client.host if request.client else "unknown"
    state.auth_failures.check(address)
    body = await request.body()
    payload = payload_of(body)
    store = SlackStore(state.sessions)
    team = team_of(payload)
    try:
        with tenant_scope(ALL_TENANTS):
            # Across tenants by design: the team says whose secret checks the signature.
            workspace = await store.workspace_for_team(team) if team else None
        if workspace is None:
            raise SlackUnverified("unknown Slack workspace: no tenant has set this team id")
        await verify(
            store,
            workspace.signing_secret,
            body,
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
        )
    except SlackUnverified:
        await state.auth_failures.failed(address, settings.auth_failures_per_minute)
        raise
    tenant = workspace.tenant
    bind_tenant(tenant)
    click = click_of(payload, workspace.team_id)
    if click is not None:
        allow = settings.webhook_allow_private
        mapped = await store.user(tenant, click.slack_user)
        if mapped is None:
            work = refuse_unmapped(click, allow_private=allow)
        else:
            work = decide_click(state, tenant, mapped, click, allow_private=allow)
        state.background.start(work, name=f"slack-click-{click.button.workflow_id}")
    return Response(status_code=status.HTTP_200_OK)
