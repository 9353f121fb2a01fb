"""``brain slack workspace set|show|rm`` and ``brain slack map|unmap|users``: deciding from
Slack (SPEC §8 "Slack") for ops, straight on the app database like ``brain webhooks``.

The workspace says which Slack team's clicks are the tenant's and the signing secret that
proves them (taken from ``--signing-secret``, ``BRAIN_SLACK_SIGNING_SECRET`` or a hidden
prompt, and never printed); a mapping says who a Slack user is in Brain: a subject and its
groups, deciding with the approver role. The tenant is ``--tenant`` or, under ``brain up``,
its local tenant.
"""

from typing import Annotated

import typer
from pydantic import ValidationError

from cli.common import database, default_actor, echo_json, fail, invalid, run, tenant_or_local
from cli.home import settings as cli_settings
from core.settings import Settings
from models.slack import SlackUserMapping, SlackWorkspace, is_slack_id

slack_app = typer.Typer(
    help="Deciding from Slack: the workspace and who each Slack user is.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
workspace_app = typer.Typer(
    help="The tenant's Slack workspace: team id and signing secret.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
slack_app.add_typer(workspace_app, name="workspace")

Tenant = Annotated[
    str | None,
    typer.Option(help="The tenant this is for (under `brain up`: its own)."),
]
By = Annotated[str | None, typer.Option(help="Who sets it; default: your user.")]
SlackUser = Annotated[str, typer.Option("--slack-user", help="The Slack user's id (U… or W…).")]


def _slack_user(value: str) -> str:
    if not is_slack_id(value):
        raise typer.BadParameter("a Slack user id: U… or W…", param_hint="'--slack-user'")
    return value


@workspace_app.command("set")
def set_workspace(
    team_id: Annotated[str, typer.Option("--team-id", help="The Slack workspace's id (T…).")],
    signing_secret: Annotated[
        str,
        typer.Option(
            envvar="BRAIN_SLACK_SIGNING_SECRET",
            prompt="Slack signing secret",
            hide_input=True,
            help="The Slack app's signing secret (Basic Information, App Credentials).",
        ),
    ],
    by: By = None,
    tenant: Tenant = None,
) -> None:
    """Set (or replace) the tenant's Slack workspace. Prints it without the secret."""
    try:
        workspace = SlackWorkspace(team_id=team_id, signing_secret=signing_secret)
    except ValidationError as err:
        invalid("InvalidSlackWorkspace", err.errors(include_url=False, include_input=False))
    run(_set_workspace(cli_settings(), tenant_or_local(tenant), workspace, by or default_actor()))


async def _set_workspace(
    settings: Settings, tenant: str, workspace: SlackWorkspace, by: str
) -> None:
    from store.slack import SlackStore, TeamTaken

    async with database(settings, tenant=tenant) as sessions:
        try:
            row = await SlackStore(sessions).set_workspace(tenant, workspace, by)
        except TeamTaken as err:
            fail("SlackTeamTaken", str(err))
    echo_json({"tenant": tenant, **row.model_dump(mode="json", exclude={"signing_secret"})})


@workspace_app.command("show")
def show_workspace(tenant: Tenant = None) -> None:
    """The tenant's Slack workspace (never the secret)."""
    run(_show_workspace(cli_settings(), tenant_or_local(tenant)))


async def _show_workspace(settings: Settings, tenant: str) -> None:
    from store.slack import SlackStore

    async with database(settings, tenant=tenant) as sessions:
        row = await SlackStore(sessions).workspace(tenant)
    if row is None:
        fail("NotFound", f"no Slack workspace is set for tenant {tenant!r}")
    echo_json(row.model_dump(mode="json", exclude={"signing_secret"}))


@workspace_app.command("rm")
def remove_workspace(tenant: Tenant = None) -> None:
    """Stop taking decisions from Slack for the tenant."""
    run(_remove_workspace(cli_settings(), tenant_or_local(tenant)))


async def _remove_workspace(settings: Settings, tenant: str) -> None:
    from store.slack import SlackStore

    async with database(settings, tenant=tenant) as sessions:
        if not await SlackStore(sessions).remove_workspace(tenant):
            fail("NotFound", f"no Slack workspace is set for tenant {tenant!r}")
    echo_json({"tenant": tenant, "removed": True})


@slack_app.command("map")
def map_user(
    slack_user: SlackUser,
    subject: Annotated[str, typer.Option(help="Who the Slack user is in Brain.")],
    groups: Annotated[
        str, typer.Option(help="Their groups, comma-separated (a gate's approver_groups).")
    ] = "",
    by: By = None,
    tenant: Tenant = None,
) -> None:
    """Map a Slack user to a Brain subject and groups (replacing an earlier mapping)."""
    names = [g for g in (part.strip() for part in groups.split(",")) if g]
    try:
        mapping = SlackUserMapping(subject=subject, groups=names)
    except ValidationError as err:
        invalid("InvalidSlackUser", err.errors(include_url=False, include_input=False))
    user = _slack_user(slack_user)
    run(_map(cli_settings(), tenant_or_local(tenant), user, mapping, by or default_actor()))


async def _map(
    settings: Settings, tenant: str, slack_user: str, mapping: SlackUserMapping, by: str
) -> None:
    from store.slack import SlackStore

    async with database(settings, tenant=tenant) as sessions:
        row = await SlackStore(sessions).map_user(tenant, slack_user, mapping, by)
    echo_json(row.model_dump(mode="json"))


@slack_app.command("unmap")
def unmap_user(slack_user: SlackUser, tenant: Tenant = None) -> None:
    """Forget a Slack user: their clicks are refused from now on."""
    run(_unmap(cli_settings(), tenant_or_local(tenant), _slack_user(slack_user)))


async def _unmap(settings: Settings, tenant: str, slack_user: str) -> None:
    from store.slack import SlackStore

    async with database(settings, tenant=tenant) as sessions:
        if not await SlackStore(sessions).unmap_user(tenant, slack_user):
            fail("NotFound", f"Slack user {slack_user} is not mapped for tenant {tenant!r}")
    echo_json({"slack_user": slack_user, "removed": True})


@slack_app.command("users")
def list_users(tenant: Tenant = None) -> None:
    """The tenant's mapped Slack users."""
    run(_users(cli_settings(), tenant_or_local(tenant)))


async def _users(settings: Settings, tenant: str) -> None:
    from store.slack import SlackStore

    async with database(settings, tenant=tenant) as sessions:
        rows = await SlackStore(sessions).users(tenant)
    echo_json([row.model_dump(mode="json") for row in rows])
