"""One loan's page — terms, guarantors, drawdowns, the schedule with what is paid and overdue, repayments and their
allocation, the penalty accrual to the fen, the collection log and the classification history — the actions on it
(log a collection contact, decide the classification), and the customer 360 page's loans panel."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rmdesk.access.policy import Action
from rmdesk.customers.models import Customer
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form
from rmdesk.loans.choices import AccrualKind, InstalmentStatus, LoanStatus
from rmdesk.loans.models import AccrualSegment, LoanContract
from rmdesk.loans.queries import contract_detail, contracts_for, repayments_of, schedule_of
from rmdesk.postloan import services
from rmdesk.postloan.forms import ClassificationForm, CollectionLogForm
from rmdesk.postloan.models import ClassificationDecision, ClassificationSnapshot, CollectionLog
from rmdesk.postloan.views.common import loan_or_404, may_on

ZERO = Decimal("0.00")
PANEL_ROWS = 10
SNAPSHOT_MONTHS = 12


def detail_context(request: AuthedRequest, loan: LoanContract, **forms: Any) -> dict[str, Any]:
    user = request.user
    loan = contract_detail(loan)
    instalments = list(schedule_of(loan).select_related("drawdown"))
    segments = list(
        AccrualSegment.objects.filter(instalment__contract=loan)
        .select_related("instalment__drawdown")
        .order_by("instalment__due_date", "instalment__drawdown__number", "instalment__number", "kind", "start_date")
    )
    accrued = {kind: sum((s.amount for s in segments if s.kind == kind), ZERO) for kind in AccrualKind.values}
    by_instalment: dict[int, list[AccrualSegment]] = defaultdict(list)
    for segment in segments:
        by_instalment[segment.instalment_id].append(segment)
    active = loan.status == LoanStatus.ACTIVE
    may_log = active and may_on(user, loan, Action.CHANGE)
    may_classify = active and may_on(user, loan, Action.CLASSIFY)
    may_repay = active and may_on(user, loan, Action.POST_REPAYMENT)
    initial_category = loan.proposed_classification or loan.classification
    return {
        "loan": loan,
        "instalments": instalments,
        "several_drawdowns": len(loan.drawdowns.all()) > 1,
        "totals": _schedule_totals(instalments),
        "segments": segments,
        "accrued": accrued,
        "penalty_paid": sum((row.penalty_paid + row.compound_paid for row in instalments), ZERO),
        "repayments": list(repayments_of(loan)),
        "logs": list(CollectionLog.objects.filter(contract=loan).select_related("created_by")),
        "decisions": list(ClassificationDecision.objects.filter(contract=loan).select_related("decided_by")),
        "snapshots": list(ClassificationSnapshot.objects.filter(contract=loan).order_by("-month")[:SNAPSHOT_MONTHS]),
        "required": services.classification_for_days(loan.days_past_due),
        "may_log": may_log,
        "may_classify": may_classify,
        "may_repay": may_repay,
        "log_form": forms.get("log_form") or (CollectionLogForm(auto_id="log_%s") if may_log else None),
        "classify_form": forms.get("classify_form")
        or (ClassificationForm(initial={"decided": initial_category}, auto_id="classify_%s") if may_classify else None),
        "paid": InstalmentStatus.PAID,
        "overdue": InstalmentStatus.OVERDUE,
    }


def _schedule_totals(instalments: list[Any]) -> dict[str, Decimal]:
    def total(name: str) -> Decimal:
        return sum((getattr(row, name) for row in instalments), ZERO)

    return {
        "principal": total("principal_due"),
        "interest": total("interest_due"),
        "fee": total("fee_due"),
        "principal_paid": total("principal_paid"),
        "interest_paid": total("interest_paid"),
        "penalty": total("penalty_accrued") + total("compound_accrued"),
        "principal_unpaid": total("principal_unpaid"),
        "interest_unpaid": total("interest_unpaid"),
        "penalty_unpaid": total("penalty_unpaid"),
    }


@login_required
@require_GET
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    loan = loan_or_404(request.user, pk)
    return render(request, "postloan/loan_detail.html", detail_context(request, loan))


@login_required
@require_POST
def log_collection(request: AuthedRequest, pk: int) -> HttpResponse:
    """Record a collection contact (with a promise to pay, if any) on a loan the user works on."""
    loan = loan_or_404(request.user, pk, Action.CHANGE)
    form = CollectionLogForm(request.POST, auto_id="log_%s")
    if form.is_valid():
        data = form.cleaned_data
        call = lambda: services.log_collection(actor=request.user, contract_id=loan.pk, **data)  # noqa: E731
        if run_on_form(form, call):
            messages.success(request, _("The collection contact is recorded."))
            return redirect(reverse("postloan:detail", args=[loan.pk]) + "#collection")
    context = detail_context(request, loan_or_404(request.user, pk), log_form=form)
    return render(request, "postloan/loan_detail.html", context)


@login_required
@require_POST
def classify(request: AuthedRequest, pk: int) -> HttpResponse:
    """Decide the loan's classification (risk officers), with a reason."""
    loan = loan_or_404(request.user, pk, Action.CLASSIFY)
    form = ClassificationForm(request.POST, auto_id="classify_%s")
    if form.is_valid():
        data = form.cleaned_data
        call = lambda: services.confirm_classification(  # noqa: E731
            actor=request.user, contract_id=loan.pk, decided=data["decided"], reason=data["reason"]
        )
        if run_on_form(form, call):
            messages.success(request, _("The classification is confirmed."))
            return redirect(reverse("postloan:detail", args=[loan.pk]) + "#classification")
    context = detail_context(request, loan_or_404(request.user, pk), classify_form=form)
    return render(request, "postloan/loan_detail.html", context)


@login_required
@require_GET
def panel(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """The customer 360 page's loans panel: its loans with what is outstanding, next due, overdue and classified."""
    user = request.user
    customer = Customer.objects.restrict(user, Action.VIEW).filter(pk=customer_pk).first()
    if customer is None:
        raise Http404
    loans = contracts_for(user).filter(customer=customer).select_related("primary_rm")
    active = list(loans.filter(status=LoanStatus.ACTIVE).order_by("-days_past_due", "next_due_date", "pk"))
    closed = loans.filter(status=LoanStatus.CLOSED).count()
    context = {
        "customer": customer,
        "loans": active[:PANEL_ROWS],
        "more": max(0, len(active) - PANEL_ROWS),
        "closed": closed,
        "outstanding": sum((loan.outstanding_principal for loan in active if loan.currency == "CNY"), ZERO),
        "overdue": [loan for loan in active if loan.days_past_due > 0],
    }
    return render(request, "postloan/partials/panel.html", context)
