"""Propose each loan's five-category classification 五级分类 from its days past due (domain.md §5).

The level from days past due: more than CLASSIFY_LOSS_DAYS → loss, more than CLASSIFY_DOUBTFUL_DAYS → doubtful, more
than CLASSIFY_SUBSTANDARD_DAYS → substandard, any → special mention, none → normal. The proposal is the worse of that
level and the confirmed classification — a downgrade is never undone automatically — and is recorded only where it
differs from the confirmed one (cleared where they agree). A person with the classify right confirms it
(postloan.services). Set-based: one UPDATE per level and one that clears, each touching only rows that change.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from rmdesk.loans.choices import Classification, LoanStatus
from rmdesk.loans.models import LoanContract
from rmdesk.postloan.jobs.common import Counts, CustomerRange
from rmdesk.postloan.services import classification_for_days


def proposal_of(days_past_due: int, classification: int) -> int | None:
    """The proposal recorded on a loan: the worse of the level and the confirmed classification, None when that is
    the confirmed classification itself."""
    proposed = max(int(classification_for_days(days_past_due)), classification)
    return None if proposed == classification else proposed


def _days_at_level() -> dict[Classification, Q]:
    """For each level above normal, the days past due that call for exactly it."""
    substandard, doubtful, loss = (
        settings.CLASSIFY_SUBSTANDARD_DAYS,
        settings.CLASSIFY_DOUBTFUL_DAYS,
        settings.CLASSIFY_LOSS_DAYS,
    )
    return {
        Classification.SPECIAL_MENTION: Q(days_past_due__gt=0, days_past_due__lte=substandard),
        Classification.SUBSTANDARD: Q(days_past_due__gt=substandard, days_past_due__lte=doubtful),
        Classification.DOUBTFUL: Q(days_past_due__gt=doubtful, days_past_due__lte=loss),
        Classification.LOSS: Q(days_past_due__gt=loss),
    }


def _level_at_most_confirmed() -> Q:
    """Loans whose level from days past due is no worse than their confirmed classification."""
    substandard, doubtful, loss = (
        settings.CLASSIFY_SUBSTANDARD_DAYS,
        settings.CLASSIFY_DOUBTFUL_DAYS,
        settings.CLASSIFY_LOSS_DAYS,
    )
    return (
        Q(classification=Classification.NORMAL, days_past_due=0)
        | Q(classification=Classification.SPECIAL_MENTION, days_past_due__lte=substandard)
        | Q(classification=Classification.SUBSTANDARD, days_past_due__lte=doubtful)
        | Q(classification=Classification.DOUBTFUL, days_past_due__lte=loss)
        | Q(classification=Classification.LOSS)
    )


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Propose or clear the range's classifications; counts the loans changed per proposal and cleared."""
    contracts = LoanContract.objects.filter(customers.q())
    counts: Counts = {}
    with transaction.atomic():
        for level, days in _days_at_level().items():
            counts[f"proposed_{level.name.lower()}"] = (
                contracts.filter(days, status=LoanStatus.ACTIVE, classification__lt=level)
                .exclude(proposed_classification=level)
                .update(proposed_classification=level)
            )
        counts["cleared"] = (
            contracts.filter(proposed_classification__isnull=False)
            .filter(_level_at_most_confirmed() | ~Q(status=LoanStatus.ACTIVE))
            .update(proposed_classification=None)
        )
    return counts
