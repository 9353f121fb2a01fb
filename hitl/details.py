"""Current details for the Temporal Web UI: what the AI proposes, why, and what to send to
decide. Pure string building, safe inside the workflow sandbox.

Written for how the Web UI shows them (its ``/render`` page, in the narrow *User Metadata*
panel): the page keeps single newlines as line breaks, so a paragraph of ``**Label:**``
lines reads as a compact block, while every block (heading, list, paragraph) adds blank
lines around itself, so there are few blocks. Lists need a blank line before them. No code
blocks: they do not wrap and cut payloads off sideways; inline code wraps. The renderer
turns ``18/100`` into a superscript fraction and passes raw HTML through, so text from the
AI or the input is escaped (``text_line``): a word joiner before such a slash.
"""

import json
import re
from typing import Any

from hitl.state import GateState
from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy
from models.processes import Door

_MAX_VALUE = 400
_MAX_ITEMS = 25
_FRACTION = re.compile(r"(?<=\d)/(?=\d)")


def render_details(
    workflow_id: str, process: str, s: GateState, *, gates: int = 1, namespace: str = "default"
) -> str:
    """``gates``: how many gates the process has (a name is worth showing when several);
    ``namespace``: for the terminal hint, with the address the run was started through."""
    title = process.replace("_", " ").capitalize()
    head = [f"## {title}: {s.state.value.replace('_', ' ')}"]
    if s.gate is not None and gates > 1:
        head.append(f"**Gate:** {s.gate} ({s.gate_index + 1} of {gates})")
    if s.run is not None and s.run.subject:
        head.append(f"**About:** {text_line(s.run.subject)}")
    ignored = [f"**Last ignored signal:** {text_line(s.ignored[-1])}"] if s.ignored else []
    if s.decision is not None:
        return _join(head, _decided(s.decision, s.policy), ignored)
    if s.approval is not None:
        # On top, where whoever just sent a signal looks: why it did not count.
        return _join(head + ignored, _waiting(workflow_id, s, namespace))
    policy = f"**Policy:** {_policy_line(s.policy)}"
    if s.ai is None:
        return _join([*head, policy], ignored)
    confidence = f"**Confidence:** {s.ai.confidence:.2f}"
    return _join([*head, confidence, policy], _proposal(s.ai.proposal), ignored)


def _join(*blocks: list[str]) -> str:
    """Blocks separated by one blank line; lines within a block by a line break."""
    return "\n\n".join("\n".join(block) for block in blocks if block)


def _waiting(workflow_id: str, s: GateState, namespace: str) -> list[str]:
    approval = s.approval
    assert approval is not None and s.ai is not None
    status = [
        f"**Waiting for a decision** until {approval.expires_at:%Y-%m-%d %H:%M} UTC",
        f"**Confidence:** {approval.confidence:.2f} (threshold {approval.threshold:.2f})",
        f"**Policy:** {_policy_line(s.policy)}",
        *_who_may_decide(approval),
        *_quorum(approval, s.requested_by),
    ]
    proposes = ["**The AI proposes:**"]
    if approval.needs_review:
        reason = approval.error or "the AI step produced no proposal"
        proposes = [
            f"**Needs review:** {text_line(reason)}. Approve with edits forming a whole proposal."
        ]
    why = [f"**Why:** {text_line(approval.rationale)}", f"**Model:** {_model_line(s.ai)}"]
    return [*status, "", *proposes, *_list(_proposal(approval.proposal)), *why, "",
            *_how_to_decide(workflow_id, approval, s.temporal_address, namespace)]  # fmt: skip


def _list(items: list[str]) -> list[str]:
    # A list is a block of its own: blank lines around it, or it renders as "- " text.
    return ["", *items, ""]


def _who_may_decide(approval: PendingApproval) -> list[str]:
    lines = []
    if approval.approver_groups or approval.approver_subjects:
        who = []
        if approval.approver_groups:
            who.append("groups " + ", ".join(f"`{text_line(g)}`" for g in approval.approver_groups))
        if approval.approver_subjects:
            names = ", ".join(f"`{text_line(n)}`" for n in approval.approver_subjects)
            who.append("people " + names)
        lines.append("**Who may decide:** " + " and ".join(who) + ".")
        if approval.approver_groups:
            lines.append(
                "A signal's `by` counts only if it is one of the people named: a typed name "
                "cannot prove group membership (groups decide over REST or Slack)."
            )
    if set(approval.doors) != set(Door):
        doors = ", ".join(d.value for d in approval.doors)
        lines.append(f"**Decided only through:** {doors} (other doors are refused).")
    return lines


def _quorum(approval: PendingApproval, requested_by: str) -> list[str]:
    lines = []
    if approval.min_approvals > 1:
        voters = [v.actor for v in approval.votes]
        so_far = ", ".join(f"`{v}`" for v in voters) if voters else "none yet"
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


def _how_to_decide(
    workflow_id: str, approval: PendingApproval, address: str, namespace: str
) -> list[str]:
    approve: dict[str, Any] = {"by": "your name"}
    if approval.proposal is None:
        approve["edits"] = {"<field>": "<value>"}
    edited = {"by": "your name", "edits": _sample_edit(approval)}
    terminal = {"by": "ops"}
    return [
        "### To approve",
        "*Send a Signal* → **approve**, with the input:",
        f"`{json.dumps(approve)}`",
        "To change the proposal first, add the fields to change, with their new values:",
        f"`{json.dumps(edited)}`",
        "### To reject",
        "*Send a Signal* → **reject**, with the input:",
        '`{"by": "your name", "comment": "why"}`',
        "",
        "**Approval id** (optional in the input as `approval_id`; it makes sure you decide "
        "this approval and not a later one):",
        f"`{approval.approval_id}`",
        "**From a terminal:**",
        f"`temporal workflow signal{_where(address, namespace)} --workflow-id {workflow_id} "
        f"--name approve --input '{json.dumps(terminal)}'`",
    ]


def _where(address: str, namespace: str) -> str:
    """The connection flags of the terminal hint: the address the run was started through
    (a stack on other ports, or another cluster, is not the CLI's default)."""
    flags = f" --address {address}" if address else ""
    return flags + (f" --namespace {namespace}" if namespace != "default" or address else "")


def _sample_edit(approval: PendingApproval) -> dict[str, Any]:
    # A real field with its current value: pasted as is it is valid, and shows the type.
    proposal = approval.proposal or {}
    field = next((k for k in proposal if k != "rationale"), None)
    return {field: proposal[field]} if field is not None else {"<field>": "<value>"}


def _decided(decision: Decision, policy: Policy | None) -> list[str]:
    lines = [f"**Decided:** {decision.action} by `{decision.actor}` via {decision.channel}"]
    if decision.origin:
        lines.append(
            "**From:** " + ", ".join(f"{k} `{text_line(v)}`" for k, v in decision.origin.items())
        )
    if decision.comment:
        lines.append(f"**Comment:** {text_line(decision.comment)}")
    if len(decision.approvers) > 1:
        lines.append("**Approvers:** " + ", ".join(f"`{a}`" for a in decision.approvers))
    lines.append(f"**Policy:** {_policy_line(policy)}")
    if decision.edits:
        changes = "; ".join(f"{k}: {_short(v)}" for k, v in decision.edits.items())
        lines += ["", f"**Edited:** {changes}", "**Final proposal:**"]
    else:
        lines += ["", "**Proposal:**"]
    return lines + _list(_proposal(decision.final_proposal))


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
        return text_line(ai.model)
    parts = [text_line(call.model)]
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
    return text_line(value if isinstance(value, str) else json.dumps(value, default=str))


def text_line(text: str) -> str:
    """Free text (from the AI, the input or a person) as one clipped line that renders as
    itself: no HTML, no emphasis, no fraction glyphs."""
    text = " ".join(text.split())
    if len(text) > _MAX_VALUE:
        text = text[: _MAX_VALUE - 1] + "…"
    for char in "\\<`*":  # backslash escapes; the renderer turns "&lt;" into "&amp;lt;"
        text = text.replace(char, "\\" + char)
    # No escape stops the fraction glyph; a word joiner (invisible, and unlike an entity not
    # shown raw by `temporal workflow metadata`) does.
    return _FRACTION.sub("\u2060/", text)
