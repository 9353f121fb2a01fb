"""What ``/slack/workspace`` and ``/slack/users`` answer. The signing secret is never in an
answer: it is set, and replaced, never read back."""

from pydantic import BaseModel

from models.slack_tables import SlackUserRow, SlackWorkspaceRow
from models.timestamps import Timestamp


class SlackWorkspaceView(BaseModel):
    team_id: str
    set_by: str
    set_at: Timestamp

    @classmethod
    def of(cls, row: SlackWorkspaceRow) -> "SlackWorkspaceView":
        return cls.model_validate(row.model_dump(include={"team_id", "set_by", "set_at"}))


class SlackUserView(BaseModel):
    slack_user: str
    subject: str
    groups: list[str]
    set_by: str
    set_at: Timestamp

    @classmethod
    def of(cls, row: SlackUserRow) -> "SlackUserView":
        return cls.model_validate(row.model_dump(exclude={"tenant"}))
