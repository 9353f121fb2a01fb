"""A click decided, after Slack has had its 200: as the Slack user's mapped subject and
groups, with the approver role, through the REST door's own path (``api/decisions.py``),
which signs the request with the door key. So the run checks what it checks for REST:
four-eyes, quorum, eligibility (the gate's groups and subjects), the gate's ``doors``
(``slack``) and exactly once (the Update id). The audit entry keeps the Slack user and team
(``origin``) with channel ``slack``. Then the outcome goes to the interaction's
``response_url``: the message replaced, or the refusal to the clicker only.
"""

import logging
from typing import Any

from pydantic import ValidationError

from api import decisions
from api.auth import Principal
from api.errors import BrainError
from api.schemas import ApproveBody, RejectBody, VoteRecorded
from api.slack import replies
from api.slack.interaction import Click
from api.slack.responder import respond
from api.state import AppState
from models.processes import Action, Channel
from models.roles import Role
from models.slack_tables import SlackUserRow
from store.tenancy import tenant_scope

log = logging.getLogger(__name__)

UNMAPPED = (
    "Not decided: your Slack user is not mapped to anyone in Brain. Ask a Brain admin to map "
    "it (`brain slack map --slack-user {user} --subject <you>`)."
)


async def decide_click(
    state: AppState, tenant: str, mapped: SlackUserRow, click: Click, *, allow_private: bool
) -> None:
    principal = Principal(
        sub=mapped.subject, tenant=tenant, role=Role.approver, groups=tuple(mapped.groups)
    )
    with tenant_scope(tenant):
        try:
            reply = await _decide(state, principal, click)
        except BrainError as err:
            reply = replies.refused(f"Not decided ({err.error}): {err.detail}")
        except ValidationError as err:
            reason = "; ".join(e["msg"] for e in err.errors(include_url=False))
            reply = replies.refused(f"Not decided: the comment was refused ({reason})")
        except Exception:
            log.exception(
                "slack click on %s by %s failed", click.button.workflow_id, click.slack_user
            )
            reply = replies.refused("Not decided: Brain could not take the decision; try again.")
    await respond(click.response_url, reply, allow_private=allow_private)


async def refuse_unmapped(click: Click, *, allow_private: bool) -> None:
    reply = replies.refused(UNMAPPED.format(user=click.slack_user))
    await respond(click.response_url, reply, allow_private=allow_private)


async def _decide(state: AppState, principal: Principal, click: Click) -> dict[str, Any]:
    await state.limiter.hit(principal.tenant, principal.sub)
    body: ApproveBody | RejectBody
    if click.action is Action.APPROVE:
        body = ApproveBody(approval_id=click.button.approval_id, comment=click.comment)
    else:
        body = RejectBody(approval_id=click.button.approval_id, comment=click.comment)
    outcome = await decisions.decide(
        state,
        principal,
        click.button.workflow_id,
        click.action,
        body,
        channel=Channel.SLACK,
        origin={"slack_user": click.slack_user, "slack_team": click.team_id},
    )
    if isinstance(outcome, VoteRecorded):
        return replies.votes(click.message, outcome)
    return replies.decided(click.message, outcome, click.slack_user)
