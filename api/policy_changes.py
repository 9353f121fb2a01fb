"""A policy write over REST, then its broadcast to parked runs (SPEC §2: "within seconds")."""

import logging

from pydantic import ValidationError

from api import errors
from api.auth import Principal
from api.state import AppState
from models.hitl import GLOBAL_TENANT, Policy, PolicyFields
from models.processes import Process
from processes import registry
from services.policies import BroadcastNotStarted
from services.policies import change_policy as _change_policy

log = logging.getLogger(__name__)


def parse_process(name: str) -> Process:
    try:
        return registry.parse(name)
    except ValueError:
        raise errors.UnknownProcess(f"unknown process {name!r}") from None


def check_gate(process: Process, gate: str | None) -> str | None:
    """``gate`` if the process has it (422 naming the query parameter otherwise)."""
    if gate is None:
        return None
    names = [g.name for g in registry.definition(process).gates]
    if gate not in names:
        raise errors.ValidationFailed(
            [
                {
                    "loc": ["query", "gate"],
                    "msg": f"{process.value} has the gates {', '.join(names)}",
                    "type": "enum",
                }
            ]
        )
    return gate


async def change_policy(
    state: AppState,
    principal: Principal,
    process: Process,
    tenant: str | None,
    patch: PolicyFields,
    gate: str | None = None,
) -> Policy:
    try:
        return await _change_policy(
            state.client,
            state.policies,
            task_queue=state.task_queue,
            process=process,
            tenant=tenant or GLOBAL_TENANT,
            changed_by=principal.sub,
            patch=patch,
            gate=check_gate(process, gate),
        )
    except ValidationError as err:
        # The store checks the fields again; should it ever refuse what the body took,
        # that is still the caller's 422, not a 500.
        raise errors.invalid(err, "body") from None
    except BroadcastNotStarted as err:
        # The policy is saved and new runs obey it; only parked runs miss the news. Saying
        # so (503) lets the caller retry: a repeated change is harmless.
        log.error("%s", err)
        raise errors.Unavailable(str(err), retry_after=5) from None
