"""The collection reads (postloan.queries) on the small book of conftest.py, to the fen: the calendar per scope, the
overdue list with its last contact and promise, the classification queue, and portfolio quality with its
migration matrix and trend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rmdesk.core.errors import NotFoundError
from rmdesk.loans.choices import Classification, LoanStatus
from rmdesk.loans.models import LoanContract
from rmdesk.postloan import queries
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.queries import (
    OVERDUE_ORDERS,
    MigrationCell,
    classification_queue,
    collection_calendar,
    dues,
    overdue_loans,
    overdue_totals,
    portfolio_quality,
)
from tests.personas import Bank, make_customer
from tests.postloan.conftest import AS_OF, Book
from tests.postloan.factories import collection_log, make_loan, snapshot

D = Decimal


def lines(section: list) -> list[tuple]:
    return [
        (line.contract_no, line.due_date, line.principal, line.interest, line.penalty, line.total) for line in section
    ]


# --- the calendar ----------------------------------------------------------------------------------------------------


def test_an_rms_calendar_lists_the_overdue_first_then_this_weeks_and_this_months_dues(bank: Bank, book: Book) -> None:
    # when
    calendar = collection_calendar(bank.alice, today=AS_OF)
    # then
    assert (calendar.week_start, calendar.week_end, calendar.month) == (
        date(2026, 3, 16),
        date(2026, 3, 22),
        date(2026, 3, 1),
    )
    assert lines(calendar.overdue) == [
        ("HT-OVERDUE", date(2026, 2, 6), D("100000.00"), D("3625.00"), D("751.28"), D("104376.28")),
        ("HT-OVERDUE", date(2026, 3, 6), D("100000.00"), D("3262.50"), D("224.60"), D("103487.10")),
    ]
    assert [line.days_overdue for line in calendar.overdue] == [40, 12]
    assert lines(calendar.this_week) == [
        ("HT-CURRENT", date(2026, 3, 20), D("100000.00"), D("2900.00"), D("0.00"), D("102900.00"))
    ]
    assert lines(calendar.this_month) == lines(calendar.this_week)
    assert calendar.later_this_month == []
    assert (calendar.overdue_totals.lines, calendar.overdue_totals.total) == (2, D("207863.38"))
    assert calendar.overdue_totals.penalty == D("975.88")
    assert (calendar.week_totals.lines, calendar.week_totals.total) == (1, D("102900.00"))


def test_the_month_grid_runs_monday_to_sunday_with_each_days_dues(bank: Bank, book: Book) -> None:
    # when
    calendar = collection_calendar(bank.alice, today=AS_OF)
    # then
    days = {cell.day: cell for week in calendar.weeks for cell in week}
    assert [len(week) for week in calendar.weeks] == [7] * 6
    assert calendar.weeks[0][0].day == date(2026, 2, 23) and calendar.weeks[-1][-1].day == date(2026, 4, 5)
    assert (days[date(2026, 3, 6)].lines, days[date(2026, 3, 6)].total, days[date(2026, 3, 6)].overdue) == (
        1,
        D("103487.10"),
        True,
    )
    assert (days[date(2026, 3, 20)].lines, days[date(2026, 3, 20)].total, days[date(2026, 3, 20)].overdue) == (
        1,
        D("102900.00"),
        False,
    )
    assert days[date(2026, 3, 18)].is_today
    assert not days[date(2026, 2, 23)].in_month
    # February's overdue instalment is in the overdue list, not on March's grid
    assert sum(cell.lines for cell in days.values()) == 2


def test_a_lead_sees_the_teams_dues_and_narrows_them_to_one_rm(bank: Bank, book: Book) -> None:
    # when
    team = collection_calendar(bank.lead, today=AS_OF)
    daves = collection_calendar(bank.lead, today=AS_OF, rm=bank.dave)
    # then
    assert [line.contract_no for line in team.this_month] == ["HT-CURRENT", "HT-DAVE"]
    assert [line.contract_no for line in team.later_this_month] == ["HT-DAVE"]
    assert team.later_this_month[0].total == D("103625.00")  # 100,000.00 + 1,000,000.00 × 4.35% / 12
    assert [line.contract_no for line in daves.overdue + daves.this_month] == ["HT-DAVE"]


def test_a_branch_head_sees_the_branch_and_never_the_other_branch(bank: Bank, book: Book) -> None:
    # when
    calendar = collection_calendar(bank.head, today=AS_OF)
    # then
    assert [line.contract_no for line in calendar.this_week] == ["HT-BOB", "HT-CURRENT"]
    assert {line.contract_no for line in calendar.overdue} == {"HT-OVERDUE"}


def test_another_month_shows_its_dues_and_still_the_overdue(bank: Bank, book: Book) -> None:
    # when
    april = collection_calendar(bank.alice, today=AS_OF, month=date(2026, 4, 9))
    # then
    assert april.month == date(2026, 4, 1)
    assert [(line.contract_no, line.due_date) for line in april.this_month] == [
        ("HT-OVERDUE", date(2026, 4, 6)),
        ("HT-CURRENT", date(2026, 4, 20)),
    ]
    assert len(april.overdue) == 2
    assert [line.contract_no for line in april.this_week] == ["HT-CURRENT"]


def test_a_paid_instalment_and_a_closed_loan_are_not_on_the_calendar(bank: Bank, book: Book) -> None:
    # given
    closed = make_loan(book.xihu, start=date(2025, 3, 20), paid_through=date(2026, 3, 20), contract_no="HT-CLOSED")
    closed.status = LoanStatus.CLOSED
    closed.save()
    # when
    calendar = collection_calendar(bank.alice, today=AS_OF)
    # then
    assert "HT-CLOSED" not in {line.contract_no for line in calendar.overdue + calendar.this_month}


def test_a_role_without_customer_access_has_no_calendar(bank: Bank, book: Book) -> None:
    with pytest.raises(NotFoundError):
        collection_calendar(bank.admin, today=AS_OF)


# --- the overdue list ------------------------------------------------------------------------------------------------


def test_the_overdue_list_has_the_last_contact_and_the_earliest_open_promise(bank: Bank, book: Book) -> None:
    # given
    collection_log(book.overdue, bank.alice, contacted_on=date(2026, 3, 2))
    collection_log(
        book.overdue,
        bank.alice,
        contacted_on=date(2026, 3, 10),
        promise_date=date(2026, 3, 31),
        promise_amount=D("50000"),
    )
    collection_log(
        book.overdue,
        bank.alice,
        contacted_on=date(2026, 3, 1),
        promise_date=date(2026, 3, 25),
        promise_amount=D("8000"),
    )
    # when
    loans = list(overdue_loans(bank.alice).order_by(*OVERDUE_ORDERS["-dpd"]))
    # then
    assert [loan.contract_no for loan in loans] == ["HT-OVERDUE"]
    loan = loans[0]
    assert (loan.days_past_due, loan.overdue_principal, loan.overdue_interest, loan.penalty_unpaid) == (
        40,
        D("200000.00"),
        D("6887.50"),
        D("975.88"),
    )
    assert (loan.last_contact, loan.promise_date, loan.promise_amount) == (
        date(2026, 3, 10),
        date(2026, 3, 25),
        D("8000.00"),
    )


def test_the_overdue_list_filters_by_band_proposal_and_promise(bank: Bank, book: Book) -> None:
    # given
    book.carols.proposed_classification = Classification.SPECIAL_MENTION
    book.carols.save()
    collection_log(book.overdue, bank.alice, promise_date=date(2026, 3, 25), promise_amount=D("8000"))
    collection_log(book.carols, bank.carol, promise_status=PromiseStatus.BROKEN)

    def contracts(**filters: object) -> list[str]:
        return sorted(loan.contract_no for loan in overdue_loans(bank.risk, **filters))  # type: ignore[arg-type]

    # then
    assert contracts() == ["HT-CAROL", "HT-OVERDUE"]
    assert contracts(band="31-90") == ["HT-CAROL", "HT-OVERDUE"]
    assert contracts(band="1-30") == []
    assert contracts(proposal=True) == ["HT-CAROL"]
    assert contracts(proposal=False) == ["HT-OVERDUE"]
    assert contracts(promise=PromiseStatus.OPEN) == ["HT-OVERDUE"]
    assert contracts(promise=PromiseStatus.BROKEN) == ["HT-CAROL"]
    assert contracts(promise=PromiseStatus.NONE) == ["HT-CAROL"]
    assert contracts(unit=bank.branch2) == ["HT-CAROL"]
    assert contracts(rm=bank.alice) == ["HT-OVERDUE"]


def test_the_overdue_totals_add_cny_loans_and_count_the_others(bank: Bank, book: Book) -> None:
    # given
    book.carols.currency = "USD"
    book.carols.save()
    # when
    totals = overdue_totals(overdue_loans(bank.risk))
    # then
    assert (totals.loans, totals.other_currency_loans) == (2, 1)
    assert (totals.overdue_principal, totals.overdue_interest, totals.penalty) == (
        D("200000.00"),
        D("6887.50"),
        D("975.88"),
    )


# --- the classification queue ----------------------------------------------------------------------------------------


def test_the_queue_lists_proposals_worst_first_for_the_risk_officer_only(bank: Bank, book: Book) -> None:
    # given
    book.overdue.proposed_classification = Classification.SPECIAL_MENTION
    book.overdue.save()
    book.carols.proposed_classification = Classification.SUBSTANDARD
    book.carols.save()
    # when
    queue = [loan.contract_no for loan in classification_queue(bank.risk)]
    # then
    assert queue == ["HT-CAROL", "HT-OVERDUE"]
    assert [loan.contract_no for loan in classification_queue(bank.risk, unit=bank.branch1)] == ["HT-OVERDUE"]
    with pytest.raises(NotFoundError):
        classification_queue(bank.head)


# --- portfolio quality -----------------------------------------------------------------------------------------------


@pytest.fixture
def snapshots(book: Book) -> None:
    """January and February month ends of the lead's team: HT-CURRENT stays normal, HT-OVERDUE moves to special
    mention, HT-DAVE is new in February, and a small loan repaid in February left the book."""
    repaid = make_loan(book.xihu, start=date(2025, 2, 10), amount="600000.00", contract_no="HT-REPAID")
    repaid.status = LoanStatus.CLOSED
    repaid.save()
    january, february = date(2026, 1, 1), date(2026, 2, 1)
    snapshot(book.current, january, outstanding_principal=D("1000000.00"))
    snapshot(book.current, february, outstanding_principal=D("900000.00"))
    snapshot(book.overdue, january, outstanding_principal=D("1000000.00"))
    snapshot(
        book.overdue,
        february,
        Classification.SPECIAL_MENTION,
        outstanding_principal=D("1000000.00"),
        overdue_principal=D("100000.00"),
    )
    snapshot(book.daves, february, outstanding_principal=D("1100000.00"))
    snapshot(repaid, january, outstanding_principal=D("50000.00"))


def test_a_leads_portfolio_has_the_overdue_and_npl_ratios_per_rm(bank: Bank, book: Book) -> None:
    # given
    book.overdue.classification = Classification.SUBSTANDARD
    book.overdue.save()
    # when
    quality = portfolio_quality(bank.lead, today=AS_OF)
    # then
    total = quality.total
    assert (total.loans, total.outstanding, total.overdue_loans, total.overdue_balance) == (
        3,
        D("2800000.00"),
        1,
        D("1000000.00"),
    )
    assert (total.overdue_ratio, total.npl_ratio, total.overdue_principal_ratio) == (
        D("35.71"),
        D("35.71"),
        D("7.14"),
    )
    assert [(row.name, row.loans, row.outstanding, row.npl_ratio) for row in quality.rms] == [
        ("Alice", 2, D("1800000.00"), D("55.56")),
        ("Dave", 1, D("1000000.00"), D("0.00")),
    ]
    assert [(row.name, row.outstanding) for row in quality.teams] == [("公司一组", D("2800000.00"))]
    assert [(category, loans, amount, share) for category, loans, amount, share in quality.classes] == [
        (Classification.NORMAL, 2, D("1800000.00"), D("64.29")),
        (Classification.SPECIAL_MENTION, 0, D("0.00"), D("0.00")),
        (Classification.SUBSTANDARD, 1, D("1000000.00"), D("35.71")),
        (Classification.DOUBTFUL, 0, D("0.00"), D("0.00")),
        (Classification.LOSS, 0, D("0.00"), D("0.00")),
    ]


def test_the_migration_matrix_compares_the_last_two_month_ends(bank: Bank, book: Book, snapshots: None) -> None:
    # when
    quality = portfolio_quality(bank.lead, today=AS_OF)
    # then
    migration = quality.migration
    assert migration is not None
    assert (migration.from_month, migration.to_month) == (date(2026, 1, 1), date(2026, 2, 1))
    assert migration.cells == {
        (Classification.NORMAL, Classification.NORMAL): MigrationCell(1, D("1000000.00")),
        (Classification.NORMAL, Classification.SPECIAL_MENTION): MigrationCell(1, D("1000000.00")),
        (Classification.NORMAL, None): MigrationCell(1, D("50000.00")),
        (None, Classification.NORMAL): MigrationCell(1, D("1100000.00")),
    }
    assert migration.downgraded() == MigrationCell(1, D("1000000.00"))
    assert [(p.month, p.loans, p.outstanding, p.overdue_principal, p.npl_balance) for p in quality.trend] == [
        (date(2026, 1, 1), 3, D("2050000.00"), D("0.00"), D("0.00")),
        (date(2026, 2, 1), 3, D("3000000.00"), D("100000.00"), D("0.00")),
    ]
    assert quality.trend[1].overdue_principal_ratio == D("3.33")


def test_the_migration_can_end_at_an_earlier_month(bank: Bank, book: Book, snapshots: None) -> None:
    # when
    quality = portfolio_quality(bank.lead, today=AS_OF, month=date(2026, 1, 1))
    # then: nothing before January to compare with
    assert quality.migration is None
    assert [point.month for point in quality.trend] == [date(2026, 1, 1)]


def test_a_branch_heads_portfolio_narrows_to_a_unit_and_never_reaches_the_other_branch(bank: Bank, book: Book) -> None:
    # when
    branch = portfolio_quality(bank.head, today=AS_OF)
    team2 = portfolio_quality(bank.head, today=AS_OF, unit=bank.team2)
    other = portfolio_quality(bank.head, today=AS_OF, unit=bank.branch2)
    # then
    assert (branch.total.loans, branch.total.outstanding) == (4, D("4000000.00"))
    assert [row.name for row in branch.teams] == ["公司一组", "公司二组"]
    assert (team2.total.loans, [row.name for row in team2.rms]) == (1, ["Bob"])
    assert other.total.loans == 0
    assert other.total.overdue_ratio is None


def test_a_units_portfolio_is_what_it_books_not_what_its_rms_serve_as_co_rm(bank: Bank, book: Book) -> None:
    # given: alice (branch 1) is co-RM of a customer of carol's branch, which has a loan the head of branch 1 may see
    shared = make_customer(bank.carol, name="甬江船舶有限公司", co_rms=(bank.alice,))
    loan = make_loan(shared, start=date(2026, 1, 10), contract_no="HT-SHARED", amount="500000.00")
    assert LoanContract.objects.restrict(bank.head).filter(pk=loan.pk).exists()
    # when
    branch = portfolio_quality(bank.head, today=AS_OF)
    lead = portfolio_quality(bank.lead, today=AS_OF)
    carols_branch = portfolio_quality(bank.risk, today=AS_OF, unit=bank.branch2)
    # then: the loan is in carol's branch's portfolio, not in alice's branch's or team's
    assert (branch.unit, branch.total.loans, branch.total.outstanding) == (bank.branch1, 4, D("4000000.00"))
    assert (lead.unit, lead.total.loans) == (bank.team1, 3)
    assert (carols_branch.total.loans, carols_branch.total.outstanding) == (
        2,
        book.carols.outstanding_principal + D("500000.00"),
    )


def test_a_calendar_scope_too_large_for_a_list_of_ids_reads_the_same_by_subquery(
    bank: Bank, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    calendar_by_list = collection_calendar(bank.head, today=AS_OF)
    # when
    monkeypatch.setattr(dues, "LOAN_ID_LIST_MAX", 0)
    calendar_by_subquery = collection_calendar(bank.head, today=AS_OF)
    # then
    assert calendar_by_subquery == calendar_by_list


def test_the_scope_restated_by_index_selects_what_restrict_selects(bank: Bank, book: Book) -> None:
    # given: alice is co-RM of a customer of carol's branch, which has a loan
    shared = make_customer(bank.carol, name="甬江船舶有限公司", co_rms=(bank.alice,))
    make_loan(shared, start=date(2026, 1, 10), contract_no="HT-SHARED")
    # then
    for user in (bank.alice, bank.dave, bank.lead, bank.head, bank.risk, bank.auditor, bank.carol, bank.officer):
        restricted = set(LoanContract.objects.restrict(user).values_list("pk", flat=True))
        mine = (
            set(queries.scoped_loans(user).values_list("pk", flat=True))
            if restricted or user != bank.officer
            else set()
        )
        assert mine == restricted, user.username
    assert "HT-SHARED" in set(queries.scoped_loans(bank.alice).values_list("contract_no", flat=True))


def test_sums_are_exact_to_the_fen_however_large(bank: Bank, book: Book) -> None:
    # given: amounts whose sum SQLite would give as a binary float, read back at 15 digits as ...926.30
    amounts = {book.current: "7408655322280.85", book.overdue: "1710549243647.40", book.daves: "2327628295998.04"}
    for loan, amount in amounts.items():
        LoanContract.objects.filter(pk=loan.pk).update(outstanding_principal=D(amount), overdue_principal=D(amount))
    # when
    quality = portfolio_quality(bank.lead, today=AS_OF)
    # then
    assert quality.total.outstanding == D("11446832861926.29")
    assert sum((row.outstanding for row in quality.rms), D("0.00")) == D("11446832861926.29")
