"""The target scorecard's pure kernel: exact totals, item-by-item points, and the ratings the archive decides."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from rmdesk.development import scorecard as k
from rmdesk.development.scorecard import Item, Statement

DEFAULT_SCALE = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
# The migration's default weights (they sum to 100), every item rated 0–5.
DEFAULT_WEIGHTS = {1: 8, 2: 8, 3: 10, 4: 7, 5: 10, 6: 6, 7: 6, 8: 10, 9: 8, 10: 6, 11: 5, 12: 8, 13: 4, 14: 4}
DEFAULT_ITEMS = [Item(c, Decimal(w), 5) for c, w in DEFAULT_WEIGHTS.items()]


def items(*weights: str | int, max_rating: int = 5) -> list[Item]:
    return [Item(n, Decimal(str(w)), max_rating) for n, w in enumerate(weights, start=1)]


# --- the total and its explanation ------------------------------------------------------------------------------


def test_every_item_at_its_top_scores_100() -> None:
    # when
    result = k.score(DEFAULT_ITEMS, dict.fromkeys(DEFAULT_WEIGHTS, 5))
    # then
    assert result.total == Decimal("100.00")
    assert [c.points for c in result.contributions] == [
        Decimal(w).quantize(Decimal("0.01")) for w in DEFAULT_WEIGHTS.values()
    ]


def test_the_total_is_the_weighted_share_of_the_top_ratings() -> None:
    # given: item 3 (weight 10) rated 4 of 5, item 5 (weight 10) 3 of 5, item 12 (weight 8) 5 of 5; the rest unrated
    ratings = {3: 4, 5: 3, 12: 5}
    # when
    result = k.score(DEFAULT_ITEMS, ratings)
    # then: 100 × (10·4/5 + 10·3/5 + 8·5/5) / 100 = 8 + 6 + 8
    assert result.total == Decimal("22.00")
    points = {c.characteristic: c.points for c in result.contributions}
    assert (points[3], points[5], points[12]) == (Decimal("8.00"), Decimal("6.00"), Decimal("8.00"))


def test_unrated_items_count_zero_and_are_listed_as_unrated() -> None:
    # when
    result = k.score(items(1, 1, 2), {1: 5, 3: 0})
    # then
    assert result.total == Decimal("25.00")
    assert result.unrated == (2,)
    assert [(c.rating, c.rated, c.points) for c in result.contributions] == [
        (5, True, Decimal("25.00")),
        (None, False, Decimal("0.00")),
        (0, True, Decimal("0.00")),
    ]


def test_a_total_exactly_half_a_hundredth_rounds_up() -> None:
    # given: 100 × 1/32 = 3.125 exactly (half-even would give 3.12)
    card = items(1, 31, max_rating=1)
    # when
    result = k.score(card, {1: 1})
    # then
    assert result.total == Decimal("3.13")
    assert result.contributions[0].points == Decimal("3.13")


def test_a_total_below_half_a_hundredth_rounds_down() -> None:
    # given: 100 × (1 × 1/3) / 3 = 11.111…
    result = k.score(items(1, 2, max_rating=3), {1: 1})
    # then
    assert result.total == Decimal("11.11")


def test_points_add_up_to_the_total_by_largest_remainder() -> None:
    # given: three equal items, each exactly 33.333…
    card = items(1, 1, 1, max_rating=1)
    # when
    all_three = k.score(card, {1: 1, 2: 1, 3: 1})
    two = k.score(card, {1: 1, 3: 1})
    # then: the rounding cent goes to the earliest item with the largest remainder
    assert all_three.total == Decimal("100.00")
    assert [c.points for c in all_three.contributions] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert two.total == Decimal("66.67")
    assert [c.points for c in two.contributions] == [Decimal("33.34"), Decimal("0.00"), Decimal("33.33")]


def test_contributions_always_sum_to_the_total() -> None:
    # given: many seeded scorecards with odd weights and scales
    rng = random.Random(4)
    for _ in range(500):
        card = [
            Item(c, Decimal(rng.randint(0, 99999)).scaleb(-2), rng.randint(1, 10)) for c in range(1, rng.randint(2, 15))
        ]
        if sum(i.weight for i in card) == 0:
            continue
        ratings = {i.characteristic: rng.randint(0, i.max_rating) for i in card if rng.random() < 0.7}
        # when
        result = k.score(card, ratings)
        # then
        assert sum(c.points for c in result.contributions) == result.total
        assert k.Card(card).total(ratings) == result.total
        assert Decimal(0) <= result.total <= Decimal(100)


def test_the_total_matches_the_formula_rounded_half_up() -> None:
    # given
    rng = random.Random(11)
    for _ in range(300):
        card = [Item(c, Decimal(rng.randint(1, 2000)).scaleb(-1), rng.randint(1, 10)) for c in range(1, 15)]
        ratings = {i.characteristic: rng.randint(0, i.max_rating) for i in card}
        # when
        result = k.score(card, ratings)
        # then: the same as the formula worked to 60 digits
        with localcontext() as context:
            context.prec = 60
            exact = (
                100
                * sum(i.weight * ratings[i.characteristic] / i.max_rating for i in card)
                / sum(i.weight for i in card)
            )
            assert result.total == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_weights_summing_to_zero_are_an_error() -> None:
    # when / then
    with pytest.raises(k.ScorecardError) as error:
        k.score(items(0, 0, "0.00"), {1: 5})
    assert error.value.field == "weights"


def test_a_negative_weight_is_an_error() -> None:
    with pytest.raises(k.ScorecardError):
        k.Card(items(5, -1))


def test_a_rating_outside_the_scale_is_refused() -> None:
    card = k.Card(items(1, 1, max_rating=5))
    for rating in (6, -1):
        with pytest.raises(ValueError):
            card.score({1: rating})


def test_the_threshold_counts_as_reached() -> None:
    assert k.meets_threshold(Decimal("60.00"), Decimal("60.00"))
    assert not k.meets_threshold(Decimal("59.99"), Decimal("60.00"))


# --- item 3: the internal credit rating ---------------------------------------------------------------------------


def test_the_credit_rating_steps_down_the_scale_to_zero_at_c_and_d() -> None:
    # when
    ratings = {grade: k.credit_standing(grade, DEFAULT_SCALE, 5) for grade in DEFAULT_SCALE}
    # then
    assert {grade: r.rating for grade, r in ratings.items() if r} == {
        "AAA": 5, "AA": 4, "A": 4, "BBB": 3, "BB": 3, "B": 2, "CCC": 1, "CC": 1, "C": 0, "D": 0,
    }  # fmt: skip
    assert ratings["AA"] == k.AutoRating(k.CREDIT_STANDING, 4, k.CreditFacts("AA"))


def test_the_credit_rating_follows_the_items_scale() -> None:
    assert k.credit_standing("AAA", DEFAULT_SCALE, 10).rating == 10  # type: ignore[union-attr]
    assert k.credit_standing("BBB", DEFAULT_SCALE, 10).rating == 6  # type: ignore[union-attr]


def test_no_credit_rating_leaves_item_3_to_the_rm() -> None:
    assert k.credit_standing("", DEFAULT_SCALE, 5) is None
    assert k.credit_standing("Z", DEFAULT_SCALE, 5) is None


# --- item 5: debt ratio and revenue growth ---------------------------------------------------------------------------


def statements(
    liabilities: str, revenue: str, previous_revenue: str | None, *, gap: int = 1
) -> tuple[Statement, Statement | None]:
    latest = Statement(2024, Decimal("10000.00"), Decimal(liabilities), Decimal(revenue))
    previous = (
        None
        if previous_revenue is None
        else Statement(2024 - gap, Decimal("9000.00"), Decimal(0), Decimal(previous_revenue))
    )
    return latest, previous


@pytest.mark.parametrize(
    ("liabilities", "band"),
    [("4999.99", "good"), ("5000.00", "good"), ("5000.01", "fair"), ("7000.00", "fair"), ("7000.01", "poor")],
)
def test_debt_ratio_bands(liabilities: str, band: str) -> None:
    # given: assets 10,000
    latest, _ = statements(liabilities, "100", None)
    # when
    auto = k.financial_structure(latest, None, 5)
    # then
    assert auto is not None and isinstance(auto.facts, k.FinanceFacts)
    assert auto.facts.debt_band == band
    assert auto.facts.debt_ratio == Decimal(liabilities) / 10000


@pytest.mark.parametrize(
    ("revenue", "band"),
    [("1100.00", "good"), ("1099.99", "fair"), ("1000.00", "fair"), ("999.99", "poor")],
)
def test_revenue_growth_bands(revenue: str, band: str) -> None:
    # given: revenue 1,000 the year before
    latest, previous = statements("4000", revenue, "1000.00")
    # when
    auto = k.financial_structure(latest, previous, 5)
    # then
    assert auto is not None and isinstance(auto.facts, k.FinanceFacts)
    assert auto.facts.growth_band == band


@pytest.mark.parametrize(
    ("liabilities", "revenue", "rating"),
    [
        ("4000", "1200", 5),  # good + good: 4 of 4
        ("4000", "1050", 4),  # good + fair: 3 of 4 → 3.75
        ("6000", "1200", 4),  # fair + good
        ("6000", "1050", 3),  # fair + fair: 2.5 → 3 (half-up)
        ("4000", "900", 3),  # good + poor
        ("6000", "900", 1),  # fair + poor: 1.25
        ("8000", "900", 0),  # poor + poor
    ],
)
def test_debt_and_growth_combine_onto_the_scale(liabilities: str, revenue: str, rating: int) -> None:
    latest, previous = statements(liabilities, revenue, "1000")
    auto = k.financial_structure(latest, previous, 5)
    assert auto is not None and auto.rating == rating


def test_without_the_year_before_the_debt_ratio_alone_decides() -> None:
    # given: one statement only, or the one before is two years back
    latest, _ = statements("6000", "1200", None)
    gap_latest, gap_previous = statements("6000", "1200", "1000", gap=2)
    # when
    alone = k.financial_structure(latest, None, 5)
    gapped = k.financial_structure(gap_latest, gap_previous, 5)
    # then: fair is 1 of 2 points → 2.5 → 3
    assert alone is not None and alone.rating == 3
    assert gapped == alone
    assert isinstance(alone.facts, k.FinanceFacts) and alone.facts.revenue_growth is None


def test_growth_is_read_exactly() -> None:
    latest, previous = statements("4520", "1120", "1000")
    auto = k.financial_structure(latest, previous, 5)
    assert auto is not None and isinstance(auto.facts, k.FinanceFacts)
    assert (k.percent(auto.facts.debt_ratio), k.percent(auto.facts.revenue_growth or Decimal(0))) == (
        Decimal("45.2"),
        Decimal("12.0"),
    )


def test_no_statement_or_no_assets_leaves_item_5_to_the_rm() -> None:
    assert k.financial_structure(None, None, 5) is None
    empty = Statement(2024, Decimal(0), Decimal(0), Decimal(0))
    assert k.financial_structure(empty, None, 5) is None


# --- items 1, 11 and 12 ----------------------------------------------------------------------------------------------


def test_an_encouraged_industry_gets_the_top_rating_and_others_zero() -> None:
    encouraged = frozenset({"39", "65"})
    assert k.encouraged_industry("39", encouraged, 5) == k.AutoRating(1, 5, k.IndustryFacts("39", True))
    assert k.encouraged_industry("13", encouraged, 5) == k.AutoRating(1, 0, k.IndustryFacts("13", False))


def test_without_an_industry_list_or_industry_item_1_is_the_rms() -> None:
    assert k.encouraged_industry("39", frozenset(), 5) is None
    assert k.encouraged_industry("", frozenset({"39"}), 5) is None


@pytest.mark.parametrize(
    ("entries", "matched"),
    [(("330100",), "330100"), (("3301",), "3301"), (("33",), "33"), (("32", "330200"), None), (("3302", "33"), "33")],
)
def test_a_region_matches_a_city_a_city_prefix_or_a_province(entries: tuple[str, ...], matched: str | None) -> None:
    # when
    auto = k.promising_region("330100", entries, 5)
    # then
    assert auto == k.AutoRating(11, 5 if matched else 0, k.RegionFacts("330100", matched))


def test_without_a_region_list_or_region_item_11_is_the_rms() -> None:
    assert k.promising_region("330100", (), 5) is None
    assert k.promising_region("", ("33",), 5) is None


@pytest.mark.parametrize(
    ("suppliers", "buyers", "rating"),
    [(3, 3, 5), (7, 4, 5), (3, 0, 3), (2, 2, 3), (1, 1, 2), (1, 0, 1), (0, 5, 3)],
)
def test_stable_partners_count_up_to_three_a_side(suppliers: int, buyers: int, rating: int) -> None:
    auto = k.stable_partners(suppliers, buyers, 5)
    assert auto == k.AutoRating(12, rating, k.PartnerFacts(suppliers, buyers))


def test_no_partner_on_record_leaves_item_12_to_the_rm() -> None:
    assert k.stable_partners(0, 0, 5) is None


def test_auto_ratings_rates_the_data_items_of_the_card() -> None:
    # given
    policy = k.Policy(DEFAULT_SCALE, frozenset({"39"}), ("33",))
    facts = k.ProspectFacts(credit_rating="AAA", industry="39", region="330100", suppliers=3, buyers=3)
    # when
    ratings = k.auto_ratings(facts, policy, {1: 5, 3: 10, 5: 5, 11: 5, 12: 5})
    only_two = k.auto_ratings(facts, policy, {3: 5, 12: 5})
    # then
    assert {c: r.rating if r else None for c, r in ratings.items()} == {1: 5, 3: 10, 5: None, 11: 5, 12: 5}
    assert set(only_two) == {3, 12}


def test_every_combination_of_band_points_stays_on_the_scale() -> None:
    for top, (debt, growth) in itertools.product(
        range(1, 11), itertools.product(("4000", "6000", "8000"), ("1200", "1050", "900"))
    ):
        latest, previous = statements(debt, growth, "1000")
        auto = k.financial_structure(latest, previous, top)
        assert auto is not None and 0 <= auto.rating <= top


def test_the_kernel_runs_without_django() -> None:
    # given / when: a fresh interpreter imports the kernel alone
    code = "import sys, rmdesk.development.scorecard; print(sorted(m for m in sys.modules if m.startswith('django')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # then
    assert result.stdout.strip() == "[]"
