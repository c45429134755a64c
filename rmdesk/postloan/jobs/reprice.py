"""Reprice the floating-rate loans whose repricing date has come (LPR + spread, on the anniversary or 1 January).

The loans service `reprice` (loans/services/repricing.py) resets the contract's rate from the LPR in force, rebuilds
the remaining schedule from the repricing date and moves `next_repricing_on` to the next one: this job only finds the
contracts due (the `loan_repricing` index) and calls it for each — a few a day, all the floating loans of a
"1 January" bank once a year. A contract repriced is no longer due, so a second run reprices nothing. The batch
records one audit event for the job run (the service records none when it has no actor).
"""

from __future__ import annotations

from datetime import date

from rmdesk.loans.choices import LoanStatus, RateKind
from rmdesk.loans.models import LoanContract
from rmdesk.loans.services import reprice
from rmdesk.postloan.jobs.common import Counts, CustomerRange


def due_contracts(on: date, customers: CustomerRange) -> list[int]:
    """Active floating-rate contracts whose repricing date is on or before `on`, earliest first."""
    return list(
        LoanContract.objects.filter(customers.q(), next_repricing_on__lte=on, status=LoanStatus.ACTIVE)
        .exclude(rate_kind=RateKind.FIXED)
        .order_by("next_repricing_on", "pk")
        .values_list("pk", flat=True)
    )


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Reprice the range's contracts due on `on`; counts those repriced, whose rate changed, and the instalments
    rewritten."""
    counts = {"repriced": 0, "rate_changed": 0, "instalments": 0}
    # One transaction per contract (the service's): a failure stops the job, and the contracts already repriced are
    # not due any more when it runs again.
    for contract_id in due_contracts(on, customers):
        result = reprice(contract_id, on)
        counts["repriced"] += 1
        counts["rate_changed"] += int(result.rate_changed)
        counts["instalments"] += result.instalments_changed
    return counts
