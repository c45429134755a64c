"""LPR: the table, publishing (head office only), the rate in force on a day, repricing dates and repricing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from rmdesk.audit.models import AuditEvent
from rmdesk.loans import rates, services
from rmdesk.loans.models import Instalment, LprRate
from rmdesk.org.models import User
from tests.loans.factories import instalments, make_loan
from tests.personas import Bank, make_customer, make_user


def test_the_lpr_in_force_is_the_latest_published_on_or_before_the_day(db: None) -> None:
    # given the shipped history (1-year: 3.10 from 2024-10-21, 3.00 from 2025-05-20)
    # then
    assert rates.lpr_on("1y", date(2025, 5, 19)) == Decimal("3.10")
    assert rates.lpr_on("1y", date(2025, 5, 20)) == Decimal("3.00")
    assert rates.lpr_on("5y", date(2019, 8, 20)) == Decimal("4.85")
    with pytest.raises(rates.NoLprPublished):
        rates.lpr_on("1y", date(2019, 8, 19))


def test_anniversary_repricing_dates_follow_the_first_drawdown_clamped_to_month_end(bank: Bank) -> None:
    # given a 1-year LPR loan drawn on 2024-02-29 for 60 months
    loan = make_loan(
        bank.alice,
        make_customer(bank.alice),
        rate_kind="lpr_1y",
        lpr_spread_bp=50,
        repricing_rule="anniversary",
        start_date=date(2024, 2, 29),
        term_months=60,
        as_of=date(2024, 3, 1),
    )
    # then it reprices on 28 February in common years and 29 February in leap years, never on or after maturity
    assert rates.repricing_dates(loan, after=loan.start_date, through=date(2030, 1, 1)) == [
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]
    assert rates.next_repricing_date(loan, date(2024, 3, 1)) == date(2025, 2, 28)
    assert rates.next_repricing_date(loan, date(2028, 2, 29)) is None
    assert loan.next_repricing_on == date(2025, 2, 28)


def test_january_first_repricing_dates(bank: Bank) -> None:
    loan = make_loan(
        bank.alice,
        make_customer(bank.alice),
        rate_kind="lpr_5y",
        lpr_spread_bp=0,
        repricing_rule="january_first",
        start_date=date(2024, 7, 1),
        term_months=24,
        as_of=date(2024, 7, 1),
    )
    assert rates.repricing_dates(loan, after=loan.start_date, through=date(2030, 1, 1)) == [
        date(2025, 1, 1),
        date(2026, 1, 1),
    ]
    assert rates.next_repricing_date(loan, date(2025, 1, 1)) == date(2026, 1, 1)
    # the LPR of 2024-07-01 (over-5-year 3.95 since 2024-02-20), then on 2025-01-01 that of 2024-10-21 (3.60)
    assert rates.contract_rate_on(loan, date(2024, 12, 31)) == Decimal("3.95")
    assert rates.contract_rate_on(loan, date(2025, 1, 1)) == Decimal("3.60")


# --- publishing ------------------------------------------------------------------------------------------------------


def test_head_office_publishes_an_lpr_and_it_is_audited(bank: Bank, ho_lead: User) -> None:
    # when a head-office lead adds the 1-year LPR of 2025-06-20
    lpr = services.publish_lpr(actor=ho_lead, tenor="1y", published_on=date(2025, 6, 20), rate_pct="2.95")
    # then it is in force from that day, entered by them, with one audit event
    assert (lpr.rate_pct, lpr.created_by) == (Decimal("2.95"), ho_lead)
    assert rates.lpr_on("1y", date(2025, 6, 20)) == Decimal("2.95")
    event = AuditEvent.objects.get(action="loans.lpr_publish")
    assert event.actor_id == ho_lead.pk
    assert event.changes == {"tenor": "1y", "published_on": "2025-06-20", "rate_pct": "2.95"}


def test_an_administrator_may_publish_an_lpr(bank: Bank) -> None:
    services.publish_lpr(actor=bank.admin, tenor="5y", published_on=date(2025, 6, 20), rate_pct="3.45")
    assert LprRate.objects.filter(tenor="5y", published_on=date(2025, 6, 20)).exists()


@pytest.mark.parametrize("who", ["alice", "lead", "head", "risk", "auditor", "officer"])
def test_only_head_office_publishes_an_lpr(bank: Bank, who: str) -> None:
    # given people outside head office, and head office's read-only roles
    count = LprRate.objects.count()
    # when one of them adds an LPR
    with pytest.raises(services.LprHeadOfficeOnly):
        services.publish_lpr(actor=getattr(bank, who), tenor="1y", published_on=date(2025, 6, 20), rate_pct="2.95")
    # then nothing was added
    assert LprRate.objects.count() == count
    assert not AuditEvent.objects.filter(action="loans.lpr_publish").exists()


def test_a_lead_of_a_head_office_department_may_publish_an_lpr(bank: Bank) -> None:
    department_lead = make_user("deptlead", "team_lead", bank.department)
    assert services.may_publish_lpr(department_lead)


def test_an_lpr_published_twice_on_one_day_is_a_field_error(bank: Bank, ho_lead: User) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.publish_lpr(actor=ho_lead, tenor="1y", published_on=date(2025, 5, 20), rate_pct="3.00")
    assert refused.value.message_dict == {"published_on": ["The 1-year LPR of 2025-05-20 is already in the table."]}


def test_an_lpr_published_by_two_people_at_once_is_a_field_error_for_the_second(
    bank: Bank, ho_lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the other publication committed between the check and the insert: the check sees nothing
    monkeypatch.setattr(services.lpr.LprRate.objects, "filter", lambda **_: LprRate.objects.none())
    count = LprRate.objects.count()
    # when / then: the unique constraint decides, and it is the same message, not a 500
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.publish_lpr(actor=ho_lead, tenor="1y", published_on=date(2025, 5, 20), rate_pct="3.10")
    assert refused.value.message_dict == {"published_on": ["The 1-year LPR of 2025-05-20 is already in the table."]}
    assert LprRate.objects.count() == count
    assert not AuditEvent.objects.filter(action="loans.lpr_publish").exists()


def test_a_bad_lpr_is_refused_field_by_field(bank: Bank, ho_lead: User) -> None:
    tomorrow = timezone.localdate().replace(day=1) + (date(2000, 2, 1) - date(2000, 1, 1))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.publish_lpr(actor=ho_lead, tenor="10y", published_on=tomorrow, rate_pct="-0.5")
    assert refused.value.message_dict == {
        "tenor": ["“10y” is not one of: 1y, 5y."],
        "rate_pct": ["The annual rate must be from 0 to 36 percent, not -0.5."],
        "published_on": ["An LPR is entered once published: the date cannot be in the future."],
    }


def test_the_lpr_command_lists_and_adds(bank: Bank) -> None:
    # when the operator adds an LPR from the command line and lists the 1-year table
    out = StringIO()
    call_command("lpr", "add", "--tenor", "1y", "--date", "2025-06-20", "--rate", "2.95", stdout=out)
    call_command("lpr", "list", "--tenor", "1y", stdout=out)
    # then it was added as the system, and is listed first
    lines = out.getvalue().splitlines()
    assert lines[0] == "LPR 1y of 2025-06-20: 2.95% added"
    assert lines[1] == "2025-06-20  1y  2.95%  -"
    assert lines[2] == "2025-05-20  1y  3.00%  -"
    assert len(lines) == 1 + 1 + 15
    # and a duplicate is a command error naming the option
    with translation.override("en"), pytest.raises(CommandError, match="--date: The 1-year LPR of 2025-06-20"):
        call_command("lpr", "add", "--tenor", "1y", "--date", "2025-06-20", "--rate", "2.95")


# --- repricing -------------------------------------------------------------------------------------------------------


def _floating_loan(bank: Bank, **fields: object) -> object:
    fields.setdefault("rate_kind", "lpr_1y")
    fields.setdefault("lpr_spread_bp", 35)
    fields.setdefault("repricing_rule", "anniversary")
    fields.setdefault("start_date", date(2024, 6, 10))
    fields.setdefault("term_months", 36)
    fields.setdefault("repayment_method", "annuity")
    fields.setdefault("as_of", date(2024, 6, 10))
    return make_loan(bank.alice, make_customer(bank.alice), **fields)


def test_repricing_rebuilds_the_unpaid_future_periods_at_the_new_rate_and_keeps_the_past(bank: Bank) -> None:
    # given a 1-year LPR + 35 bp annuity loan drawn 2024-06-10 (3.45 + 0.35 = 3.80%), opened then
    loan = _floating_loan(bank)
    assert loan.current_rate_pct == Decimal("3.80")
    assert loan.next_repricing_on == date(2025, 6, 10)
    before = {r.number: (r.principal_due, r.interest_due) for r in instalments(loan)}
    # when the batch reprices it on its anniversary 2025-06-10 (LPR 3.00 since 2025-05-20)
    result = services.reprice(loan, date(2025, 6, 10))
    # then the rate is 3.35%, the next repricing a year on, and the periods from the 13th on are recomputed
    loan.refresh_from_db()
    assert (result.old_rate_pct, result.new_rate_pct) == (Decimal("3.80"), Decimal("3.35"))
    assert loan.current_rate_pct == Decimal("3.35")
    assert loan.next_repricing_on == date(2026, 6, 10) == result.next_repricing_on
    rows = {r.number: r for r in instalments(loan)}
    assert all((rows[n].principal_due, rows[n].interest_due) == before[n] for n in range(1, 13))
    assert {rows[n].rate_pct for n in range(1, 13)} == {Decimal("3.80")}
    assert {rows[n].rate_pct for n in range(13, 37)} == {Decimal("3.35")}
    assert result.instalments_changed == 24
    # the whole principal is still repaid, and period 13's interest is the balance after 12 at 3.35% / 12
    assert sum(r.principal_due for r in rows.values()) == Decimal("1200000.00")
    balance = Decimal("1200000.00") - sum(rows[n].principal_due for n in range(1, 13))
    assert rows[13].interest_due == (balance * Decimal("3.35") / 1200).quantize(Decimal("0.01"))
    # the batch's call writes no audit event of its own
    assert not AuditEvent.objects.filter(action="loan.reprice").exists()


def test_repricing_an_interest_only_loan_splits_the_period_it_falls_in_by_days(bank: Bank) -> None:
    # given a monthly-interest loan (interest on the 20th) at 1-year LPR + 35 bp, drawn 2024-06-10
    loan = _floating_loan(bank, repayment_method="interest-monthly")
    # when it is repriced on 2025-06-10 from 3.80% to 3.35%
    services.reprice(loan, date(2025, 6, 10))
    rows = {r.scheduled_date: r for r in instalments(loan)}
    # then the period 2025-05-20 → 2025-06-20 has 21 days at 3.80% and 10 at 3.35%, the next all at 3.35%
    assert rows[date(2025, 6, 20)].interest_due == Decimal("3776.67")  # 1,200,000 × (3.80×21 + 3.35×10) / 36,000
    assert rows[date(2025, 7, 20)].interest_due == Decimal("3350.00")  # 1,200,000 × 3.35 × 30 / 36,000
    assert rows[date(2025, 5, 20)].interest_due == Decimal("3800.00")  # 1,200,000 × 3.80 × 30 / 36,000: unchanged


def test_repricing_the_same_day_again_changes_nothing(bank: Bank) -> None:
    loan = _floating_loan(bank)
    services.reprice(loan, date(2025, 6, 10))
    snapshot = list(Instalment.objects.filter(contract=loan).order_by("pk").values())
    again = services.reprice(loan, date(2025, 6, 10))
    assert not again.rate_changed
    assert again.instalments_changed == 0
    assert list(Instalment.objects.filter(contract=loan).order_by("pk").values()) == snapshot


def test_repricing_keeps_the_schedule_the_core_banking_system_sent(bank: Bank) -> None:
    # given a floating loan whose schedule is the core's
    loan = _floating_loan(bank)
    loan.schedule_source = "core"
    loan.save(update_fields=["schedule_source"])
    snapshot = list(Instalment.objects.filter(contract=loan).order_by("pk").values())
    # when it is repriced
    result = services.reprice(loan, date(2025, 6, 10))
    # then only the rate changes
    loan.refresh_from_db()
    assert (loan.current_rate_pct, result.instalments_changed) == (Decimal("3.35"), 0)
    assert list(Instalment.objects.filter(contract=loan).order_by("pk").values()) == snapshot


def test_a_fixed_rate_loan_is_not_repriced(bank: Bank) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice))
    result = services.reprice(loan, date(2025, 6, 10))
    assert (result.rate_changed, result.instalments_changed, result.next_repricing_on) == (False, 0, None)


def test_a_person_repricing_by_hand_is_audited(bank: Bank) -> None:
    loan = _floating_loan(bank)
    services.reprice(loan, date(2025, 6, 10), actor=bank.alice)
    event = AuditEvent.objects.get(action="loan.reprice")
    assert event.changes["current_rate_pct"] == ["3.800000", "3.350000"]
