"""Task kinds, statuses and priorities. Later modules add kinds (visit due, instalment due, …)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up")
    ARCHIVE_REVIEW = "archive_review", _("Review customer file")
    DOCUMENT_RENEWAL = "document_renewal", _("Renew a document")
    FINANCIALS_DUE = "financials_due", _("Collect financial statements")
    # Customer development: first contact with a claimed prospect; a team lead decides a claim or reviews one
    # that lapsed back to the pool.
    FIRST_CONTACT = "first_contact", _("First contact with a claimed prospect")
    CLAIM_APPROVAL = "claim_approval", _("Decide a claim on a pool prospect")
    CLAIM_REVIEW = "claim_review", _("Review a claim that lapsed")
    # Visits: a planned visit, a customer past its visit cadence, an occasion that calls for a visit.
    VISIT = "visit", _("Visit a customer")
    VISIT_DUE = "visit_due", _("Visit due by cadence")
    VISIT_OCCASION = "visit_occasion", _("Visit on an occasion")
    # Loans: an instalment falling due (7, 3 and 1 days ahead), a loan newly overdue, a promise to pay that was broken.
    INSTALMENT_DUE = "instalment_due", _("Instalment falling due")
    LOAN_OVERDUE = "loan_overdue", _("Loan overdue")
    PROMISE_BROKEN = "promise_broken", _("Promise to pay broken")
    OTHER = "other", _("Other")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.IntegerChoices):
    """Lower sorts first: urgent work heads the RM's list."""

    URGENT = 1, _("Urgent")
    HIGH = 2, _("High")
    NORMAL = 3, _("Normal")
    LOW = 4, _("Low")
