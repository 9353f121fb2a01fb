"""Process inputs (SPEC §1). ``extra="forbid"`` so a stray field, such as a ``tenant`` in a
start body, is refused instead of silently obeyed."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Engagement(_Input):
    page_views: int = Field(0, ge=0)
    email_opens: int = Field(0, ge=0)
    demo_requested: bool = False


class Lead(_Input):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    company: str = Field(min_length=1, max_length=200)
    title: str | None = Field(None, max_length=200)
    company_size: int | None = Field(None, ge=1)
    source: Literal["referral", "web", "ads", "event", "cold", "other"] | None = None
    notes: str | None = Field(None, max_length=5000)
    engagement: Engagement | None = None


class LeadScoringInput(_Input):
    lead: Lead

    def subject(self) -> str:
        return f"{self.lead.name} ({self.lead.company})"


class Supplier(_Input):
    name: str = Field(min_length=1, max_length=200)
    unit_price: float = Field(gt=0)
    lead_time_days: int = Field(ge=0)
    rating: float = Field(ge=0, le=5)
    min_order_qty: int = Field(ge=1)


class ProductSourcingInput(_Input):
    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1)
    max_unit_price: float | None = Field(None, gt=0)
    needed_by_days: int | None = Field(None, ge=0)
    suppliers: list[Supplier] = Field(min_length=1, max_length=50)

    def subject(self) -> str:
        return f"{self.quantity} x {self.product}, {len(self.suppliers)} supplier(s)"


class ChannelStats(_Input):
    name: str = Field(min_length=1, max_length=100)
    spend: float = Field(ge=0)
    clicks: float = Field(ge=0)
    conversions: float = Field(ge=0)
    revenue: float = Field(ge=0)


class CampaignTuningInput(_Input):
    campaign_id: str = Field(min_length=1, max_length=200)
    total_budget: float = Field(gt=0)
    channels: list[ChannelStats] = Field(min_length=1, max_length=20)

    def subject(self) -> str:
        return f"campaign {self.campaign_id}, budget {self.total_budget:,.2f}"


class Brief(_Input):
    topic: str = Field(min_length=1, max_length=500)
    audience: str = Field(min_length=1, max_length=500)
    tone: str | None = Field(None, max_length=100)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    length_words: int | None = Field(None, ge=50, le=2000)
    channel: Literal["blog", "email", "social"] | None = None


class ContentGenerationInput(_Input):
    brief: Brief

    def subject(self) -> str:
        return f"{self.brief.channel or 'content'} on {self.brief.topic!r}"


ProcessInput = (
    LeadScoringInput | ProductSourcingInput | CampaignTuningInput | ContentGenerationInput
)
