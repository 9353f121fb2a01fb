"""Deciding from Slack (SPEC §8 "Slack"): what an interactive message carries, and what an
admin sets (the workspace, the users' Brain identities).

The message's blocks are built by ``activities/webhooks/slack_controls.py`` and read back by
``api/slack``: both take their names from here.
"""

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.safety import check_value

# The actions block (Approve, Reject) and the comment input of an interactive message.
ACTIONS_BLOCK = "brain_decide"
APPROVE_ACTION = "brain_approve"
REJECT_ACTION = "brain_reject"
COMMENT_BLOCK = "brain_comment"
COMMENT_ACTION = "comment"
# The line that says how many have voted under a quorum (replaced at each vote).
VOTES_BLOCK = "brain_votes"

# Slack's ids: a capital letter (T team, E enterprise, U/W user), then capitals and digits.
SLACK_ID = r"^[A-Z][A-Z0-9]{2,31}$"
_SLACK_ID = re.compile(SLACK_ID)
# Slack takes up to 2,000 characters in a button's value.
MAX_BUTTON_VALUE = 2000


def is_slack_id(value: object) -> bool:
    return isinstance(value, str) and _SLACK_ID.fullmatch(value) is not None


def _text(value: str) -> str:
    check_value(value)
    return value


def _subject(value: str) -> str:
    # As a token's subject (api/auth.py valid_subject): refused, not trimmed, with spaces
    # around it; the gate compares subjects after its one normalization.
    check_value(value)
    if value != value.strip():
        raise ValueError("no spaces around the subject")
    return value


def _groups(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        check_value(name)
        name = name.strip()
        if not 0 < len(name) <= 200:
            raise ValueError("group names are 1..200 characters")
        if name not in out:
            out.append(name)
    return out


def _secret(value: str) -> str:
    if any(c.isspace() for c in value):
        raise ValueError("the signing secret has no spaces")
    return _text(value)


class ButtonValue(BaseModel):
    """What an Approve or Reject button names: the run and the approval it was posted for.
    A claim only: the click is decided through the same checks as REST, as the mapped user,
    and a button of another tenant's run finds nothing."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: str = Field(min_length=1, max_length=300)
    approval_id: str = Field(min_length=1, max_length=300)

    _text = field_validator("workflow_id", "approval_id")(_text)

    def encode(self) -> str:
        return json.dumps(self.model_dump(), separators=(",", ":"))

    @classmethod
    def decode(cls, value: object) -> "ButtonValue | None":
        if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
            return None
        try:
            return cls.model_validate_json(value)
        except ValidationError:
            return None


class SlackWorkspace(BaseModel):
    """The tenant's Slack app: its workspace's team id and the app's signing secret
    (Slack app settings, Basic Information, App Credentials)."""

    model_config = ConfigDict(extra="forbid")

    team_id: str = Field(pattern=SLACK_ID, description="The Slack workspace's id (T…)")
    signing_secret: str = Field(
        min_length=16, max_length=200, description="The Slack app's signing secret; never shown"
    )

    _secret = field_validator("signing_secret")(_secret)


class SlackUserMapping(BaseModel):
    """Who a Slack user decides as: a Brain subject with groups (for a gate's
    ``approver_groups``), always with the approver role."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    groups: list[str] = Field(default_factory=list, max_length=100)

    _subject = field_validator("subject")(_subject)
    _groups = field_validator("groups")(_groups)
