"""Open a loan contract with its first drawdown and schedule; add a drawdown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.audit.services import record
from rmdesk.core.errors import NotFoundError
from rmdesk.core.validators import validate_credit_code
from rmdesk.customers.choices import Direction, RelationshipKind
from rmdesk.customers.models import Customer, Relationship
from rmdesk.loans import rates
from rmdesk.loans.choices import (
    Currency,
    GuaranteeMethod,
    LoanProduct,
    LoanStatus,
    LprTenor,
    RateKind,
    RepaymentMethod,
    RepricingRule,
    ScheduleSource,
)
from rmdesk.loans.models import MAX_RATE_PCT, Drawdown, Instalment, LoanContract, LoanGuarantor
from rmdesk.loans.schedule import MAX_MONTHS, ScheduleError, maturity_date
from rmdesk.loans.services.checks import (
    Errors,
    check_choice,
    check_text,
    months_to,
    parse_amount,
    parse_rate,
    schedule_error_fields,
    today,
)
from rmdesk.loans.services.schedules import instalments_of
from rmdesk.loans.state import refresh_contract_state
from rmdesk.org.models import User


@dataclass(frozen=True)
class GuarantorInput:
    """A guarantor: one of the customer's guarantee relationships, or a person or firm named here."""

    relationship_id: int | None = None
    name: str = ""
    credit_code: str = ""
    amount: Decimal | str | None = None


@dataclass
class ContractInput:
    """A new contract's terms as checked by check_contract(): what book_contract() writes."""

    customer: Customer
    contract_no: str
    product: str
    currency: str
    amount: Decimal
    term_months: int
    repayment_method: str
    rate_kind: str
    fixed_rate_pct: Decimal | None
    lpr_spread_bp: int | None
    repricing_rule: str
    guarantee_method: str
    purpose: str
    primary_rm: User
    start_date: date
    maturity_date: date
    drawdown_amount: Decimal
    interest_day: int
    drawdown_ref: str = ""
    guarantors: tuple[LoanGuarantor, ...] = ()


def check_contract(
    *,
    customer: Customer,
    contract_no: str,
    product: str,
    amount: Decimal | str | int | None,
    term_months: int | None,
    repayment_method: str,
    guarantee_method: str,
    start_date: date | None,
    currency: str = Currency.CNY,
    rate_kind: str = RateKind.FIXED,
    fixed_rate_pct: Decimal | str | int | None = None,
    lpr_spread_bp: int | None = None,
    repricing_rule: str = "",
    guarantors: Sequence[GuarantorInput] = (),
    purpose: str = "",
    primary_rm: User | int | None = None,
    drawdown_amount: Decimal | str | int | None = None,
    interest_day: int = 20,
    drawdown_ref: str = "",
    errors: Errors | None = None,
) -> ContractInput | None:
    """The terms checked together; every bad one is added to `errors` (raised when none was given). None when any
    is bad. Scope is the caller's business."""
    own_errors = errors is None
    errors = errors or Errors()
    contract_no = check_text(contract_no, "contract_no", 40, errors, required=True)
    if contract_no and "contract_no" not in errors and LoanContract.objects.filter(contract_no=contract_no).exists():
        errors.add(
            "contract_no", _("A loan with the contract number %(number)s already exists.") % {"number": contract_no}
        )
    check_choice(product, LoanProduct, "product", errors)
    check_choice(currency, Currency, "currency", errors)
    check_choice(repayment_method, RepaymentMethod, "repayment_method", errors)
    check_choice(guarantee_method, GuaranteeMethod, "guarantee_method", errors)
    check_choice(rate_kind, RateKind, "rate_kind", errors)
    purpose = check_text(purpose, "purpose", 200, errors)
    drawdown_ref = check_text(drawdown_ref, "drawdown_ref", 64, errors)
    contract_amount = parse_amount(amount, "amount", errors)
    drawn = (
        contract_amount if drawdown_amount in (None, "") else parse_amount(drawdown_amount, "drawdown_amount", errors)
    )
    if "amount" not in errors and "drawdown_amount" not in errors and drawn > contract_amount:
        errors.add(
            "drawdown_amount",
            _("The drawdown (%(drawn)s) cannot exceed the contract amount (%(amount)s).")
            % {"drawn": f"{drawn:,.2f}", "amount": f"{contract_amount:,.2f}"},
        )
    if not isinstance(term_months, int) or isinstance(term_months, bool) or not 1 <= term_months <= MAX_MONTHS:
        errors.add(
            "term_months",
            _("The term must be a whole number of months from 1 to %(maximum)s, not %(value)s.")
            % {"maximum": MAX_MONTHS, "value": term_months},
        )
    if not isinstance(interest_day, int) or isinstance(interest_day, bool) or not 1 <= interest_day <= 28:
        errors.add(
            "interest_day",
            _("The interest day must be a day of the month from 1 to 28, not %(value)s.") % {"value": interest_day},
        )
    if not isinstance(start_date, date):
        errors.add("start_date", _("Enter the date of the first drawdown."))
    maturity = (
        maturity_date(start_date, term_months)
        if isinstance(start_date, date)
        and isinstance(term_months, int)
        and "term_months" not in errors
        and start_date.year < 9000
        else None
    )
    fixed, spread = _check_rate_terms(
        rate_kind=rate_kind,
        fixed_rate_pct=fixed_rate_pct,
        lpr_spread_bp=lpr_spread_bp,
        repricing_rule=repricing_rule,
        start_date=start_date if isinstance(start_date, date) else None,
        errors=errors,
    )
    rm = _primary_rm(customer, primary_rm, errors)
    guarantor_rows = check_guarantors(customer, guarantee_method, guarantors, errors)
    if errors.fields:
        if own_errors:
            errors.raise_any()
        return None
    assert isinstance(start_date, date) and maturity is not None and rm is not None and isinstance(term_months, int)
    return ContractInput(
        customer=customer,
        contract_no=contract_no,
        product=product,
        currency=currency,
        amount=contract_amount,
        term_months=term_months,
        repayment_method=repayment_method,
        rate_kind=rate_kind,
        fixed_rate_pct=fixed,
        lpr_spread_bp=spread,
        repricing_rule=repricing_rule if rate_kind != RateKind.FIXED else "",
        guarantee_method=guarantee_method,
        purpose=purpose,
        primary_rm=rm,
        start_date=start_date,
        maturity_date=maturity,
        drawdown_amount=drawn,
        interest_day=interest_day,
        drawdown_ref=drawdown_ref,
        guarantors=guarantor_rows,
    )


def _check_rate_terms(
    *,
    rate_kind: str,
    fixed_rate_pct: Decimal | str | int | None,
    lpr_spread_bp: int | None,
    repricing_rule: str,
    start_date: date | None,
    errors: Errors,
) -> tuple[Decimal | None, int | None]:
    if rate_kind == RateKind.FIXED:
        if lpr_spread_bp is not None:
            errors.add("lpr_spread_bp", _("A fixed-rate loan has no spread over LPR."))
        return parse_rate(fixed_rate_pct, "fixed_rate_pct", errors), None
    if rate_kind not in RateKind.values:
        return None, None
    if fixed_rate_pct not in (None, ""):
        errors.add("fixed_rate_pct", _("A floating-rate loan has no fixed rate: give the spread over LPR."))
    if repricing_rule not in RepricingRule.values:
        errors.add("repricing_rule", _("Choose when the rate is repriced: each anniversary, or each 1 January."))
    if not isinstance(lpr_spread_bp, int) or isinstance(lpr_spread_bp, bool) or abs(lpr_spread_bp) > 3600:
        errors.add("lpr_spread_bp", _("Enter the spread over LPR as whole basis points, e.g. -20 or 50."))
        return None, None
    if start_date is not None:
        tenor = rates.TENOR_OF_RATE_KIND[rate_kind]
        try:
            rate = rates.floating_rate(rates.lpr_on(tenor, start_date), lpr_spread_bp)
        except rates.NoLprPublished:
            errors.add(
                "start_date",
                _("No %(tenor)s was published on or before %(date)s: publish it first or choose a fixed rate.")
                % {"tenor": LprTenor(tenor).label, "date": start_date.isoformat()},
            )
        else:
            if rate > MAX_RATE_PCT:
                errors.add(
                    "lpr_spread_bp",
                    _("LPR plus this spread is %(rate)s%%, above the %(maximum)s%% a loan's rate may be.")
                    % {"rate": rate, "maximum": MAX_RATE_PCT},
                )
    return None, lpr_spread_bp


def _primary_rm(customer: Customer, primary_rm: User | int | None, errors: Errors) -> User | None:
    """The loan's primary RM: the one named, who must see the customer; by default the customer's."""
    if primary_rm is None:
        if customer.primary_rm is None:
            errors.add("primary_rm", _("Choose the loan's primary RM: the customer has none."))
        return customer.primary_rm
    rm_id = primary_rm.pk if isinstance(primary_rm, User) else primary_rm
    rm = User.objects.filter(pk=rm_id, is_active=True).select_related("unit").first()
    if rm is None or not Customer.objects.restrict(rm, Action.CHANGE).filter(pk=customer.pk).exists():
        errors.add("primary_rm", _("The loan's primary RM must be an active colleague who looks after this customer."))
        return None
    return rm


def check_guarantors(
    customer: Customer, method: str, wanted: Sequence[GuarantorInput], errors: Errors
) -> tuple[LoanGuarantor, ...]:
    """Unsaved guarantor rows: the customer's own guarantee relationships (a firm guaranteeing it: inward or mutual),
    or guarantors named with their credit code."""
    if method == GuaranteeMethod.CREDIT and wanted:
        errors.add("guarantors", _("An unsecured (credit) loan has no guarantors."))
        return ()
    if method == GuaranteeMethod.GUARANTEE and not wanted:
        errors.add("guarantors", _("Name at least one guarantor of a guaranteed loan."))
        return ()
    ids = {g.relationship_id for g in wanted if g.relationship_id is not None}
    found = {
        r.pk: r
        for r in Relationship.objects.filter(
            pk__in=ids,
            customer=customer,
            kind=RelationshipKind.GUARANTEE,
            direction__in=(Direction.INWARD, Direction.MUTUAL),
            archived_at__isnull=True,
        )
    }
    rows: list[LoanGuarantor] = []
    seen: set[str] = set()
    for guarantor in wanted:
        amount = None
        if guarantor.amount not in (None, ""):
            amount = parse_amount(guarantor.amount, "guarantors", errors)
        if guarantor.relationship_id is not None:
            relationship = found.get(guarantor.relationship_id)
            if relationship is None:
                # Said the same way whatever the id is: another customer's relationship must not be confirmed.
                errors.add("guarantors", _("Choose guarantors from this customer's guarantee relationships."))
                continue
            name, code = relationship.counterparty_name, relationship.counterparty_credit_code
        else:
            name = check_text(guarantor.name, "guarantors", 200, errors, required=True)
            code = (guarantor.credit_code or "").strip()
            if code:
                try:
                    code = validate_credit_code(code)
                except ValidationError as error:
                    errors.add("guarantors", f"{name}: {' '.join(error.messages)}")
                    continue
            relationship = None
        key = code or name
        if key in seen:
            errors.add("guarantors", _("%(name)s is named twice as a guarantor.") % {"name": name})
            continue
        seen.add(key)
        rows.append(LoanGuarantor(relationship=relationship, name=name, credit_code=code, amount=amount))
    return tuple(rows)


def book_contract(terms: ContractInput, *, actor: Any, as_of: date, with_schedule: bool = True) -> LoanContract:
    """Write a checked contract with drawdown #1 and (unless the caller writes the core's) its engine schedule;
    no scope check: create_contract() makes it, and the core feed runs as the system."""
    contract = LoanContract(
        contract_no=terms.contract_no,
        customer=terms.customer,
        product=terms.product,
        currency=terms.currency,
        amount=terms.amount,
        term_months=terms.term_months,
        repayment_method=terms.repayment_method,
        interest_day=terms.interest_day,
        rate_kind=terms.rate_kind,
        fixed_rate_pct=terms.fixed_rate_pct,
        lpr_spread_bp=terms.lpr_spread_bp,
        repricing_rule=terms.repricing_rule,
        guarantee_method=terms.guarantee_method,
        purpose=terms.purpose,
        primary_rm=terms.primary_rm,
        start_date=terms.start_date,
        maturity_date=terms.maturity_date,
        schedule_source=ScheduleSource.RMDESK if with_schedule else ScheduleSource.CORE,
        current_rate_pct=Decimal(0),
    )
    # The rate in force today (a loan booked late has been repriced since its start), or on the start if later.
    rate_day = max(as_of, terms.start_date)
    contract.current_rate_pct = rates.contract_rate_on(contract, rate_day)
    contract.next_repricing_on = rates.next_repricing_date(contract, rate_day)
    # The fields' own validators; uniqueness and the rate-terms constraint were checked by check_contract (a second
    # round of queries here cost a third of a feed's time per new loan).
    contract.clean_fields(exclude=["customer", "primary_rm"])
    contract.save()
    for guarantor in terms.guarantors:
        guarantor.contract = contract
    LoanGuarantor.objects.bulk_create(terms.guarantors)
    drawdown = Drawdown.objects.create(
        contract=contract,
        number=1,
        drawn_on=terms.start_date,
        amount=terms.drawdown_amount,
        months=terms.term_months,
        external_ref=terms.drawdown_ref,
    )
    if with_schedule:
        Instalment.objects.bulk_create(instalments_of(contract, drawdown, through=as_of))
        refresh_contract_state([contract.pk], as_of)
        contract.refresh_from_db()
    record(
        actor=actor,
        action="loan.create",
        obj=contract,
        customer_id=contract.customer_id,
        changes={
            "contract_no": contract.contract_no,
            "product": contract.product,
            "currency": contract.currency,
            "amount": contract.amount,
            "term_months": contract.term_months,
            "repayment_method": contract.repayment_method,
            "rate_kind": contract.rate_kind,
            "fixed_rate_pct": contract.fixed_rate_pct,
            "lpr_spread_bp": contract.lpr_spread_bp,
            "repricing_rule": contract.repricing_rule,
            "current_rate_pct": contract.current_rate_pct,
            "guarantee_method": contract.guarantee_method,
            "guarantors": [g.name for g in terms.guarantors],
            "primary_rm": contract.primary_rm.username,
            "start_date": contract.start_date,
            "maturity_date": contract.maturity_date,
            "drawdown_amount": terms.drawdown_amount,
            "schedule_source": contract.schedule_source,
        },
    )
    return contract


def _customer_to_lend(actor: Any, customer: Customer | int) -> Customer:
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    found = (
        Customer.objects.restrict(actor, Action.CHANGE)
        .select_related("primary_rm")
        .filter(pk=customer_id, archived_at__isnull=True)
        .first()
    )
    if found is None:
        raise NotFoundError()
    return found


@transaction.atomic
def create_contract(
    *,
    actor: User,
    customer: Customer | int,
    contract_no: str,
    product: str,
    amount: Decimal | str | int,
    term_months: int,
    repayment_method: str,
    guarantee_method: str,
    start_date: date,
    currency: str = Currency.CNY,
    rate_kind: str = RateKind.FIXED,
    fixed_rate_pct: Decimal | str | int | None = None,
    lpr_spread_bp: int | None = None,
    repricing_rule: str = "",
    guarantors: Sequence[GuarantorInput] = (),
    purpose: str = "",
    primary_rm: User | int | None = None,
    drawdown_amount: Decimal | str | int | None = None,
    interest_day: int = 20,
    drawdown_ref: str = "",
    as_of: date | None = None,
) -> LoanContract:
    """Open a loan contract on a customer the actor may change, with its first drawdown and the engine's schedule."""
    borrower = _customer_to_lend(actor, customer)
    terms = check_contract(
        customer=borrower,
        contract_no=contract_no,
        product=product,
        amount=amount,
        term_months=term_months,
        repayment_method=repayment_method,
        guarantee_method=guarantee_method,
        start_date=start_date,
        currency=currency,
        rate_kind=rate_kind,
        fixed_rate_pct=fixed_rate_pct,
        lpr_spread_bp=lpr_spread_bp,
        repricing_rule=repricing_rule,
        guarantors=guarantors,
        purpose=purpose,
        primary_rm=primary_rm,
        drawdown_amount=drawdown_amount,
        interest_day=interest_day,
        drawdown_ref=drawdown_ref,
    )
    assert terms is not None  # check_contract raised otherwise
    try:
        return book_contract(terms, actor=actor, as_of=as_of or today())
    except ScheduleError as error:
        raise ValidationError(schedule_error_fields(error, floating=rate_kind != RateKind.FIXED)) from None


@transaction.atomic
def add_drawdown(
    *,
    actor: User,
    contract: LoanContract | int,
    drawn_on: date,
    amount: Decimal | str | int,
    external_ref: str = "",
    as_of: date | None = None,
) -> Drawdown:
    """Draw more under a contract (never more than the contract amount in all); the drawdown has its own schedule
    over the whole months from its date to the contract's maturity."""
    contract_id = contract.pk if isinstance(contract, LoanContract) else contract
    loan = (
        LoanContract.objects.restrict(actor, Action.CHANGE)
        .select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=contract_id, customer__archived_at__isnull=True)
        .first()
    )
    if loan is None:
        raise NotFoundError()
    as_of = as_of or today()
    errors = Errors()
    if loan.status == LoanStatus.CLOSED:
        errors.add("contract", _("Loan %(contract)s is closed: nothing more can be drawn.") % {"contract": loan})
    value = parse_amount(amount, "amount", errors)
    external_ref = check_text(external_ref, "external_ref", 64, errors)
    months = 0
    if not isinstance(drawn_on, date):
        errors.add("drawn_on", _("Enter the date of the drawdown."))
    elif drawn_on < loan.start_date:
        errors.add(
            "drawn_on", _("A drawdown cannot be before the first drawdown (%(date)s).") % {"date": loan.start_date}
        )
    elif drawn_on > as_of:
        errors.add("drawn_on", _("A drawdown is recorded once made: the date cannot be in the future."))
    else:
        months = months_to(drawn_on, loan.maturity_date)
        if months < 1:
            errors.add(
                "drawn_on",
                _("The loan matures on %(date)s: a drawdown needs at least a month before maturity.")
                % {"date": loan.maturity_date},
            )
    drawn = Drawdown.objects.filter(contract=loan).aggregate(total=Sum("amount"), last=Max("number"))
    total = drawn["total"] or Decimal(0)
    if "amount" not in errors and total + value > loan.amount:
        errors.add(
            "amount",
            _("Only %(left)s of the contract amount %(amount)s is left to draw.")
            % {"left": f"{loan.amount - total:,.2f}", "amount": f"{loan.amount:,.2f}"},
        )
    errors.raise_any()
    drawdown = Drawdown.objects.create(
        contract=loan,
        number=(drawn["last"] or 0) + 1,
        drawn_on=drawn_on,
        amount=value,
        months=months,
        external_ref=external_ref,
    )
    if loan.schedule_source == ScheduleSource.RMDESK:
        try:
            Instalment.objects.bulk_create(instalments_of(loan, drawdown, through=as_of))
        except (ScheduleError, rates.NoLprPublished) as error:
            message = (
                schedule_error_fields(error) if isinstance(error, ScheduleError) else {"drawn_on": [_("No LPR found.")]}
            )
            raise ValidationError(message) from None
        refresh_contract_state([loan.pk], as_of)
    record(
        actor=actor,
        action="loan.drawdown",
        obj=loan,
        customer_id=loan.customer_id,
        changes={"drawdown": drawdown.number, "drawn_on": drawn_on, "amount": value, "months": months},
    )
    return drawdown
