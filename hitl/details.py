"""Current details for the Temporal Web UI: what the AI proposes, why, and what to send to
decide. Written for the narrow *User Metadata* panel: no code blocks (they do not wrap and
cut payloads off sideways), proposals as short lists, each payload labelled and on its own
line. Pure string building, safe inside the workflow sandbox."""

import json
from typing import Any

from hitl.state import GateState
from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy

_MAX_VALUE = 400
_MAX_ITEMS = 25


def render_details(workflow_id: str, process: str, s: GateState) -> str:
    title = process.replace("_", " ").capitalize()
    lines = [f"## {title}: {s.state.value.replace('_', ' ')}"]
    if s.run is not None and s.run.subject:
        lines.append(f"**About:** {s.run.subject}")
    if s.decision is not None:
        lines += _decided(s.decision)
    elif s.approval is not None:
        lines += _waiting(workflow_id, s)
    elif s.ai is not None:
        lines += [f"**Confidence:** {s.ai.confidence:.2f}", *_proposal(s.ai.proposal)]
    lines.append(f"**Policy:** {_policy_line(s.policy)}")
    if s.ignored:
        lines += ["### Last ignored signal", f"- {s.ignored[-1]}"]
    return "\n".join(lines)


def _waiting(workflow_id: str, s: GateState) -> list[str]:
    approval = s.approval
    assert approval is not None and s.ai is not None
    lines = [
        f"**Waiting for a decision** until {approval.expires_at:%Y-%m-%d %H:%M} UTC.",
        f"**The AI proposes** (confidence {approval.confidence:.2f}, "
        f"threshold {approval.threshold:.2f}):",
    ]
    if approval.needs_review:
        reason = approval.error or "the AI step produced no proposal"
        lines.append(f"**Needs review:** {reason}. Approve with edits forming a whole proposal.")
    lines += _proposal(approval.proposal)
    lines.append(f"**Why:** {_clip(approval.rationale)}")
    lines.append(f"**Model:** {_model_line(s.ai)}")
    lines += _quorum(approval, s.requested_by)
    lines += _how_to_decide(workflow_id, approval)
    return lines


def _quorum(approval: PendingApproval, requested_by: str) -> list[str]:
    lines = []
    if approval.min_approvals > 1:
        voters = [v.actor for v in approval.votes]
        so_far = ", ".join(voters) if voters else "none yet"
        lines.append(
            f"**Approvals:** {len(voters)} of {approval.min_approvals} ({so_far}); "
            "any one reject rejects."
        )
    if not approval.requester_may_approve:
        who = f"`{requested_by}`" if requested_by else "whoever requested this run"
        lines.append(f"**Four-eyes is on:** {who} may not approve it.")
    if approval.min_approvals > 1 or not approval.requester_may_approve:
        barred = {v.actor for v in approval.votes}
        if not approval.requester_may_approve and requested_by:
            barred.add(requested_by)
        if barred:
            names = ", ".join(f"`{n}`" for n in sorted(barred))
            lines.append(f"**Who may still approve:** anyone but {names}.")
    return lines


def _how_to_decide(workflow_id: str, approval: PendingApproval) -> list[str]:
    approve: dict[str, Any] = {"by": "your name"}
    if approval.proposal is None:
        approve["edits"] = {"<field>": "<value>"}
    return [
        "### To approve",
        "*Send a Signal* → **approve**, with the input:",
        f"`{json.dumps(approve)}`",
        "To change the proposal first, add only the fields to change:",
        f"`{json.dumps({'by': 'your name', 'edits': _sample_edit(approval)})}`",
        "### To reject",
        "*Send a Signal* → **reject**, with the input:",
        '`{"by": "your name", "comment": "why"}`',
        "### Approval id",
        "Optional in the input (`approval_id`); it makes sure you decide this approval:",
        f"`{approval.approval_id}`",
        "### From a terminal",
        f"`temporal workflow signal --workflow-id {workflow_id} --name approve "
        f"--input '{json.dumps({'by': 'ops'})}'`",
    ]


def _sample_edit(approval: PendingApproval) -> dict[str, Any]:
    proposal = approval.proposal or {}
    field = next((k for k in proposal if k != "rationale"), "<field>")
    return {field: "<new value>"}


def _decided(decision: Decision) -> list[str]:
    by = f"`{decision.actor}`"
    lines = [f"**Decided:** {decision.action} by {by} via {decision.channel}"]
    if decision.comment:
        lines.append(f"**Comment:** {_clip(decision.comment)}")
    if len(decision.approvers) > 1:
        lines.append("**Approvers:** " + ", ".join(f"`{a}`" for a in decision.approvers))
    if decision.edits:
        changes = "; ".join(f"{k}: {_short(v)}" for k, v in decision.edits.items())
        lines.append(f"**Edited:** {changes}")
        lines.append("**Final proposal:**")
    else:
        lines.append("**Proposal:**")
    lines += _proposal(decision.final_proposal)
    return lines


def _proposal(proposal: dict[str, Any] | None) -> list[str]:
    if proposal is None:
        return ["- (no proposal)"]
    lines = []
    for key, value in list(proposal.items())[:_MAX_ITEMS]:
        if key == "rationale":
            continue
        if isinstance(value, dict):
            lines.append(f"- **{key}**:")
            lines += [f"  - {k}: {_short(v)}" for k, v in list(value.items())[:_MAX_ITEMS]]
        else:
            lines.append(f"- **{key}**: {_short(value)}")
    return lines


def _model_line(ai: AIResult) -> str:
    call = ai.call
    if call is None:
        return ai.model
    parts = [call.model]
    if call.prompt_version:
        parts.append(f"prompt {call.prompt_version}")
    if call.tokens_in is not None or call.tokens_out is not None:
        parts.append(f"tokens {call.tokens_in or 0} in / {call.tokens_out or 0} out")
    if call.latency_ms is not None:
        parts.append(f"{call.latency_ms:.0f} ms")
    parts.append(f"attempt {call.attempts}")
    return " · ".join(parts)


def _policy_line(policy: Policy | None) -> str:
    if policy is None:
        return "not read yet"
    mode = "HITL on (people review every proposal)" if policy.hitl_enabled else "autonomous"
    parts = [
        mode,
        f"threshold {policy.confidence_threshold:.2f}",
        f"timeout {policy.approval_timeout_seconds} s, then {policy.on_timeout}",
    ]
    if policy.min_approvals > 1:
        parts.append(f"{policy.min_approvals} approvals needed")
    if not policy.requester_may_approve:
        parts.append("four-eyes")
    parts.append(f"version {policy.version}")
    return " · ".join(parts)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return _clip(text)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"
