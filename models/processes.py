"""The four processes, their API names, seed aliases and workflow types (SPEC §1)."""

from enum import StrEnum


class Process(StrEnum):
    LEAD_SCORING = "lead_scoring"
    PRODUCT_SOURCING = "product_sourcing"
    CAMPAIGN_TUNING = "campaign_tuning"
    CONTENT_GENERATION = "content_generation"

    @property
    def workflow_type(self) -> str:
        return _WORKFLOW_TYPES[self]

    @classmethod
    def parse(cls, name: str) -> "Process":
        """Accept an API name or a seed alias; raise ``ValueError`` otherwise."""
        if name in _ALIASES:
            return _ALIASES[name]
        return cls(name)


_WORKFLOW_TYPES = {
    Process.LEAD_SCORING: "LeadScoringWorkflow",
    Process.PRODUCT_SOURCING: "ProductSourcingWorkflow",
    Process.CAMPAIGN_TUNING: "CampaignTuningWorkflow",
    Process.CONTENT_GENERATION: "ContentGenerationWorkflow",
}

_ALIASES = {
    "lead_processing": Process.LEAD_SCORING,
    "campaign_optimization": Process.CAMPAIGN_TUNING,
}


class RunState(StrEnum):
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"


class Channel(StrEnum):
    API = "api"
    SIGNAL = "signal"
    POLICY = "policy"
    TIMEOUT = "timeout"
    AUTO = "auto"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
