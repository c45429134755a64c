"""Writers of the collection work: the collection log with promises to pay, and the confirmation of a loan's
five-category classification 五级分类.

Each function checks scope through `restrict()` (out of scope is a NotFoundError, never told apart from missing),
validates everything before writing anything, and writes one audit event per loan in the same transaction.

Classification (decided here, domain.md §5): the end-of-day batch proposes a category from days past due and never
lowers a confirmed one; a person with Action.CLASSIFY (risk officers) decides. They may set any category — the bank's
rules leave room for judgement, e.g. a loan overdue for a technical reason — but must always give a reason, and a
decision better than days past due require is marked as such on the decision's audit event (`below_days_past_due`).
The batch then proposes the category days past due require again on its next run, so such a decision stays visible
in the queue until the loan is cured or a person confirms the stricter category.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.audit.services import record
from rmdesk.core.errors import ConflictError
from rmdesk.loans.choices import Classification, LoanStatus
from rmdesk.loans.models import LoanContract
from rmdesk.loans.queries import contract_for
from rmdesk.org.models import User
from rmdesk.postloan.choices import ContactChannel, PromiseStatus
from rmdesk.postloan.models import ClassificationDecision, CollectionLog

# A promise further out than this is not a promise the RM can follow up.
PROMISE_HORIZON = timedelta(days=366)
REASON_MAX_LENGTH = 2000
RESULT_MAX_LENGTH = 2000


def classification_for_days(days_past_due: int) -> Classification:
    """The category days past due require at least (domain.md §5, settings CLASSIFY_*_DAYS)."""
    if days_past_due > settings.CLASSIFY_LOSS_DAYS:
        return Classification.LOSS
    if days_past_due > settings.CLASSIFY_DOUBTFUL_DAYS:
        return Classification.DOUBTFUL
    if days_past_due > settings.CLASSIFY_SUBSTANDARD_DAYS:
        return Classification.SUBSTANDARD
    if days_past_due > 0:
        return Classification.SPECIAL_MENTION
    return Classification.NORMAL


# --- the collection log -----------------------------------------------------------------------------------------------


@transaction.atomic
def log_collection(
    *,
    actor: User,
    contract_id: int,
    contacted_on: date,
    channel: str,
    contact_person: str,
    result: str,
    promise_date: date | None = None,
    promise_amount: Decimal | None = None,
    today: date | None = None,
) -> CollectionLog:
    """Record a collection contact 催收记录 on a loan the actor may work on, with the customer's promise to pay, if any
    (a date and an amount together); the promise stays open until the batch finds it kept or broken."""
    today = today or timezone.localdate()
    contract = contract_for(actor, contract_id, Action.CHANGE)
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if contract.status == LoanStatus.CLOSED:
        refuse(NON_FIELD_ERRORS, _("This loan is closed: there is nothing left to collect."))
    contact_person = (contact_person or "").strip()
    result = (result or "").strip()
    if contacted_on > today:
        refuse("contacted_on", _("A contact cannot be in the future."))
    elif contacted_on < contract.start_date:
        refuse("contacted_on", _("A contact cannot be before the loan's first drawdown."))
    if channel not in ContactChannel.values:
        refuse("channel", _("Select a valid choice."))
    if not contact_person:
        refuse("contact_person", _("Name the person you spoke to."))
    if not result:
        refuse("result", _("Say what came of the contact."))
    elif len(result) > RESULT_MAX_LENGTH:
        refuse("result", _("Ensure this value has at most %(max)s characters.") % {"max": RESULT_MAX_LENGTH})
    if promise_date is not None or promise_amount is not None:
        if promise_date is None:
            refuse("promise_date", _("A promise to pay needs the date promised."))
        elif promise_date < contacted_on:
            refuse("promise_date", _("The promised date cannot be before the contact."))
        elif promise_date > contacted_on + PROMISE_HORIZON:
            refuse("promise_date", _("The promised date must be within a year of the contact."))
        if promise_amount is None:
            refuse("promise_amount", _("A promise to pay needs the amount promised."))
        elif promise_amount <= 0:
            refuse("promise_amount", _("The promised amount must be more than zero."))
    if errors:
        raise ValidationError(errors)
    log = CollectionLog(
        contract=contract,
        customer_id=contract.customer_id,
        contacted_on=contacted_on,
        channel=channel,
        contact_person=contact_person,
        result=result,
        promise_date=promise_date,
        promise_amount=promise_amount,
        promise_status=PromiseStatus.OPEN if promise_date is not None else PromiseStatus.NONE,
        created_by=actor,
    )
    # The model's own checks (lengths, two decimals) after ours: a message per field either way.
    log.full_clean(exclude=["contract", "customer", "created_by"])
    log.save()
    record(
        actor=actor,
        action="loan.collection_log",
        obj=log,
        customer_id=contract.customer_id,
        changes={
            "contract": contract.contract_no,
            "contacted_on": contacted_on,
            "channel": channel,
            "contact_person": contact_person,
            "promise_date": promise_date,
            "promise_amount": promise_amount,
        },
    )
    return log


# --- classification ---------------------------------------------------------------------------------------------------


def _check_decision(contract: LoanContract, decided: Any, reason: str) -> tuple[Classification, str]:
    errors: dict[str, list[str]] = {}
    if contract.status == LoanStatus.CLOSED:
        errors[NON_FIELD_ERRORS] = [_("This loan is closed: its classification is final.")]
    try:
        category = Classification(int(decided))
    except (TypeError, ValueError):
        errors["decided"] = [_("Select a valid choice.")]
        category = Classification.NORMAL
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Give the reason for the classification.")]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [_("Ensure this value has at most %(max)s characters.") % {"max": REASON_MAX_LENGTH}]
    if errors:
        raise ValidationError(errors)
    return category, reason


def _decide(
    actor: User, contract: LoanContract, category: Classification, reason: str, on: date
) -> ClassificationDecision:
    previous, proposed = contract.classification, contract.proposed_classification
    required = classification_for_days(contract.days_past_due)
    decision = ClassificationDecision.objects.create(
        contract=contract,
        customer_id=contract.customer_id,
        decided_on=on,
        previous=previous,
        proposed=proposed,
        decided=category,
        days_past_due=contract.days_past_due,
        reason=reason,
        decided_by=actor,
    )
    contract.classification = category
    contract.proposed_classification = None
    contract.classified_on = on
    contract.classified_by = actor
    contract.version += 1
    contract.save(
        update_fields=[
            "classification",
            "proposed_classification",
            "classified_on",
            "classified_by",
            "version",
            "updated_at",
        ]
    )
    record(
        actor=actor,
        action="loan.classify",
        obj=contract,
        customer_id=contract.customer_id,
        changes={
            "classification": [previous, int(category)],
            "proposed": proposed,
            "days_past_due": contract.days_past_due,
            "below_days_past_due": category < required,
            "reason": reason,
        },
    )
    return decision


@transaction.atomic
def confirm_classification(
    *, actor: User, contract_id: int, decided: int, reason: str, on: date | None = None
) -> ClassificationDecision:
    """Decide a loan's classification (Action.CLASSIFY): any category, always with a reason; it answers the batch's
    proposal, which is cleared."""
    contract = contract_for(actor, contract_id, Action.CLASSIFY, lock=True)
    category, reason = _check_decision(contract, decided, reason)
    return _decide(actor, contract, category, reason, on or timezone.localdate())


@transaction.atomic
def confirm_proposals(
    *, actor: User, proposals: Mapping[int, int], reason: str, on: date | None = None
) -> list[ClassificationDecision]:
    """Confirm several loans' proposals as they were shown ({loan id: proposed category}), with one reason; all or
    none. A proposal the batch changed since (or that someone else decided) is a conflict naming the loan."""
    on = on or timezone.localdate()
    if not proposals:
        raise ValidationError({"loans": [_("Select at least one loan.")]})
    contracts = [contract_for(actor, contract_id, Action.CLASSIFY, lock=True) for contract_id in sorted(proposals)]
    changed = [c.contract_no for c in contracts if c.proposed_classification != proposals[c.pk]]
    if changed:
        raise ConflictError(
            _("The proposal changed since you opened the list (%(loans)s): review it and confirm again.")
            % {"loans": ", ".join(changed)}
        )
    decisions = []
    for contract in contracts:
        category, checked_reason = _check_decision(contract, proposals[contract.pk], reason)
        decisions.append(_decide(actor, contract, category, checked_reason, on))
    return decisions
