"""``/slack/workspace`` and ``/slack/users`` (admins, their own tenant), and the interactive
flag of ``POST /webhooks``."""

import uuid

from tests.api.support import Api
from tests.slack.conftest import admin


def _tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def _team() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


async def test_the_workspace_is_set_by_an_admin_and_its_secret_never_shown(
    slack_api: Api,
) -> None:
    api, tenant, team = slack_api, _tenant(), _team()
    body = {"team_id": team, "signing_secret": "8f14e45fceea167a5a36dedd4bea2543"}
    r = await api.http.put("/slack/workspace", json=body, headers=api.auth("approver", tenant))
    assert r.status_code == 403
    r = await api.http.get("/slack/workspace", headers=admin(api, tenant))
    assert r.status_code == 404 and r.json()["error"] == "SlackWorkspaceNotFound"

    r = await api.http.put("/slack/workspace", json=body, headers=admin(api, tenant))
    assert r.status_code == 200, r.text
    assert r.json()["team_id"] == team and r.json()["set_by"] == f"admin@{tenant}"
    r = await api.http.get("/slack/workspace", headers=admin(api, tenant))
    assert r.status_code == 200 and "signing_secret" not in r.json()
    assert body["signing_secret"] not in r.text

    # One tenant per workspace: another tenant cannot claim the team.
    r = await api.http.put("/slack/workspace", json=body, headers=admin(api, _tenant()))
    assert r.status_code == 409 and r.json()["error"] == "SlackTeamTaken"
    # A rotated secret replaces the old one.
    rotated = {**body, "signing_secret": "c9f0f895fb98ab9159f51fd0297e236d"}
    assert (
        await api.http.put("/slack/workspace", json=rotated, headers=admin(api, tenant))
    ).status_code == 200

    r = await api.http.delete("/slack/workspace", headers=admin(api, tenant))
    assert r.status_code == 204
    r = await api.http.delete("/slack/workspace", headers=admin(api, tenant))
    assert r.status_code == 404


async def test_invalid_workspace_fields_are_named(slack_api: Api) -> None:
    api, tenant = slack_api, _tenant()
    r = await api.http.put(
        "/slack/workspace",
        json={"team_id": "acme", "signing_secret": "short"},
        headers=admin(api, tenant),
    )
    assert r.status_code == 422
    assert {tuple(f["loc"]) for f in r.json()["fields"]} == {
        ("body", "team_id"),
        ("body", "signing_secret"),
    }


async def test_slack_users_are_mapped_listed_and_unmapped_per_tenant(slack_api: Api) -> None:
    api, tenant, other = slack_api, _tenant(), _tenant()
    r = await api.http.put(
        "/slack/users/U0ANN",
        json={"subject": "ann", "groups": ["finance", " legal", "finance"]},
        headers=admin(api, tenant),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["subject"], r.json()["groups"]) == ("ann", ["finance", "legal"])
    r = await api.http.put(
        "/slack/users/U0ANN", json={"subject": "ann.b"}, headers=admin(api, tenant)
    )
    assert (r.json()["subject"], r.json()["groups"]) == ("ann.b", [])

    listed = (await api.http.get("/slack/users", headers=admin(api, tenant))).json()["items"]
    assert [(u["slack_user"], u["subject"]) for u in listed] == [("U0ANN", "ann.b")]
    assert (await api.http.get("/slack/users", headers=admin(api, other))).json()["items"] == []
    r = await api.http.get("/slack/users/U0ANN", headers=admin(api, other))
    assert r.status_code == 404

    r = await api.http.put(
        "/slack/users/not-a-slack-id", json={"subject": "x"}, headers=admin(api, tenant)
    )
    assert r.status_code == 422
    r = await api.http.put(
        "/slack/users/U0BOB", json={"subject": " bob"}, headers=admin(api, tenant)
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == ["body", "subject"]
    r = await api.http.put(
        "/slack/users/U0BOB", json={"subject": "bob"}, headers=api.auth("approver", tenant)
    )
    assert r.status_code == 403

    assert (
        await api.http.delete("/slack/users/U0ANN", headers=admin(api, tenant))
    ).status_code == 204
    assert (
        await api.http.delete("/slack/users/U0ANN", headers=admin(api, tenant))
    ).status_code == 404


async def test_only_a_slack_subscription_can_be_interactive(slack_api: Api) -> None:
    api, tenant = slack_api, _tenant()
    body = {"url": "https://93.184.215.14/hooks", "events": ["approval.requested"]}
    r = await api.http.post(
        "/webhooks", json={**body, "interactive": True}, headers=admin(api, tenant)
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == ["body", "interactive"]
    r = await api.http.post(
        "/webhooks",
        json={**body, "format": "slack", "interactive": True},
        headers=admin(api, tenant),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["format"], r.json()["interactive"]) == ("slack", True)
    listed = (await api.http.get("/webhooks", headers=admin(api, tenant))).json()["items"]
    assert [w["interactive"] for w in listed] == [True]


async def test_a_request_that_is_not_slacks_form_is_refused(slack_api: Api) -> None:
    r = await slack_api.http.post(
        "/slack/interactions",
        content=b"hello=world",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == ["body", "payload"]
    r = await slack_api.http.post(
        "/slack/interactions",
        content=b'payload={"type":"block_actions","team":{"id":"T0NOBODY"}}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 401 and "unknown Slack workspace" in r.json()["detail"]
