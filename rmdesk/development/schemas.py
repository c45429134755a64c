"""API shapes of customer development 客户开发. Rates are per-cent strings ("33.3"), never floats."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema
from pydantic.json_schema import SkipJsonSchema

from rmdesk.core.api import ErrorOut, Out
from rmdesk.customers.schemas import CustomerIn

RATE = Field(description="Per cent, half-up to 0.1, as a string; null when nothing was there to convert")

# --- the pipeline (read) -----------------------------------------------------------------------------------------


class ProspectOut(Out):
    customer_id: int
    name: str
    credit_code: str
    stage: str = Field(description="identified, contacted, visited, proposal, won or dropped")
    stage_label: str
    stage_changed_at: datetime
    days_in_stage: int
    source: int = Field(description="1–12, the sources of domain.md §3.1")
    source_label: str
    source_detail: str
    found_on: date
    found_by: str = Field(description="Username of who found it")
    primary_rm: str | None = Field(description="Username of the primary RM; null while in a pool (公海)")
    owning_unit: str = Field(description="Org-unit code")
    contact_due: date | None = Field(description="First contact due (while at 识别 after a claim)")
    contact_overdue: bool
    score: str | None = Field(description="Target score 0–100, as a string; null until scored")
    drop_reason: str
    won_evidence: str
    version: int


class ProspectPage(Out):
    items: list[ProspectOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class StageChangeOut(Out):
    from_stage: str
    to_stage: str
    changed_at: datetime
    changed_by: str = Field(description="Username")
    note: str


class ProspectDetailOut(ProspectOut):
    stage_changes: list[StageChangeOut]


# --- the funnel ----------------------------------------------------------------------------------------------------


class PeriodOut(Out):
    start: date
    end: date


class DropReasonOut(Out):
    reason: str
    count: int


class StageStepOut(Out):
    stage: str
    label: str
    reached: int = Field(description="Prospects that got to this stage or further")
    to_next: str | None = RATE
    dropped: int = Field(description="Prospects now dropped whose last drop was at this stage")
    drop_reasons: list[DropReasonOut]


class SourceConversionOut(Out):
    source: int
    label: str
    found: int
    won: int
    rate: str | None = RATE


class RmConversionOut(Out):
    rm_id: int | None = Field(description="The RM's user id; null for prospects waiting in a pool")
    name: str
    found: int
    won: int
    rate: str | None = RATE
    reached: dict[str, int] = Field(description="Prospects that reached each stage, by stage")


class TimeToConvertOut(Out):
    won: int
    median_days: str | None = Field(description="Days from found_on to 开户/签约, median, as a string")
    p90_days: int | None = Field(description="90th percentile (nearest rank)")


class FunnelOut(Out):
    period: PeriodOut
    found: int
    stages: list[StageStepOut]
    overall_rate: str | None = RATE
    dropped: int
    by_source: list[SourceConversionOut]
    by_rm: list[RmConversionOut] | None = Field(description="For a lead, head or read-only role; null for an RM")
    time_to_convert: TimeToConvertOut


# --- the market ----------------------------------------------------------------------------------------------------


class MarketRowOut(Out):
    code: str = Field(description="Section letter, 2-digit province or 6-digit city code; empty: not recorded")
    label: str
    prospect: int
    target: int
    customer: int
    total: int


class SectionRowOut(MarketRowOut):
    found: int = Field(description="Prospects found in the period")
    won: int
    rate: str | None = RATE


class MarketOut(Out):
    period: PeriodOut
    totals: dict[str, int]
    by_section: list[SectionRowOut]
    by_province: list[MarketRowOut]
    by_city: list[MarketRowOut]
    province: str


# === writes: registering, the pool, the pipeline, the score, suggestions, the scorecard, merging ====================
# Bodies refuse fields they do not know (extra="forbid"), so a typo is a 422 naming it rather than ignored.


class ProspectIn(CustomerIn):
    """A newly found firm: its customer file (as POST /customers takes it) and how it was found."""

    # A new prospect has nobody but its RM; the field is inherited from CustomerIn and refused when given.
    co_rms: SkipJsonSchema[list[str] | None] = None
    source: int = Field(ge=1, le=12, description="1–12, the sources of domain.md §3.1")
    source_detail: str = Field("", max_length=200, description="Which paper, seminar, contact…")
    referring_customer: int | None = Field(
        None, description="Sources 10–12: the id of the existing customer whose relationship led here"
    )
    referring_relationship: int | None = Field(None, description="Sources 10–12: the id of that relationship")
    to_pool: bool = Field(
        False,
        description="Into the owning unit's pool (公海) rather than an RM's book. An RM registers into their own book "
        "or their own unit's pool; a lead or head names `primary_rm` (a username) or, with `to_pool`, `owning_unit`.",
    )
    allow_similar: bool = Field(
        False, description="Register although firms with a very similar name are on file in the region (after a 409)"
    )


class SimilarCustomerOut(Out):
    customer_id: int
    name: str
    credit_code: str
    region: str
    status: str
    owning_unit: str = Field(description="Org-unit code")
    primary_rm: str | None = Field(description="Username; null while in a pool (公海)")


class SimilarErrorOut(ErrorOut):
    """409 `similar`: firms with a very similar name in the region; send again with `allow_similar` to go on."""

    similar: list[SimilarCustomerOut] = Field(description="Those you may see (your book or a pool you may claim from)")
    hidden: int = Field(description="How many more are on file outside what you may see")


class VersionedIn(Schema):
    version: int | None = Field(None, ge=1, description="The version you read; a newer one answers 409")

    model_config = {"extra": "forbid"}


class NoteIn(Schema):
    note: str = Field("", max_length=200)

    model_config = {"extra": "forbid"}


class ReasonIn(Schema):
    reason: str = Field(max_length=200)

    model_config = {"extra": "forbid"}


class PoolItemOut(ProspectOut):
    pending_claim_by: str | None = Field(description="Username of the RM whose claim awaits the team lead")


class PoolPage(Out):
    items: list[PoolItemOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class AssignIn(VersionedIn):
    rm: str = Field(description="Username of the RM who takes the prospect from the pool")


class ClaimOut(Out):
    id: int
    customer_id: int
    name: str = Field(description="The prospect's name")
    rm: str = Field(description="Username of the claiming RM")
    rm_name: str
    status: str = Field(description="pending, approved, rejected or withdrawn")
    status_label: str
    created_at: datetime
    decided_by: str | None = Field(description="Username of the team lead or head who decided")
    decided_at: datetime | None
    note: str


class ClaimPage(Out):
    items: list[ClaimOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class StageIn(Schema):
    to_stage: str = Field(json_schema_extra={"enum": ["identified", "contacted", "visited", "proposal", "won",
                                                      "dropped"]})  # fmt: skip
    version: int = Field(ge=1, description="The version you read; a newer one answers 409")
    note: str = Field("", max_length=200)
    won_evidence: str = Field("", max_length=100, description="To `won`: the account opened or the contract signed")
    drop_reason: str = Field("", max_length=200, description="To `dropped`: why")

    model_config = {"extra": "forbid"}


class ScoreItemOut(Out):
    characteristic: int = Field(description="1–14, the characteristics of domain.md §3.2")
    label: str
    weight: str
    max_rating: int
    rating: int | None = Field(description="0 to max_rating; null while unrated")
    points: str = Field(description="What the item adds to the total, as a string")
    origin: str = Field(description="data (from the archive), rm (rated by the RM), or empty while unrated")
    reason: str = Field(description="What in the file decided it, the RM's reason, or why the file is silent")
    rated_by: str | None = Field(description="Username of the RM who rated it")
    rated_at: datetime | None
    data_item: bool = Field(description="One of the items the archive decides when it has the data")


class ScoreOut(Out):
    customer_id: int
    total: str = Field(description="Target score 0–100, as a string")
    threshold: str = Field(description="From this score on the prospect is a target 目标客户")
    suggested_status: str = Field(description="target or prospect")
    status: str = Field(description="The customer's lifecycle status now")
    scorecard_version: int
    items: list[ScoreItemOut]


class RatingIn(Schema):
    rating: int = Field(description="A whole number from 0 to the item's max_rating")
    reason: str = Field(max_length=200)

    model_config = {"extra": "forbid"}


class SuggestionLinkOut(Out):
    relationship_id: int
    customer_id: int = Field(description="Our customer the link belongs to")
    customer_name: str
    kind: str
    direction: str
    source: int
    amount: str | None = Field(description="Annual supply or guarantee amount, yuan")
    share_pct: str | None
    controller_name: str
    points: int = Field(description="Whole ranking points of this link")
    explanation: str


class SuggestionOut(Out):
    name: str
    credit_code: str = Field(description="Empty when no link records it: accepting then asks for it")
    score: int = Field(description="Whole ranking points (higher first)")
    source: int
    source_label: str
    relationship_id: int = Field(description="The best link, to accept the suggestion through")
    customers_linked: int
    explanation: str
    links: list[SuggestionLinkOut]


class SuggestionPage(Out):
    items: list[SuggestionOut]
    next_offset: int | None = Field(description="Pass as `offset` for the next page; null on the last page")


class AcceptIn(Schema):
    relationship_id: int
    credit_code: str | None = Field(None, description="Needed when the link records none")
    name: str = Field("", max_length=200, description="The firm's name; default: as the link records it")
    claim: bool = Field(False, description="An RM: into your own book rather than the pool")
    allow_similar: bool = False

    model_config = {"extra": "forbid"}


class FirmIn(Schema):
    credit_code: str | None = None
    name: str = Field("", max_length=200)

    model_config = {"extra": "forbid"}


class DismissalOut(Out):
    firm: str = Field(description="The credit code, or `name:` and the normalised name")
    name: str
    dismissed_at: datetime


class ScorecardItemOut(Out):
    characteristic: int
    label: str
    weight: str
    max_rating: int
    data_item: bool


class ScorecardOut(Out):
    version: int
    threshold: str
    encouraged_industries: list[str] = Field(description="GB/T 4754 divisions (2 digits)")
    promising_regions: list[str] = Field(description="GB/T 2260 codes: a province (2 digits) or a city (4 or 6)")
    items: list[ScorecardItemOut]
    updated_at: datetime
    updated_by: str | None
    may_edit: bool = Field(description="Whether you may change it (head office)")


class ScorecardIn(Schema):
    version: int = Field(ge=1, description="The version you read; a newer one answers 409")
    threshold: str = Field(examples=["60.00"], description="0–100, at most 2 decimals")
    weights: dict[int, str] = Field(
        default_factory=dict, description="Characteristic → weight (0–999.99, a string) for the items that change"
    )
    max_ratings: dict[int, int] = Field(
        default_factory=dict, description="Characteristic → highest rating (1–10) for the items that change"
    )
    encouraged_industries: list[str]
    promising_regions: list[str]

    model_config = {"extra": "forbid"}


class MergeIn(Schema):
    merge_id: int = Field(description="The customer id of the duplicate file, folded into the kept one and archived")
    reason: str = Field(max_length=200)

    model_config = {"extra": "forbid"}
