"""Visit coverage per RM: exact numbers on a small bank, for a team lead, a branch head, a read-only role and an RM."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.coverage import Coverage, RMCoverage, team_coverage, weeks_to
from tests.personas import Bank, make_customer
from tests.visits.factories import aware, make_visit

TODAY = date(2026, 3, 11)  # a Wednesday: its ISO week starts on Monday 9 March
NOW = aware(2026, 3, 11, 12)
NO_VISITS = (0,) * 12


def opened(customer: Customer, day: date) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(created_at=aware(day.year, day.month, day.day))
    return customer


def done(customer: Customer, day: date, rm: User | None = None) -> None:
    make_visit(rm or customer.primary_rm, customer, status=VisitStatus.DONE, planned_start=aware(*day.timetuple()[:3]))


def weeks(**counts: int) -> tuple[int, ...]:
    """Visits per week, oldest first, given as w0=…, w11=… (w11 is today's week)."""
    return tuple(counts.get(f"w{n}", 0) for n in range(12))


@pytest.fixture
def small_bank(bank: Bank) -> dict[str, Customer]:
    """Team 1 (alice, dave), bob in team 2, carol in branch 2 with alice as co-RM of one of hers; files opened on
    1 June 2025 unless said. The weeks shown run from Monday 22 December 2025 (w0) to Monday 9 March 2026 (w11)."""
    c: dict[str, Customer] = {
        "a_core": make_customer(bank.alice, tier="core"),
        "a_key": make_customer(bank.alice, tier="key"),
        "a_general_old": make_customer(bank.alice, tier="general"),
        "a_general_new": make_customer(bank.alice, tier="general"),
        "a_strategic": make_customer(bank.alice, tier="strategic"),
        "a_prospect": make_customer(bank.alice, tier="strategic"),
        "d_strategic": make_customer(bank.dave, tier="strategic"),
        "d_core": make_customer(bank.dave, tier="core"),
        "d_key": make_customer(bank.dave, tier="key"),
        "b_general": make_customer(bank.bob, tier="general"),
        "c_shared": make_customer(bank.carol, tier="key", co_rms=(bank.alice,)),
        "c_own": make_customer(bank.carol, tier="general"),
    }
    for customer in c.values():
        opened(customer, date(2025, 6, 1))
    opened(c["a_general_new"], date(2026, 1, 20))
    Customer.objects.filter(pk=c["a_prospect"].pk).update(status="prospect")
    # alice: core covered (last 1 Feb), key lapsed (last 1 Nov), general never visited: one lapsed, one new;
    # strategic covered (2 Mar) with a plan overdue since 5 March
    done(c["a_core"], date(2026, 1, 10))  # Saturday of w2
    done(c["a_core"], date(2026, 2, 1))  # Sunday of w5
    done(c["a_key"], date(2025, 11, 1))
    done(c["a_strategic"], date(2026, 3, 2))  # Monday of w10
    make_visit(bank.alice, c["a_strategic"], planned_start=aware(2026, 3, 5))
    make_visit(bank.alice, c["a_strategic"], planned_start=aware(2026, 3, 4), status=VisitStatus.POSTPONED)
    done(c["a_prospect"], date(2026, 3, 3))  # a prospect counts nowhere
    # dave: strategic covered by the lead's visit on 9 March; core lapsed (last 22 Dec) with a plan not yet over;
    # key covered (1 January)
    done(c["d_strategic"], date(2026, 3, 9), rm=bank.lead)  # Monday of w11
    done(c["d_core"], date(2025, 12, 22))  # Monday of w0
    make_visit(bank.dave, c["d_core"], planned_start=aware(2026, 3, 11, 12, 30))
    done(c["d_key"], date(2026, 1, 1))  # Thursday of w1
    # bob: covered; carol: the shared one never visited (lapsed), her own covered
    done(c["b_general"], date(2026, 2, 10))  # w7
    done(c["c_own"], date(2026, 1, 5))  # w2
    return c


def row(user: User, customers: int, visited: int, coverage: str | None, lapsed: int, overdue: int,
        per_week: tuple[int, ...]) -> RMCoverage:  # fmt: skip
    return RMCoverage(
        rm_id=user.pk,
        rm_name=user.display_name,
        customers=customers,
        visited=visited,
        coverage=Decimal(coverage) if coverage is not None else None,
        lapsed=lapsed,
        overdue_plans=overdue,
        visits_per_week=per_week,
    )


def alice_row(bank: Bank) -> RMCoverage:
    return row(bank.alice, 5, 2, "40.0", 2, 1, weeks(w2=1, w5=1, w10=1))


def dave_row(bank: Bank) -> RMCoverage:
    return row(bank.dave, 3, 2, "66.7", 1, 0, weeks(w0=1, w1=1, w11=1))


def test_the_weeks_are_the_twelve_iso_weeks_up_to_today() -> None:
    mondays = weeks_to(TODAY)
    assert (len(mondays), mondays[0], mondays[-1]) == (12, date(2025, 12, 22), date(2026, 3, 9))


def test_a_team_lead_sees_each_rm_of_the_team(bank: Bank, small_bank: dict[str, Customer]) -> None:
    # when
    coverage = team_coverage(bank.lead, today=TODAY, now=NOW)
    # then: carol's customer comes in through alice, its co-RM
    assert coverage.rows == [alice_row(bank), dave_row(bank), row(bank.carol, 1, 0, "0.0", 1, 0, NO_VISITS)]
    assert coverage.total == RMCoverage(
        rm_id=None,
        rm_name="",
        customers=9,
        visited=4,
        coverage=Decimal("44.4"),
        lapsed=4,
        overdue_plans=1,
        visits_per_week=weeks(w0=1, w1=1, w2=1, w5=1, w10=1, w11=1),
    )
    assert coverage.week_labels[0] == "2025-W52"
    assert coverage.week_labels[-1] == "2026-W11"


def test_a_branch_head_sees_every_team_of_the_branch(bank: Bank, small_bank: dict[str, Customer]) -> None:
    coverage = team_coverage(bank.head, today=TODAY, now=NOW)
    assert coverage.rows == [
        alice_row(bank),
        dave_row(bank),
        row(bank.bob, 1, 1, "100.0", 0, 0, weeks(w7=1)),
        row(bank.carol, 1, 0, "0.0", 1, 0, NO_VISITS),
    ]
    assert (coverage.total.customers, coverage.total.visited, coverage.total.coverage) == (10, 5, Decimal("50.0"))


def test_a_risk_officer_sees_the_whole_bank(bank: Bank, small_bank: dict[str, Customer]) -> None:
    coverage = team_coverage(bank.risk, today=TODAY, now=NOW)
    assert [(r.rm_name, r.customers, r.visited, r.lapsed) for r in coverage.rows] == [
        ("Alice", 5, 2, 2),
        ("Dave", 3, 2, 1),
        ("Carol", 2, 1, 1),
        ("Bob", 1, 1, 0),
    ]


@pytest.mark.parametrize("persona", ["alice", "dave"])
def test_an_rm_sees_only_their_own_line(bank: Bank, small_bank: dict[str, Customer], persona: str) -> None:
    # when
    coverage = team_coverage(getattr(bank, persona), today=TODAY, now=NOW)
    # then: alice does not get carol's line, though she is its co-RM
    expected = alice_row(bank) if persona == "alice" else dave_row(bank)
    assert coverage.rows == [expected]
    assert coverage.total.customers == expected.customers


@pytest.mark.parametrize("persona", ["admin", "officer"])
def test_a_role_without_customer_access_is_refused(bank: Bank, persona: str) -> None:
    with pytest.raises(NotFoundError):
        team_coverage(getattr(bank, persona), today=TODAY)


def test_coverage_is_rounded_half_up(bank: Bank) -> None:
    # given 16 customers, one visited: 6.25%
    customers = [opened(make_customer(bank.alice, tier="general"), date(2025, 6, 1)) for _ in range(16)]
    done(customers[0], date(2026, 3, 1))
    # when
    coverage = team_coverage(bank.alice, today=TODAY, now=NOW)
    # then
    assert coverage.rows[0].coverage == Decimal("6.3")


def test_an_empty_scope_has_no_rows(bank: Bank) -> None:
    coverage = team_coverage(bank.lead, today=TODAY, now=NOW)
    assert (coverage.rows, coverage.total.customers, coverage.total.coverage) == ([], 0, None)
    assert coverage.total.visits_per_week == NO_VISITS


def test_the_query_count_does_not_grow_with_the_rms(bank: Bank, small_bank: dict[str, Customer]) -> None:
    # given the head's view of four RMs, then more RMs' customers
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            team_coverage(bank.head, today=TODAY, now=NOW)
        return len(captured)

    before = queries()
    for username in ("erin", "frank", "grace"):
        rm = User.objects.create_user(username=username, password="x" * 12, role="rm", unit=bank.team2)
        done(make_customer(rm, tier="core"), date(2026, 3, 2))
    # when
    after = queries()
    # then
    assert after == before
    assert len(team_coverage(bank.head, today=TODAY, now=NOW).rows) == 7


def test_it_is_a_coverage(bank: Bank, small_bank: dict[str, Any]) -> None:
    assert isinstance(team_coverage(bank.lead, today=TODAY, now=NOW), Coverage)


def test_a_unit_narrows_to_the_customers_it_owns(bank: Bank, small_bank: dict[str, Customer]) -> None:
    # when the branch head looks at team 1 alone: carol's customer, owned in branch 2, is left out
    coverage = team_coverage(bank.head, today=TODAY, now=NOW, unit=bank.team1)
    # then
    assert coverage.rows == [alice_row(bank), dave_row(bank)]


def test_a_unit_elsewhere_shows_only_what_the_user_may_see_there(bank: Bank, small_bank: dict[str, Customer]) -> None:
    # when the branch head of branch 1 asks for team 3: only carol's customer that alice works as co-RM
    coverage = team_coverage(bank.head, today=TODAY, now=NOW, unit=bank.team3)
    # then
    assert coverage.rows == [row(bank.carol, 1, 0, "0.0", 1, 0, NO_VISITS)]
