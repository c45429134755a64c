"""A small book of loans around the personas, as of Wednesday 2026-03-18 (this week: 03-16 to 03-22):

- alice's 西湖电子: `current` — 1,200,000.00 equal principal at 4.35% drawn 2025-10-20, paid through 02-20; its
  fifth instalment (100,000.00 + 2,900.00) falls due on Friday 03-20. `overdue` — the same terms drawn 2025-11-06,
  paid through 01-06: the 02-06 instalment is 40 days past due and the 03-06 one 12 days, with penalty and compound
  interest at 4.35% × 1.5 = 6.525% accrued through 03-18 (975.88 in all).
- dave's 灵隐茶业 (alice's team): `daves` drawn 2025-12-25, paid through 02-25; 03-25 falls due later this month.
- bob's 钱塘物流 (alice's branch, another team): `bobs` drawn 2026-02-19, due Thursday 03-19.
- carol's 宁波港务 (the other branch): `carols`, 40 days past due like alice's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.utils import timezone

from rmdesk.customers.models import Customer
from rmdesk.loans.models import LoanContract
from tests.personas import Bank, make_customer
from tests.postloan.factories import days_back_to_a_plain_day, due_on, make_loan, overdue_loan

AS_OF = date(2026, 3, 18)


@dataclass
class Book:
    xihu: Customer
    lingyin: Customer
    qiantang: Customer
    ningbo: Customer
    current: LoanContract
    overdue: LoanContract
    daves: LoanContract
    bobs: LoanContract
    carols: LoanContract


@pytest.fixture
def book(bank: Bank) -> Book:
    xihu = make_customer(bank.alice, name="西湖电子有限公司")
    lingyin = make_customer(bank.dave, name="灵隐茶业有限公司")
    qiantang = make_customer(bank.bob, name="钱塘物流有限公司")
    ningbo = make_customer(bank.carol, name="宁波港务有限公司")
    return Book(
        xihu=xihu,
        lingyin=lingyin,
        qiantang=qiantang,
        ningbo=ningbo,
        current=make_loan(
            xihu, start=date(2025, 10, 20), paid_through=date(2026, 2, 20), as_of=AS_OF, contract_no="HT-CURRENT"
        ),
        overdue=overdue_loan(xihu, as_of=AS_OF, days=40, contract_no="HT-OVERDUE"),
        daves=make_loan(
            lingyin, start=date(2025, 12, 25), paid_through=date(2026, 2, 25), as_of=AS_OF, contract_no="HT-DAVE"
        ),
        bobs=make_loan(qiantang, start=date(2026, 2, 19), as_of=AS_OF, contract_no="HT-BOB"),
        carols=overdue_loan(ningbo, as_of=AS_OF, days=40, contract_no="HT-CAROL"),
    )


# --- the same kind of book around today, for the pages and the API (which read today's date) ------------------------


@dataclass
class LiveBook:
    today: date
    xihu: Customer
    ningbo: Customer
    overdue: LoanContract  # alice's, days past due with penalty
    due_today: LoanContract  # alice's, an instalment due today
    carols: LoanContract  # carol's (the other branch), days past due


@pytest.fixture
def live(bank: Bank) -> LiveBook:
    today = timezone.localdate()
    xihu = make_customer(bank.alice, name="西湖电子有限公司")
    ningbo = make_customer(bank.carol, name="宁波港务有限公司")
    days = days_back_to_a_plain_day(today, 40)
    return LiveBook(
        today=today,
        xihu=xihu,
        ningbo=ningbo,
        overdue=overdue_loan(xihu, as_of=today, days=days, contract_no="HT-LIVE-OVERDUE"),
        due_today=due_on(xihu, today, as_of=today, contract_no="HT-LIVE-DUE"),
        carols=overdue_loan(ningbo, as_of=today, days=days, contract_no="HT-LIVE-CAROL"),
    )
