"""Current details as the Web UI's renderer needs them (hitl/details.py), without a server:
lists are blocks of their own, free text cannot turn into markup, fraction glyphs or code."""

from datetime import UTC, datetime, timedelta

from hitl.details import render_details, text_line
from hitl.state import GateState
from models.activity_io import RunRef
from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy
from models.processes import Action, Channel, Process, RunState

WID = "lead_scoring:acme:abc"
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
PROPOSAL = {"score": 18, "tier": "cold", "rationale": "r"}
WHY = "Score 18/100 <b>bold</b> *stars* `tick`"


def _state(**kw: object) -> GateState:
    policy = Policy(process=Process("lead_scoring"), hitl_enabled=True, confidence_threshold=0.85)
    ai = AIResult(proposal=PROPOSAL, confidence=0.64, rationale=WHY, model="rules")
    approval = PendingApproval(
        approval_id=f"{WID}:1", process=Process("lead_scoring"), proposal=PROPOSAL,
        confidence=0.64, threshold=0.85, hitl_enabled=True, rationale=WHY,
        requested_at=NOW, expires_at=NOW + timedelta(days=1),
    )  # fmt: skip
    run = RunRef(workflow_id=WID, run_id="r", tenant="acme", process=Process("lead_scoring"),
                 subject="Sam <Lee>")  # fmt: skip
    state = GateState(run=run, ai=ai, policy=policy, approval=approval)
    for key, value in kw.items():
        setattr(state, key, value)
    return state


def test_a_parked_run_says_what_to_decide_in_blocks_the_panel_renders() -> None:
    state = _state(state=RunState.AWAITING_APPROVAL)
    state.ignore("approve signal ignored: InvalidEdits: invalid edits (edits.score)")
    text = render_details(WID, "lead_scoring", state)
    lines = text.splitlines()
    assert lines[0] == "## Lead scoring: awaiting approval"
    # The reason a signal did not count comes first, where its sender looks.
    assert lines[2].startswith("**Last ignored signal:** approve signal ignored: InvalidEdits")
    first_item = lines.index("- **score**: 18")
    assert lines[first_item - 1] == "" and "- **tier**: cold" in lines
    assert '`{"by": "your name", "edits": {"score": 18}}`' in lines  # valid as pasted
    assert f"`{WID}:1`" in lines and "```" not in text


def test_free_text_renders_as_itself() -> None:
    # A word joiner keeps the renderer's fraction glyph away, invisibly.
    assert text_line(WHY) == "Score 18\u2060/100 \\<b>bold\\</b> \\*stars\\* \\`tick\\`"
    assert text_line("a\n  b") == "a b" and len(text_line("x" * 1000)) == 400
    assert "**About:** Sam \\<Lee>" in render_details(WID, "lead_scoring", _state())


def test_a_decided_run_shows_the_edited_proposal() -> None:
    final = {"score": 55, "tier": "warm", "rationale": "edited"}
    decision = Decision(
        approval_id=f"{WID}:1", action=Action.APPROVE, actor="ada", channel=Channel.SIGNAL,
        comment="ok", edits={"score": 55}, original_proposal=PROPOSAL, final_proposal=final,
        confidence=0.64, threshold=0.85, hitl_enabled=True, policy_version=1, decided_at=NOW,
        model="rules",
    )  # fmt: skip
    text = render_details(WID, "lead_scoring", _state(state=RunState.COMPLETED, decision=decision))
    lines = text.splitlines()
    assert "**Decided:** approve by `ada` via signal" in lines
    assert "**Edited:** score: 55" in lines
    assert lines[lines.index("**Final proposal:**") + 1] == ""
    assert "- **score**: 55" in lines and "- **tier**: warm" in lines


def test_a_quorum_under_four_eyes_shows_the_votes_and_who_may_still_approve() -> None:
    from models.hitl import Vote

    state = _state(state=RunState.AWAITING_APPROVAL, requested_by="sam")
    assert state.approval is not None
    state.approval = state.approval.model_copy(
        update={
            "min_approvals": 3,
            "requester_may_approve": False,
            "votes": [Vote(actor="ada", channel=Channel.API, at=NOW)],
        }
    )
    text = render_details(WID, "lead_scoring", state)
    assert "**Approvals:** 1 of 3 (`ada`); any one reject rejects." in text
    assert "**Four-eyes is on:** `sam` may not approve it." in text
    assert "**Who may still approve:** anyone but `ada`, `sam`." in text
