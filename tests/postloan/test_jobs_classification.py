"""The five-category proposal from days past due (domain.md §5): thresholds, the settings, a downgrade never undone
automatically, and the proposal cleared when it agrees with the confirmed classification."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command

from rmdesk.loans.choices import Classification
from rmdesk.loans.models import LoanContract
from rmdesk.postloan.jobs import classification
from rmdesk.postloan.jobs.common import WHOLE_BANK
from tests.batch.factories import make_loan
from tests.personas import Bank

ON = date(2026, 3, 11)
SCHEDULE = [(date(2026, 6, 10), "100000.00", "435.00")]


def loan_with(bank: Bank, *, days_past_due: int, confirmed: int = Classification.NORMAL) -> LoanContract:
    """A loan whose state the standing job left at `days_past_due`, with `confirmed` as its classification."""
    loan = make_loan(bank.alice, SCHEDULE)
    LoanContract.objects.filter(pk=loan.pk).update(days_past_due=days_past_due, classification=confirmed)
    return loan


def proposal(loan: LoanContract) -> tuple[int, int | None]:
    loan.refresh_from_db()
    return loan.classification, loan.proposed_classification


@pytest.mark.parametrize(
    ("days_past_due", "proposed"),
    [
        (0, None),
        (1, Classification.SPECIAL_MENTION),
        (90, Classification.SPECIAL_MENTION),
        (91, Classification.SUBSTANDARD),
        (270, Classification.SUBSTANDARD),
        (271, Classification.DOUBTFUL),
        (360, Classification.DOUBTFUL),
        (361, Classification.LOSS),
        (2000, Classification.LOSS),
    ],
)
def test_days_past_due_propose_the_category_above_each_threshold(
    bank: Bank, days_past_due: int, proposed: int | None
) -> None:
    # given
    loan = loan_with(bank, days_past_due=days_past_due)
    # when
    classification.run(on=ON, customers=WHOLE_BANK)
    # then: the confirmed classification is untouched; a person confirms
    assert proposal(loan) == (Classification.NORMAL, proposed)


def test_the_thresholds_are_settings(bank: Bank, settings: Any) -> None:
    # given: a bank stricter than the rule's minimum
    settings.CLASSIFY_SUBSTANDARD_DAYS, settings.CLASSIFY_DOUBTFUL_DAYS, settings.CLASSIFY_LOSS_DAYS = 60, 180, 300
    loans = [loan_with(bank, days_past_due=days) for days in (61, 181, 301)]
    # when
    classification.run(on=ON, customers=WHOLE_BANK)
    # then
    assert [proposal(loan)[1] for loan in loans] == [
        Classification.SUBSTANDARD,
        Classification.DOUBTFUL,
        Classification.LOSS,
    ]


def test_a_downgrade_is_never_undone_automatically(bank: Bank) -> None:
    # given: confirmed substandard; the arrears since repaid (no days past due)
    cured = loan_with(bank, days_past_due=0, confirmed=Classification.SUBSTANDARD)
    # and confirmed substandard, now 30 days past due (special mention by days alone)
    better = loan_with(bank, days_past_due=30, confirmed=Classification.SUBSTANDARD)
    # when
    classification.run(on=ON, customers=WHOLE_BANK)
    # then: no proposal to go back up: the confirmed category stands
    assert proposal(cured) == (Classification.SUBSTANDARD, None)
    assert proposal(better) == (Classification.SUBSTANDARD, None)


def test_a_proposal_follows_the_days_and_is_cleared_when_it_agrees(bank: Bank) -> None:
    # given: a proposal of substandard waiting, then part repaid down to 40 days, then a person confirmed special
    # mention
    loan = loan_with(bank, days_past_due=100)
    classification.run(on=ON, customers=WHOLE_BANK)
    assert proposal(loan) == (Classification.NORMAL, Classification.SUBSTANDARD)
    LoanContract.objects.filter(pk=loan.pk).update(days_past_due=40)
    classification.run(on=ON, customers=WHOLE_BANK)
    assert proposal(loan) == (Classification.NORMAL, Classification.SPECIAL_MENTION)
    LoanContract.objects.filter(pk=loan.pk).update(classification=Classification.SPECIAL_MENTION)
    # when
    counts = classification.run(on=ON, customers=WHOLE_BANK)
    # then
    assert proposal(loan) == (Classification.SPECIAL_MENTION, None)
    assert counts["cleared"] == 1


def test_a_second_run_changes_no_proposal(bank: Bank) -> None:
    # given
    for days in (1, 91, 271, 361):
        loan_with(bank, days_past_due=days)
    classification.run(on=ON, customers=WHOLE_BANK)
    # when
    counts = classification.run(on=ON, customers=WHOLE_BANK)
    # then
    assert set(counts.values()) == {0}


def test_ninety_one_days_unpaid_propose_substandard_through_the_end_of_day(bank: Bank, settings: Any) -> None:
    # given: an instalment due 2026-02-10 never paid
    settings.LANGUAGE_CODE = "en"
    loan = make_loan(bank.alice, [(date(2026, 2, 10), "100000.00", "435.00"), (date(2026, 8, 10), "1.00", "0.00")])
    call_command("eod", "--date", "2026-02-10", stdout=io.StringIO())
    # when: 90 days later, then 91
    call_command("eod", "--until", "2026-05-11", stdout=io.StringIO())
    at_90 = proposal(loan)
    call_command("eod", "--until", "2026-05-12", stdout=io.StringIO())
    # then
    assert at_90 == (Classification.NORMAL, Classification.SPECIAL_MENTION)
    assert proposal(loan) == (Classification.NORMAL, Classification.SUBSTANDARD)
    assert loan.days_past_due == 91
