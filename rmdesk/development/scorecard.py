"""The target scorecard's arithmetic (目标客户评分), pure: no Django, exact integers and Decimals, ROUND_HALF_UP.

A prospect's score on 0–100 is 100 × Σ(weight × rating / max_rating) / Σ weight, rounded half-up to 0.01, and the
scorecard explains it item by item: each item's points add up to the total exactly. Five of the 14 characteristics
can be decided from the archive; the functions at the end rate them from plain inputs and return the facts that
decided, so that the caller can say so in the user's language.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from math import lcm
from typing import Literal

# The characteristics the archive can decide, numbered as the code of conduct does (choices.Characteristic).
ENCOURAGED_INDUSTRY = 1
CREDIT_STANDING = 3
FINANCIAL_STRUCTURE = 5
PROMISING_REGION = 11
STABLE_PARTNERS = 12
DATA_ITEMS = (ENCOURAGED_INDUSTRY, CREDIT_STANDING, FINANCIAL_STRUCTURE, PROMISING_REGION, STABLE_PARTNERS)

HUNDRED = Decimal(100)


class ScorecardError(ValueError):
    """The weights or scales cannot make a score (e.g. the weights sum to zero)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Item:
    """One characteristic of the scorecard: its weight and the top of its 0–N rating scale."""

    characteristic: int
    weight: Decimal
    max_rating: int


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one item adds to the total: `points` on the 0–100 scale (0 when unrated)."""

    characteristic: int
    weight: Decimal
    max_rating: int
    rating: int | None
    points: Decimal

    @property
    def rated(self) -> bool:
        return self.rating is not None


@dataclass(frozen=True, slots=True)
class Score:
    total: Decimal
    contributions: tuple[Contribution, ...]

    @property
    def unrated(self) -> tuple[int, ...]:
        return tuple(c.characteristic for c in self.contributions if c.rating is None)


class Card:
    """A scorecard checked once and ready to score many prospects (the bulk re-score calls `score` per prospect).

    The arithmetic is in integers: weights scaled to whole numbers, every item over the common denominator
    Σweight × lcm(max ratings), in hundredths of a point. So the total is rounded half-up exactly, and ties are
    real ties, never artefacts of a binary or 28-digit division.
    """

    def __init__(self, items: Sequence[Item]) -> None:
        if not items:
            raise ScorecardError("the scorecard has no items", field="weights")
        seen: set[int] = set()
        places = 0
        for item in items:
            if item.characteristic in seen:
                raise ScorecardError(f"item {item.characteristic} appears twice", field="weights")
            seen.add(item.characteristic)
            if not item.weight.is_finite() or item.weight < 0:
                raise ScorecardError(f"item {item.characteristic}: a weight must be 0 or more", field="weights")
            if isinstance(item.max_rating, bool) or not isinstance(item.max_rating, int) or item.max_rating < 1:
                raise ScorecardError(
                    f"item {item.characteristic}: the highest rating must be 1 or more", field="max_ratings"
                )
            exponent = item.weight.as_tuple().exponent
            assert isinstance(exponent, int)  # finite, checked above
            places = max(places, -exponent)
        self.items = tuple(items)
        scale = 10**places
        weights = [int(item.weight * scale) for item in items]  # exact: `scale` clears every decimal place
        total_weight = sum(weights)
        if total_weight == 0:
            raise ScorecardError("the weights sum to zero", field="weights")
        common = lcm(*(item.max_rating for item in items))
        self.denominator = total_weight * common
        # Hundredths of a point per rating step: 100 (percent) × 100 (hundredths) × weight × common / max_rating.
        self.step = tuple(10_000 * w * (common // item.max_rating) for w, item in zip(weights, items, strict=True))

    def _numerators(self, ratings: Mapping[int, int]) -> list[int | None]:
        """Each item's exact share over `denominator` (None when unrated), its rating checked against its scale."""
        numerators: list[int | None] = []
        for item, step in zip(self.items, self.step, strict=True):
            rating = ratings.get(item.characteristic)
            if rating is None:
                numerators.append(None)
                continue
            if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= item.max_rating:
                raise ValueError(f"item {item.characteristic}: rating {rating!r} is outside 0–{item.max_rating}")
            numerators.append(step * rating)
        return numerators

    def _total(self, exact: int) -> int:
        """The total in hundredths, rounded half-up exactly."""
        whole, remainder = divmod(exact, self.denominator)
        return whole + (1 if 2 * remainder >= self.denominator else 0)

    def total(self, ratings: Mapping[int, int]) -> Decimal:
        """The total alone (the bulk re-score stores only that): the same number as `score(ratings).total`."""
        return _hundredths(self._total(sum(n for n in self._numerators(ratings) if n is not None)))

    def score(self, ratings: Mapping[int, int]) -> Score:
        """The total and each item's points; an item missing from `ratings` is unrated and counts 0.

        Each item's points are its exact share rounded to 0.01 by largest remainder (ties to the earlier item),
        so that they add up to the half-up rounded total: the page can explain the total item by item.
        """
        numerators = self._numerators(ratings)
        shares = [divmod(n, self.denominator) if n is not None else (0, 0) for n in numerators]
        total = self._total(sum(n for n in numerators if n is not None))
        hundredths = [share for share, _ in shares]
        left = total - sum(hundredths)  # 0 ≤ left ≤ the number of items with a remainder
        by_remainder = sorted(range(len(shares)), key=lambda n: -shares[n][1])
        for n in by_remainder[:left]:
            hundredths[n] += 1
        contributions = tuple(
            Contribution(
                characteristic=item.characteristic,
                weight=item.weight,
                max_rating=item.max_rating,
                rating=ratings.get(item.characteristic),
                points=_hundredths(points),
            )
            for item, points in zip(self.items, hundredths, strict=True)
        )
        return Score(total=_hundredths(total), contributions=contributions)


def score(items: Sequence[Item], ratings: Mapping[int, int]) -> Score:
    """Score one prospect (see `Card.score`); a weight set summing to zero raises ScorecardError."""
    return Card(items).score(ratings)


def _hundredths(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def meets_threshold(total: Decimal, threshold: Decimal) -> bool:
    """A score at or above the threshold suggests a target (目标), below it a prospect (潜在)."""
    return total >= threshold


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


# --- ratings the archive decides ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreditFacts:
    grade: str


Band = Literal["good", "fair", "poor"]


@dataclass(frozen=True, slots=True)
class FinanceFacts:
    year: int
    debt_ratio: Decimal  # total liabilities / total assets, 0.452 for 45.2%
    debt_band: Band
    revenue_growth: Decimal | None  # latest revenue / previous year's − 1; None without the year before
    growth_band: Band | None


@dataclass(frozen=True, slots=True)
class IndustryFacts:
    industry: str
    encouraged: bool


@dataclass(frozen=True, slots=True)
class RegionFacts:
    region: str
    matched: str | None  # the list entry (province, city prefix or city) that matched


@dataclass(frozen=True, slots=True)
class PartnerFacts:
    suppliers: int
    buyers: int


Facts = CreditFacts | FinanceFacts | IndustryFacts | RegionFacts | PartnerFacts


@dataclass(frozen=True, slots=True)
class AutoRating:
    """A rating decided by the archive, with the facts that decided it."""

    characteristic: int
    rating: int
    facts: Facts


@dataclass(frozen=True, slots=True)
class Statement:
    """The figures of one year's financial statements that item 5 reads."""

    year: int
    total_assets: Decimal
    total_liabilities: Decimal
    revenue: Decimal


def credit_standing(grade: str, scale: Sequence[str], max_rating: int) -> AutoRating | None:
    """Item 3 from the internal credit rating; None when the prospect is not rated (or has a grade off the scale).

    `scale` is best first (AAA … D). The best grade rates `max_rating`; the last two grades rate 0 (C and D on the
    default scale: near or in default, no better than having no standing); the grades between step down evenly,
    rounded half-up. On the default scale with max 5: AAA 5, AA 4, A 4, BBB 3, BB 3, B 2, CCC 1, CC 1, C 0, D 0.
    """
    if not grade or grade not in scale:
        return None
    position = list(scale).index(grade)
    zero_from = max(len(scale) - 2, 1)  # a scale of one or two grades: only the best one counts
    steps_above_zero = max(zero_from - position, 0)
    rating = _half_up(max_rating * steps_above_zero, zero_from)
    return AutoRating(CREDIT_STANDING, rating, CreditFacts(grade))


# Bands of 资产负债率 and of revenue growth, as shares (0.5 = 50%): a bound belongs to the better band.
DEBT_GOOD, DEBT_FAIR = Decimal("0.5"), Decimal("0.7")
GROWTH_GOOD, GROWTH_FAIR = Decimal("0.1"), Decimal(0)
BAND_POINTS: dict[Band, int] = {"good": 2, "fair": 1, "poor": 0}


def debt_band(debt_ratio: Decimal) -> Band:
    """≤ 50% good, ≤ 70% fair, above poor."""
    return "good" if debt_ratio <= DEBT_GOOD else "fair" if debt_ratio <= DEBT_FAIR else "poor"


def growth_band(growth: Decimal) -> Band:
    """≥ 10% good, ≥ 0% fair, a fall poor."""
    return "good" if growth >= GROWTH_GOOD else "fair" if growth >= GROWTH_FAIR else "poor"


def financial_structure(latest: Statement | None, previous: Statement | None, max_rating: int) -> AutoRating | None:
    """Item 5 from the latest statements: the debt ratio's band and the revenue growth's band, 2/1/0 points each,
    the points' share of the possible 4 mapped onto 0–max (half-up).

    Growth needs the statements of the year just before the latest, with revenue: otherwise only the debt ratio
    decides (its 0–2 points onto 0–max). Without a latest statement with assets there is nothing to decide on.
    """
    if latest is None or latest.total_assets <= 0:
        return None
    debt_ratio = latest.total_liabilities / latest.total_assets
    debt = debt_band(debt_ratio)
    growth: Decimal | None = None
    growth_kind: Band | None = None
    points, possible = BAND_POINTS[debt], 2
    if previous is not None and previous.year == latest.year - 1 and previous.revenue > 0:
        growth = latest.revenue / previous.revenue - 1
        growth_kind = growth_band(growth)
        points, possible = points + BAND_POINTS[growth_kind], 4
    facts = FinanceFacts(latest.year, debt_ratio, debt, growth, growth_kind)
    return AutoRating(FINANCIAL_STRUCTURE, _half_up(max_rating * points, possible), facts)


def encouraged_industry(industry: str, encouraged: Collection[str], max_rating: int) -> AutoRating | None:
    """Item 1: max when the industry division is on head office's encouraged list, else 0.

    None (the RM decides) when head office keeps no list, or the prospect's industry is not recorded.
    """
    if not encouraged or not industry:
        return None
    listed = industry in encouraged
    return AutoRating(ENCOURAGED_INDUSTRY, max_rating if listed else 0, IndustryFacts(industry, listed))


def region_entry(region: str, promising: Sequence[str]) -> str | None:
    """The entry of the list that covers a 6-digit region code: the code itself, its city (4) or province (2)."""
    for entry in promising:
        if entry and region.startswith(entry):
            return entry
    return None


def promising_region(region: str, promising: Sequence[str], max_rating: int) -> AutoRating | None:
    """Item 11: max when the region is on head office's list (or inside a listed province or city), else 0.

    None (the RM decides) when head office keeps no list, or the prospect's region is not recorded.
    """
    if not promising or not region:
        return None
    entry = region_entry(region, promising)
    return AutoRating(PROMISING_REGION, max_rating if entry else 0, RegionFacts(region, entry))


# A firm with three or more suppliers and three or more buyers on record depends on no single partner either way;
# fewer on a side means its supply or its sales hang on one or two firms, a risk to its business.
STABLE_PARTNERS_PER_SIDE = 3


def stable_partners(suppliers: int, buyers: int, max_rating: int) -> AutoRating | None:
    """Item 12 from the supplier/buyer links on record: each side counts up to 3, their share of 6 onto 0–max.

    None when no supplier or buyer is on record at all: the archive is silent, which is not the same as a firm
    without partners, so the RM decides.
    """
    if suppliers <= 0 and buyers <= 0:
        return None
    counted = min(suppliers, STABLE_PARTNERS_PER_SIDE) + min(buyers, STABLE_PARTNERS_PER_SIDE)
    rating = _half_up(max_rating * counted, 2 * STABLE_PARTNERS_PER_SIDE)
    return AutoRating(STABLE_PARTNERS, rating, PartnerFacts(suppliers, buyers))


@dataclass(frozen=True, slots=True)
class Policy:
    """What head office set and the bank's rating scale: the inputs of the data-decided items besides the archive."""

    credit_scale: tuple[str, ...]
    encouraged_industries: frozenset[str]
    promising_regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProspectFacts:
    """What the archive holds on one prospect for the data-decided items."""

    credit_rating: str = ""
    industry: str = ""
    region: str = ""
    latest: Statement | None = None
    previous: Statement | None = None
    suppliers: int = 0
    buyers: int = 0


def auto_ratings(facts: ProspectFacts, policy: Policy, max_ratings: Mapping[int, int]) -> dict[int, AutoRating | None]:
    """Every data-decided item of the scorecard (those in `max_ratings`): its rating, or None when the data is
    silent and the RM rates it."""
    ratings: dict[int, AutoRating | None] = {}
    top = max_ratings.get(ENCOURAGED_INDUSTRY)
    if top is not None:
        ratings[ENCOURAGED_INDUSTRY] = encouraged_industry(facts.industry, policy.encouraged_industries, top)
    top = max_ratings.get(CREDIT_STANDING)
    if top is not None:
        ratings[CREDIT_STANDING] = credit_standing(facts.credit_rating, policy.credit_scale, top)
    top = max_ratings.get(FINANCIAL_STRUCTURE)
    if top is not None:
        ratings[FINANCIAL_STRUCTURE] = financial_structure(facts.latest, facts.previous, top)
    top = max_ratings.get(PROMISING_REGION)
    if top is not None:
        ratings[PROMISING_REGION] = promising_region(facts.region, policy.promising_regions, top)
    top = max_ratings.get(STABLE_PARTNERS)
    if top is not None:
        ratings[STABLE_PARTNERS] = stable_partners(facts.suppliers, facts.buyers, top)
    return ratings


def percent(share: Decimal, places: int = 1) -> Decimal:
    """0.4523 → 45.2 (half-up), for saying a ratio in words."""
    return (share * HUNDRED).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
