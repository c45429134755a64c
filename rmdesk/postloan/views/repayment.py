"""A repayment entered by an operations officer (money received outside the core system's daily file): posted and
allocated by `loans.repayments.post_repayment`, which decides scope (Action.POST_REPAYMENT) and the allocation."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rmdesk.access.policy import Action
from rmdesk.core.money import to_money
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form
from rmdesk.loans.choices import LoanStatus
from rmdesk.loans.repayments import PostedRepayment, post_repayment
from rmdesk.postloan.forms import RepaymentForm
from rmdesk.postloan.views.common import loan_or_404


def money(amount: Decimal) -> str:
    """As the pages show amounts: 1,234,567.80."""
    return f"{to_money(amount):,.2f}"


@login_required
@require_http_methods(["GET", "POST"])
def repayment_page(request: AuthedRequest, pk: int) -> HttpResponse:
    """The form, and on POST the repayment posted: what it paid, and any overpayment held (never applied silently)."""
    user = request.user
    loan = loan_or_404(user, pk, Action.POST_REPAYMENT)
    form = RepaymentForm(request.POST or None)
    posted: list[PostedRepayment] = []
    if request.method == "POST" and loan.status == LoanStatus.ACTIVE and form.is_valid():
        data = form.cleaned_data

        def call() -> None:
            posted.append(
                post_repayment(
                    actor=user,
                    contract=loan.pk,
                    paid_on=data["paid_on"],
                    amount=data["amount"],
                    external_ref=data["external_ref"],
                    note=data["note"],
                )
            )

        if run_on_form(form, call):
            result = posted[0]
            if result.duplicate:
                messages.warning(request, _("This reference was posted before: nothing was posted twice."))
            else:
                messages.success(
                    request,
                    _("The repayment of %(amount)s is posted.") % {"amount": money(result.repayment.amount)},
                )
                if result.overpayment:
                    messages.warning(
                        request,
                        _("%(amount)s more than was owed is held on the loan as an overpayment.")
                        % {"amount": money(result.overpayment)},
                    )
            return redirect(reverse("postloan:detail", args=[loan.pk]) + "#repayments")
    elif request.method == "POST" and loan.status != LoanStatus.ACTIVE:
        form.add_error(None, _("This loan is closed: there is nothing to repay."))
    return render(request, "postloan/repayment.html", {"loan": loan, "form": form})
