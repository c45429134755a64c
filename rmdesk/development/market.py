"""The market view 市场分析 (duty 1, 分析市场): prospects and customers in scope by industry section and by region.

Customers are counted by lifecycle status (潜在/目标/现实) in one GROUP BY (division, city code, status) over the
scope's customers, read by the scope's own indexes; divisions are rolled up into GB/T 4754 sections and cities into
provinces here, on the grouped rows (a few thousand for a branch). The conversion rate per section is over the
prospects found in the period, as in the funnel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.core.reference import city_label, industries, province_name, regions, section_name
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.customers.models import Customer
from rmdesk.development.funnel import (
    WON_RANK,
    Period,
    development_files,
    last_twelve_months,
    rate,
    scope_customers,
    with_furthest_stage,
)
from rmdesk.org.models import User

# 潜在 → 目标 → 现实: the statuses the market view splits by, in order.
STATUSES = (LifecycleStatus.PROSPECT, LifecycleStatus.TARGET, LifecycleStatus.CUSTOMER)
UNKNOWN = ""  # the key of customers whose industry or region is not recorded


@dataclass(frozen=True)
class MarketRow:
    """One industry section, province or city: customers by status, and the prospects found and won there."""

    code: str
    label: str
    by_status: dict[str, int]  # LifecycleStatus value → customers
    found: int = 0
    won: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def rate(self) -> Decimal | None:
        return rate(self.won, self.found)


@dataclass(frozen=True)
class Market:
    period: Period
    by_section: list[MarketRow]
    by_province: list[MarketRow]
    by_city: list[MarketRow]  # the chosen province's cities, or the busiest cities when none is chosen
    province: str  # the chosen province's 2-digit code, or ""
    totals: dict[str, int]


TOP_CITIES = 20


def _section_of() -> dict[str, tuple[str, str]]:
    """Division code → (section code, section label in the active language)."""
    return {
        division.code: (section.code, f"{section.code} {section_name(section)}")
        for section in industries()
        for division in section.divisions
    }


def _province_of() -> dict[str, str]:
    """Province 2-digit code → its name in the active language."""
    return {province.code[:2]: province_name(province) for province in regions()}


def market_for(user: User, *, period: Period | None = None, province: str = "") -> Market:
    """Customers in the user's scope by industry section and region, split by status; conversion per section."""
    period = period or last_twelve_months()
    prospects = development_files(user)  # also the 404 for a role without access
    customers = Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True, status__in=STATUSES)
    # Restated on the scope's own indexes (ANDed, so it only narrows): restrict() alone reaches a unit's customers
    # through a join on the unit path, which makes the database read every customer of the bank.
    parts = scope_customers(customers.scope)
    if parts is not None:
        owned, co_rm = parts
        customers = customers.filter(owned | Q(pk__in=co_rm))
    sections = _section_of()
    provinces = _province_of()

    # One GROUP BY (division, city, status) for both dimensions: the scope's customer rows are read once.
    counts = list(customers.values("industry", "region", "status").annotate(n=Count("pk")).order_by())
    by_section: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for row in counts:
        code = sections.get(row["industry"], (UNKNOWN, ""))[0]
        by_section[code][row["status"]] += row["n"]

    conversion: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    found_in_period = prospects.filter(found_on__gte=period.start, found_on__lte=period.end)
    won = Count("pk", filter=Q(furthest=WON_RANK))
    rows = with_furthest_stage(found_in_period).values("customer__industry").annotate(found=Count("pk"), won=won)
    for row in rows.order_by():
        code = sections.get(row["customer__industry"], (UNKNOWN, ""))[0]
        conversion[code][0] += row["found"]
        conversion[code][1] += row["won"]

    by_province: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    by_city: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for row in counts:
        region = row["region"] or UNKNOWN
        key = region[:2] if region[:2] in provinces else UNKNOWN
        by_province[key][row["status"]] += row["n"]
        if not province or region[:2] == province:
            by_city[region][row["status"]] += row["n"]

    section_labels = {code: label for code, label in sections.values()}
    section_rows = [
        MarketRow(
            code=code,
            label=section_labels.get(code) or _("Industry not recorded"),
            by_status=by_section.get(code, dict.fromkeys(STATUSES, 0)),
            found=conversion[code][0] if code in conversion else 0,
            won=conversion[code][1] if code in conversion else 0,
        )
        for code in _ordered({*by_section, *conversion})
    ]
    province_rows = [
        MarketRow(code=code, label=provinces.get(code) or _("Region not recorded"), by_status=counts)
        for code, counts in by_province.items()
    ]
    city_rows = [
        MarketRow(code=code, label=city_label(code) if code else _("Region not recorded"), by_status=counts)
        for code, counts in by_city.items()
    ]
    city_rows.sort(key=lambda row: (-row.total, row.code == UNKNOWN, row.code))
    return Market(
        period=period,
        by_section=section_rows,
        by_province=sorted(province_rows, key=lambda row: (-row.total, row.code == UNKNOWN, row.code)),
        by_city=city_rows if province else city_rows[:TOP_CITIES],
        province=province,
        totals={status: sum(row.by_status[status] for row in section_rows) for status in STATUSES},
    )


def _ordered(codes: Iterable[str]) -> list[str]:
    """Sections A–T in order, the not-recorded bucket last."""
    return sorted(codes, key=lambda code: (code == UNKNOWN, code))


def province_choices() -> list[tuple[str, str]]:
    """The provinces as (2-digit code, name) for a filter."""
    return [(province.code[:2], province_name(province)) for province in regions()]
