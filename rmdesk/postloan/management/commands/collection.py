"""`rmdesk collection {calendar,overdue,quality} --user USERNAME [--unit CODE] [--rm USERNAME] [--month YYYY-MM]
[--json]`: the collection calendar, the overdue list and portfolio quality as USERNAME sees them on the pages and in
the API — the same queries (postloan.queries) and, with --json, the API's very answers (amounts as strings)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action, may
from rmdesk.core.money import to_money
from rmdesk.org.models import OrgUnit, User
from rmdesk.postloan.api import calendar_out, overdue_loan_out, overdue_totals_out, quality_out
from rmdesk.postloan.filters import CalendarFilter, LoanScopeFilter, OverdueFilter, PortfolioFilter
from rmdesk.postloan.queries import (
    OVERDUE_ORDERS,
    DueLine,
    collection_calendar,
    overdue_loans,
    overdue_totals,
    portfolio_quality,
)

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def money(amount: Any) -> str:
    return f"{to_money(amount):,.2f}"


class Command(BaseCommand):
    help = "Print the collection calendar, the overdue list or portfolio quality as a user sees them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("view", choices=["calendar", "overdue", "quality"])
        parser.add_argument("--user", required=True, help="whose view (their scope decides what is shown)")
        parser.add_argument("--unit", help="an org unit's code in the user's scope (a bank-wide role must give one)")
        parser.add_argument("--rm", help="only this primary RM's loans (username; calendar and overdue)")
        parser.add_argument("--month", help="YYYY-MM: the calendar's month, or the month end the migration ends at")
        parser.add_argument("--sort", default="-dpd", choices=list(OVERDUE_ORDERS), help="the overdue list's order")
        parser.add_argument("--json", action="store_true", help="print the API's answer (amounts as strings)")
        parser.add_argument("--language", choices=LANGUAGES, help="the language of labels (default: the active one)")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"] or translation.get_language()):
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None or not may(user, Action.VIEW):
                raise CommandError(_("No active user %(name)s with access to customers.") % {"name": options["user"]})
            params = self._params(options)
            view = options["view"]
            if view == "calendar":
                answer, text = self._calendar(user, params)
            elif view == "overdue":
                answer, text = self._overdue(user, params, options["sort"])
            else:
                answer, text = self._quality(user, params)
            if options["json"]:
                self.stdout.write(json.dumps(answer, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
            else:
                self.stdout.write(text)

    def _params(self, options: dict[str, Any]) -> dict[str, str]:
        params: dict[str, str] = {}
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(_("No org unit with code %(code)s.") % {"code": options["unit"]})
            params["unit"] = str(unit.pk)
        if options["rm"]:
            rm = User.objects.filter(username=options["rm"]).first()
            if rm is None:
                raise CommandError(_("No user %(name)s.") % {"name": options["rm"]})
            params["rm"] = str(rm.pk)
        if options["month"]:
            params["month"] = options["month"]
        return params

    def _checked(self, form: LoanScopeFilter, *, unit_required: bool = True) -> None:
        if not form.is_valid():
            raise CommandError(
                "; ".join(f"--{name}: {' '.join(messages)}" for name, messages in form.error_fields().items())
            )
        if unit_required and form.bank_wide and form.cleaned_data.get("unit") is None:
            raise CommandError(_("Choose a unit: the whole bank is too large for one view."))

    def _calendar(self, user: User, params: dict[str, str]) -> tuple[dict[str, Any], str]:
        form = CalendarFilter(params, user=user)
        self._checked(form)
        calendar = collection_calendar(user, month=form.cleaned_data.get("month"), **form.scope_kwargs())
        rows = [_("Collection calendar, %(day)s") % {"day": calendar.today}]
        for title, lines, totals in (
            (_("Overdue"), calendar.overdue, calendar.overdue_totals),
            (_("Due this week"), calendar.this_week, calendar.week_totals),
            (_("Due in %(month)s (from today)") % {"month": f"{calendar.month:%Y-%m}"}, calendar.this_month,
             calendar.month_totals),
        ):  # fmt: skip
            summary = _("%(lines)s lines, total %(total)s, of which penalty %(penalty)s") % {
                "lines": totals.lines,
                "total": money(totals.total),
                "penalty": money(totals.penalty),
            }
            rows.append(f"\n{title}: {summary}")
            rows.extend(_line(line) for line in lines)
        return calendar_out(calendar), "\n".join(rows)

    def _overdue(self, user: User, params: dict[str, str], sort: str) -> tuple[dict[str, Any], str]:
        form = OverdueFilter(params, user=user)
        self._checked(form, unit_required=False)
        loans = overdue_loans(user, **form.query_kwargs()).order_by(*OVERDUE_ORDERS[sort])
        totals = overdue_totals(loans)
        items = [overdue_loan_out(loan) for loan in loans]
        rows = [
            f"{item['contract_no']}\t{item['customer_name']}\t{item['days_past_due']}\t{money(item['overdue_principal'])}"
            f"\t{money(item['overdue_interest'])}\t{money(item['penalty'])}\t{item['classification_label']}"
            for item in items
        ]
        rows.append(
            _("%(loans)s overdue loans; overdue principal %(principal)s, interest %(interest)s, penalty %(penalty)s")
            % {
                "loans": totals.loans,
                "principal": money(totals.overdue_principal),
                "interest": money(totals.overdue_interest),
                "penalty": money(totals.penalty),
            }
        )
        return {"items": items, "totals": overdue_totals_out(totals)}, "\n".join(rows)

    def _quality(self, user: User, params: dict[str, str]) -> tuple[dict[str, Any], str]:
        params.pop("rm", None)
        form = PortfolioFilter(params, user=user)
        self._checked(form)
        quality = portfolio_quality(user, unit=form.cleaned_data.get("unit"), month=form.cleaned_data.get("month"))
        total = quality.total
        rows = [
            _("Loans %(loans)s, outstanding %(outstanding)s, overdue ratio %(overdue)s%%, NPL ratio %(npl)s%%")
            % {
                "loans": total.loans,
                "outstanding": money(total.outstanding),
                "overdue": total.overdue_ratio if total.overdue_ratio is not None else "—",
                "npl": total.npl_ratio if total.npl_ratio is not None else "—",
            }
        ]
        rows.extend(
            f"{row.name}\t{row.loans}\t{money(row.outstanding)}\t{row.overdue_ratio or '—'}%\t{row.npl_ratio or '—'}%"
            for row in quality.rms
        )
        return quality_out(quality), "\n".join(rows)


def _line(line: DueLine) -> str:
    return (
        f"{line.due_date}\t{line.customer_name}\t{line.contract_no}\t{money(line.principal)}\t"
        f"{money(line.interest_and_fees)}\t{money(line.penalty)}\t{money(line.total)}"
    )
