"""Posting a repayment: allocate it over what the loan owes, in the bank's order, oldest instalment first.

The money pays the instalments due on or before the day it was paid, oldest first (by due date, then drawdown, then
period); within each instalment it pays the components in settings.REPAYMENT_ALLOCATION_ORDER (default fees → penalty
→ compound → interest → principal). Penalty and compound interest are what the end-of-day batch has accrued so far.
What is left over is never applied silently to instalments not yet due: it is held on the repayment (`unallocated`)
and on the contract (`overpayment`) and reported. The contract row is locked first, so two repayments posted at once
allocate one after the other and never pay the same instalment twice; a repeated reference is recognised and returns
the repayment already posted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.audit.services import record
from rmdesk.core.errors import NotFoundError
from rmdesk.loans.choices import Component, InstalmentStatus, LoanStatus, RepaymentSource
from rmdesk.loans.models import ZERO, Instalment, LoanContract, Repayment, RepaymentAllocation
from rmdesk.loans.services.checks import Errors, check_text, parse_amount
from rmdesk.loans.state import apply_instalment_status, refresh_contract_state

# Component → (the instalment's amount owed, its amount paid so far).
COMPONENT_COLUMNS: dict[str, tuple[str, str]] = {
    Component.FEE: ("fee_due", "fee_paid"),
    Component.PENALTY: ("penalty_accrued", "penalty_paid"),
    Component.COMPOUND: ("compound_accrued", "compound_paid"),
    Component.INTEREST: ("interest_due", "interest_paid"),
    Component.PRINCIPAL: ("principal_due", "principal_paid"),
}
PAID_COLUMNS = [paid for _owed, paid in COMPONENT_COLUMNS.values()]


def allocation_order() -> tuple[str, ...]:
    """settings.REPAYMENT_ALLOCATION_ORDER, checked: each component exactly once."""
    order = tuple(settings.REPAYMENT_ALLOCATION_ORDER)
    if sorted(order) != sorted(Component.values):
        raise ImproperlyConfigured(
            f"REPAYMENT_ALLOCATION_ORDER={order!r} must list each of {', '.join(Component.values)} exactly once."
        )
    return order


@dataclass
class PostedRepayment:
    """A repayment as posted (or found already posted, `duplicate`), with what it paid and what is held over."""

    repayment: Repayment
    duplicate: bool = False
    allocations: list[RepaymentAllocation] = field(default_factory=list)

    @property
    def overpayment(self) -> Decimal:
        return self.repayment.unallocated

    @property
    def allocated(self) -> Decimal:
        return self.repayment.amount - self.repayment.unallocated


def allocate(
    instalments: Iterable[Instalment], amount: Decimal, order: tuple[str, ...]
) -> tuple[list[tuple[Instalment, str, Decimal]], Decimal]:
    """Pay `amount` over the instalments in the order given, each instalment's components in `order`; returns the
    (instalment, component, amount) paid, with the instalments' paid columns updated, and what is left."""
    left = amount
    paid: list[tuple[Instalment, str, Decimal]] = []
    for instalment in instalments:
        for component in order:
            if left <= 0:
                return paid, left
            owed_column, paid_column = COMPONENT_COLUMNS[component]
            owed = getattr(instalment, owed_column) - getattr(instalment, paid_column)
            if owed <= 0:
                continue
            part = min(owed, left)
            setattr(instalment, paid_column, getattr(instalment, paid_column) + part)
            left -= part
            paid.append((instalment, component, part))
    return paid, left


def _existing(source: str, external_ref: str) -> Repayment | None:
    if not external_ref:
        return None
    return Repayment.objects.filter(source=source, external_ref=external_ref).select_related("contract").first()


def _duplicate_of(existing: Repayment, contract: LoanContract, paid_on: date, amount: Decimal) -> PostedRepayment:
    """The repayment already posted under this reference, if it is the same one; a field error if it is not."""
    if (existing.contract_id, existing.paid_on, existing.amount) != (contract.pk, paid_on, amount):
        raise ValidationError(
            {
                "external_ref": _(
                    "The reference %(ref)s was already used for a repayment of %(amount)s on %(date)s to loan "
                    "%(contract)s."
                )
                % {
                    "ref": existing.external_ref,
                    "amount": f"{existing.amount:,.2f}",
                    "date": existing.paid_on.isoformat(),
                    "contract": existing.contract.contract_no,
                }
            }
        )
    return PostedRepayment(existing, duplicate=True, allocations=list(existing.allocations.order_by("pk")))


@transaction.atomic
def post_repayment(
    *,
    actor: Any,
    contract: LoanContract | int,
    paid_on: date,
    amount: Decimal | str | int,
    source: str = RepaymentSource.MANUAL,
    external_ref: str = "",
    note: str = "",
    as_of: date | None = None,
) -> PostedRepayment:
    """Post money received on a loan and allocate it. A person (operations) needs Action.POST_REPAYMENT on the loan's
    customer (else 404); the core feed posts as the system (`actor` None). `as_of`: the business date the contract's
    state is refreshed for (default today)."""
    contract_id = contract.pk if isinstance(contract, LoanContract) else contract
    contracts = LoanContract.objects.all()
    if actor is not None:
        contracts = LoanContract.objects.restrict(actor, Action.POST_REPAYMENT)
    # The lock that serialises repayments of one loan: whoever comes second reads what the first allocated.
    loan = contracts.select_for_update(of=("self",)).select_related("customer").filter(pk=contract_id).first()
    if loan is None:
        raise NotFoundError()
    today = timezone.localdate()
    as_of = as_of or today
    errors = Errors()
    if source not in RepaymentSource.values:
        errors.add("source", _("Select a valid choice."))
    if actor is not None and source != RepaymentSource.MANUAL:
        errors.add("source", _("Only the core banking feed posts repayments from its daily file."))
    value = parse_amount(amount, "amount", errors)
    external_ref = check_text(external_ref, "external_ref", 64, errors)
    note = check_text(note, "note", 200, errors)
    errors.raise_any()
    existing = _existing(source, external_ref)
    if existing is not None:
        return _duplicate_of(existing, loan, paid_on, value)
    if loan.status == LoanStatus.CLOSED:
        errors.add(
            "contract",
            _("Loan %(contract)s is closed (on %(date)s): no repayment can be posted to it.")
            % {"contract": loan.contract_no, "date": loan.closed_on.isoformat() if loan.closed_on else "—"},
        )
    if not isinstance(paid_on, date):
        errors.add("paid_on", _("Enter the date the money was received."))
    elif paid_on > min(today, as_of):
        errors.add("paid_on", _("The payment date %(date)s is in the future.") % {"date": paid_on.isoformat()})
    elif paid_on < loan.start_date:
        errors.add(
            "paid_on",
            _("Loan %(contract)s was first drawn on %(start)s: a repayment cannot be earlier.")
            % {"contract": loan.contract_no, "start": loan.start_date.isoformat()},
        )
    errors.raise_any()

    instalments = list(
        Instalment.objects.filter(contract=loan, due_date__lte=paid_on)
        .exclude(status=InstalmentStatus.PAID)
        .order_by("due_date", "drawdown__number", "number")
    )
    paid, left = allocate(instalments, value, allocation_order())
    repayment = Repayment(
        contract=loan,
        customer_id=loan.customer_id,
        paid_on=paid_on,
        amount=value,
        source=source,
        external_ref=external_ref,
        unallocated=left,
        entered_by=actor,
        note=note,
    )
    try:
        with transaction.atomic():  # the same reference posted at this moment to another loan
            repayment.save()
    except IntegrityError:
        found = _existing(source, external_ref)
        if found is None:
            raise
        return _duplicate_of(found, loan, paid_on, value)
    allocations = RepaymentAllocation.objects.bulk_create(
        RepaymentAllocation(repayment=repayment, instalment=instalment, component=component, amount=part)
        for instalment, component, part in paid
    )
    touched = {instalment.pk: instalment for instalment, _component, _part in paid}
    for instalment in touched.values():
        apply_instalment_status(instalment, as_of)
        if instalment.status == InstalmentStatus.PAID and instalment.paid_on is None:
            instalment.paid_on = paid_on
    for instalment in touched.values():  # a repayment pays one or two periods: plain UPDATEs, no CASE per row
        Instalment.objects.filter(pk=instalment.pk).update(
            **{name: getattr(instalment, name) for name in (*PAID_COLUMNS, "status", "overdue_since", "paid_on")}
        )
    if left > ZERO:
        loan.overpayment += left
        loan.save(update_fields=["overpayment", "updated_at"])
    refresh_contract_state([loan.pk], as_of)
    record(
        actor=actor,
        action="loan.repayment",
        obj=repayment,
        customer_id=loan.customer_id,
        changes={
            "contract_no": loan.contract_no,
            "paid_on": paid_on,
            "amount": value,
            "source": source,
            "external_ref": external_ref,
            "allocated": {
                component: sum((part for _i, c, part in paid if c == component), ZERO) for component in Component.values
            },
            "overpayment": left,
        },
    )
    return PostedRepayment(repayment, allocations=allocations)
