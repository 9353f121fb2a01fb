"""Current details for the Temporal Web UI: what the AI proposes, why, and exactly what to
send to decide. Pure string building, safe inside the workflow sandbox."""

import json
from typing import Any

from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy
from models.processes import Process, RunState


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _policy_line(policy: Policy | None) -> str:
    if policy is None:
        return "not read yet"
    mode = "HITL on (people review every proposal)" if policy.hitl_enabled else "autonomous"
    return (
        f"{mode}, threshold {policy.confidence_threshold:.2f}, "
        f"timeout {policy.approval_timeout_seconds} s then {policy.on_timeout}, "
        f"version {policy.version}"
    )


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


def _how_to_decide(workflow_id: str, approval: PendingApproval) -> list[str]:
    approve = {"by": "<your name>", "approval_id": approval.approval_id, "comment": "..."}
    if approval.proposal is None:
        approve["edits"] = {"<field>": "<a complete, valid proposal>"}
    reject = {"by": "<your name>", "approval_id": approval.approval_id, "comment": "why"}
    return [
        "### How to decide",
        "Send the signal **approve** or **reject** (Web UI: *Send a Signal*) with:",
        "```json",
        json.dumps(approve),
        "```",
        "```json",
        json.dumps(reject),
        "```",
        'To change the proposal, approve with `"edits": {...}` (only the fields to change).',
        "From the CLI:",
        "```",
        f"temporal workflow signal --workflow-id {workflow_id} --name approve "
        f"--input '{json.dumps({'by': 'ops', 'approval_id': approval.approval_id})}'",
        "```",
    ]


def render_details(
    *,
    workflow_id: str,
    process: Process,
    state: RunState,
    ai: AIResult | None,
    policy: Policy | None,
    approval: PendingApproval | None,
    decision: Decision | None,
    ignored: list[str],
) -> str:
    lines = [f"## {process.value}: {state.value.replace('_', ' ')}"]
    if decision is not None:
        lines.append(
            f"**Decided:** {decision.action} by `{decision.actor}` via {decision.channel}"
            + (f" — {decision.comment}" if decision.comment else "")
        )
    elif approval is not None:
        lines.append(
            f"**Waiting for a decision** on approval `{approval.approval_id}` "
            f"until {approval.expires_at.isoformat()}."
        )
        if approval.needs_review:
            reason = approval.error or "the AI step produced no proposal"
            lines.append(f"**Needs review:** {reason}")
    if ai is not None:
        lines += [
            f"**Confidence:** {ai.confidence:.2f}"
            + (f" (threshold {policy.confidence_threshold:.2f})" if policy else ""),
            f"**Model:** {_model_line(ai)}",
            f"**Why:** {ai.rationale}",
            "### Proposal",
            "```json",
            _json(ai.proposal) if ai.proposal is not None else "null",
            "```",
        ]
    lines.append(f"**Policy:** {_policy_line(policy)}")
    if approval is not None and decision is None:
        lines += _how_to_decide(workflow_id, approval)
    if ignored:
        lines += ["### Ignored signals", *(f"- {reason}" for reason in ignored[-5:])]
    return "\n".join(lines)
