"""The development funnel: reached per stage (from the history), conversion, drops and reasons, per source and RM,
time to convert — exact on a hand-made history, and never beyond the user's scope."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from rmdesk.core.errors import NotFoundError
from rmdesk.development.choices import Source, Stage
from rmdesk.development.funnel import POOL, Period, day_percentiles, funnel_for, last_twelve_months, rate
from rmdesk.development.models import Prospect
from tests.development.factories import make_prospect
from tests.personas import Bank

YEAR_2024 = Period(start=date(2024, 1, 1), end=date(2024, 12, 31))
JAN = date(2024, 1, 10)


def alices_history(bank: Bank) -> list[Prospect]:
    """Seven prospects found in 2024 in alice's book, and one found before it."""
    return [
        make_prospect(bank.alice, found_on=JAN, source=Source.MEDIA),
        make_prospect(bank.alice, found_on=JAN, source=Source.MEDIA, steps=[("contacted", 3)]),
        make_prospect(
            bank.alice,
            found_on=JAN,
            source=Source.GOVERNMENT,
            steps=[("contacted", 3), ("visited", 8), ("dropped", 12)],
            drop_reason="需求不足",
        ),
        make_prospect(
            bank.alice,
            found_on=JAN,
            source=Source.GOVERNMENT,
            steps=[("contacted", 3), ("visited", 8), ("proposal", 20), ("won", 30)],
        ),
        # Skips 接触 and 方案: it still counts at every stage up to 开户/签约.
        make_prospect(bank.alice, found_on=JAN, source=Source.PERSONAL_CONTACTS, steps=[("visited", 4), ("won", 10)]),
        make_prospect(bank.alice, found_on=JAN, source=Source.MEDIA, steps=[("dropped", 2)], drop_reason="需求不足"),
        make_prospect(
            bank.alice,
            found_on=JAN,
            source=Source.PERSONAL_CONTACTS,
            steps=[("contacted", 1), ("dropped", 5)],
            drop_reason="已有合作银行",
        ),
        make_prospect(bank.alice, found_on=date(2023, 12, 31), source=Source.MEDIA, steps=[("won", 5)]),
    ]


def test_the_funnel_counts_every_stage_a_prospect_reached_and_the_rates_between(bank: Bank) -> None:
    # given
    alices_history(bank)
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    assert funnel.found == 7
    assert [(step.stage, step.reached) for step in funnel.stages] == [
        (Stage.IDENTIFIED, 7),
        (Stage.CONTACTED, 5),
        (Stage.VISITED, 3),
        (Stage.PROPOSAL, 2),
        (Stage.WON, 2),
    ]
    assert [step.to_next for step in funnel.stages] == [
        Decimal("71.4"),
        Decimal("60.0"),
        Decimal("66.7"),
        Decimal("100.0"),
        None,
    ]
    assert funnel.overall_rate == Decimal("28.6")


def test_the_funnel_counts_drops_at_the_stage_they_happened_with_the_top_reasons(bank: Bank) -> None:
    # given
    alices_history(bank)
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    steps = {step.stage: step for step in funnel.stages}
    assert funnel.dropped == 3
    assert (steps[Stage.IDENTIFIED].dropped, steps[Stage.IDENTIFIED].drop_reasons) == (1, [("需求不足", 1)])
    assert (steps[Stage.CONTACTED].dropped, steps[Stage.CONTACTED].drop_reasons) == (1, [("已有合作银行", 1)])
    assert (steps[Stage.VISITED].dropped, steps[Stage.VISITED].drop_reasons) == (1, [("需求不足", 1)])
    assert steps[Stage.PROPOSAL].dropped == 0


def test_a_reopened_and_dropped_again_prospect_counts_once_at_its_last_drop(bank: Bank) -> None:
    # given
    make_prospect(
        bank.alice,
        found_on=JAN,
        steps=[("contacted", 1), ("dropped", 2), ("identified", 5), ("dropped", 6)],
        drop_reason="联系不上",
    )
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    steps = {step.stage: step for step in funnel.stages}
    assert funnel.dropped == 1
    assert steps[Stage.IDENTIFIED].drop_reasons == [("联系不上", 1)]
    assert steps[Stage.CONTACTED].dropped == 0
    assert steps[Stage.CONTACTED].reached == 1  # it did reach 接触 before


def test_the_top_reasons_are_the_most_frequent_three(bank: Bank) -> None:
    # given
    for reason, times in (("甲", 1), ("乙", 3), ("丙", 2), ("丁", 2)):
        for _ in range(times):
            make_prospect(bank.alice, found_on=JAN, steps=[("dropped", 1)], drop_reason=reason)
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    assert funnel.stages[0].dropped == 8
    assert funnel.stages[0].drop_reasons == [("乙", 3), ("丁", 2), ("丙", 2)]  # ties in text order: 丁 < 丙


def test_the_funnel_per_source_gives_found_won_and_rate_for_all_twelve(bank: Bank) -> None:
    # given
    alices_history(bank)
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    assert [row.key for row in funnel.by_source] == list(range(1, 13))
    rows = {row.key: (row.found, row.won, row.rate) for row in funnel.by_source}
    assert rows[Source.MEDIA] == (3, 0, Decimal("0.0"))
    assert rows[Source.GOVERNMENT] == (2, 1, Decimal("50.0"))
    assert rows[Source.PERSONAL_CONTACTS] == (2, 1, Decimal("50.0"))
    assert rows[Source.SEMINARS] == (0, 0, None)


def test_time_to_convert_is_the_median_and_90th_percentile_of_days_to_won(bank: Bank) -> None:
    # given
    alices_history(bank)  # won after 30 and 10 days
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    assert funnel.time_to_convert.won == 2
    assert funnel.time_to_convert.median_days == Decimal("20.0")
    assert funnel.time_to_convert.p90_days == 30


def test_day_percentiles_use_the_middle_and_the_nearest_rank() -> None:
    assert day_percentiles({}) == (None, None)
    assert day_percentiles({5: 1, 7: 1, 30: 1}) == (Decimal("7.0"), 30)
    assert day_percentiles({1: 1, 2: 1}) == (Decimal("1.5"), 2)
    assert day_percentiles({10: 9, 100: 1}) == (Decimal("10.0"), 10)
    assert day_percentiles({10: 8, 100: 2}) == (Decimal("10.0"), 100)


def test_rates_are_per_cent_half_up_to_a_tenth() -> None:
    assert rate(1, 16) == Decimal("6.3")  # 6.25: half-up, not to even
    assert rate(1, 3) == Decimal("33.3")
    assert rate(2, 3) == Decimal("66.7")
    assert rate(0, 5) == Decimal("0.0")
    assert rate(0, 0) is None


def test_the_default_period_is_the_last_twelve_months(bank: Bank) -> None:
    # given
    today = timezone.localdate()
    make_prospect(bank.alice, found_on=today - timedelta(days=30))
    make_prospect(bank.alice, found_on=today - timedelta(days=400))
    # when
    funnel = funnel_for(bank.alice)
    # then
    assert funnel.period == last_twelve_months(today)
    assert funnel.found == 1


def test_the_last_twelve_months_end_today_and_survive_29_february() -> None:
    assert last_twelve_months(date(2025, 3, 15)) == Period(start=date(2024, 3, 16), end=date(2025, 3, 15))
    assert last_twelve_months(date(2024, 2, 29)) == Period(start=date(2023, 3, 1), end=date(2024, 2, 29))


# --- scope ---------------------------------------------------------------------------------------------------------


def bank_of_prospects(bank: Bank) -> None:
    make_prospect(bank.alice, found_on=JAN, steps=[("won", 10)])
    make_prospect(bank.dave, found_on=JAN, steps=[("contacted", 1)])
    make_prospect(bank.dave, found_on=JAN, in_pool=True)  # in team 1's pool
    make_prospect(bank.bob, found_on=JAN, steps=[("visited", 2)])
    make_prospect(bank.carol, found_on=JAN, steps=[("won", 4)])


def test_an_rm_counts_their_own_book_only(bank: Bank) -> None:
    # given
    bank_of_prospects(bank)
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    assert funnel.found == 1
    assert funnel.by_rm is None


def test_a_lead_counts_the_team_with_a_row_per_rm_and_the_pool(bank: Bank) -> None:
    # given
    bank_of_prospects(bank)
    # when
    funnel = funnel_for(bank.lead, period=YEAR_2024)
    # then
    assert funnel.found == 3
    assert funnel.by_rm is not None
    rows = {row.key: (row.label, row.found, row.won, row.reached[Stage.CONTACTED]) for row in funnel.by_rm}
    assert rows == {
        bank.dave.pk: ("Dave", 1, 0, 1),
        bank.alice.pk: ("Alice", 1, 1, 1),
        None: (rows[None][0], 1, 0, 0),
    }


def test_a_branch_head_never_counts_another_branchs_prospects(bank: Bank) -> None:
    # given
    bank_of_prospects(bank)
    # when
    funnel = funnel_for(bank.head, period=YEAR_2024)
    # then
    assert funnel.found == 4
    assert funnel.stages[-1].reached == 1  # carol's win in branch 2 is not here
    assert funnel.time_to_convert.won == 1


def test_a_lead_can_look_at_one_rm_or_the_pool(bank: Bank) -> None:
    # given
    bank_of_prospects(bank)
    # when
    daves = funnel_for(bank.lead, period=YEAR_2024, rm=bank.dave.pk)
    pool = funnel_for(bank.lead, period=YEAR_2024, rm=POOL)
    # then
    assert daves.found == 1
    assert pool.found == 1


def test_a_merged_away_duplicate_is_not_counted(bank: Bank) -> None:
    # given
    kept = make_prospect(bank.alice, found_on=JAN)
    merged = make_prospect(bank.alice, found_on=JAN)
    Prospect.objects.filter(pk=merged.pk).update(merged_into=kept.customer)
    # when
    funnel = funnel_for(bank.alice, period=YEAR_2024)
    # then
    assert funnel.found == 1


@pytest.mark.parametrize("persona", ["admin", "officer"])
def test_a_role_without_customer_access_gets_not_found(bank: Bank, persona: str) -> None:
    with pytest.raises(NotFoundError):
        funnel_for(getattr(bank, persona), period=YEAR_2024)


def test_the_funnel_is_a_handful_of_queries_whatever_the_number_of_prospects(
    bank: Bank, django_assert_max_num_queries: object
) -> None:
    # given
    for n in range(20):
        make_prospect(bank.alice if n % 2 else bank.dave, found_on=JAN, steps=[("contacted", 1), ("won", n + 2)])
    # when / then: reach by (source, RM), drops, time to convert, and the RMs' names
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        funnel = funnel_for(bank.lead, period=YEAR_2024)
    assert funnel.found == 20
