"""Put the day's collection work on the primary RMs' task lists: instalments falling due in 7, 3 and 1 days
(settings.DUE_REMINDER_DAYS), loans newly overdue (days past due 1), and promises to pay that were broken.

Every task is keyed by what raised it (source type and id: the instalment and the days ahead, the contract and the
day it fell overdue, the collection record), and a key already used — by a task open, done or cancelled — is never
used again, so a second run or a resumed one opens nothing twice. Tasks are written in bulk, like the visit cadence
job's (visits/cadence.py), with one audit event for the job run instead of one per task; titles are in the bank's
language, since a batch has no reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rmdesk.customers.models import Customer
from rmdesk.loans.choices import LoanStatus
from rmdesk.loans.models import Instalment, LoanContract, Repayment
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.jobs import _sql
from rmdesk.postloan.jobs.common import CHUNK, UNPAID, Counts, CustomerRange, chunks, fen, from_fen
from rmdesk.postloan.models import CollectionLog
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus
from rmdesk.tasks.models import Task

INSTALMENT_SOURCE = "loans.instalment"
CONTRACT_SOURCE = "loans.contract"
PROMISE_SOURCE = "postloan.collectionlog"


class NewTask(NamedTuple):
    """A task to open, in the order of TASK_COLUMNS before the status and timestamps."""

    kind: str
    title: str
    customer_id: int
    owner_id: int
    due_date: date
    priority: int
    source_type: str
    source_id: str


TASK_COLUMNS = (
    "kind", "title", "customer", "owner", "due_date", "priority", "source_type", "source_id",
    "status", "created_at", "updated_at",
)  # fmt: skip


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Open the range's reminders for `on`; counts the tasks opened per kind and the promises settled."""
    # A batch job has no reader: titles are written in the bank's language.
    with translation.override(settings.LANGUAGE_CODE):
        due = _instalments_due(on, customers)
        overdue = _newly_overdue(on, customers)
        kept, broken = _promises(on, customers)
    return {"instalment_due": due, "loan_overdue": overdue, "promises_kept": kept, "promises_broken": broken}


def _open(tasks: list[NewTask]) -> int:
    """Write new tasks in one statement per batch (the ORM's bulk_create spends seconds building and preparing tens
    of thousands of tasks field by field); returns how many."""
    # As the ORM writes a timestamp on this database (naive UTC text on SQLite).
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(*task[:1], task.title[:200], *task[2:], TaskStatus.OPEN, now, now) for task in tasks]
    for batch in chunks(rows, CHUNK):
        with transaction.atomic():
            _sql.insert_rows(Task, TASK_COLUMNS, batch)
    return len(rows)


def _names(customer_ids: Iterable[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for chunk in chunks(sorted(set(customer_ids))):
        names.update(Customer.objects.filter(pk__in=chunk).values_list("pk", "name"))
    return names


def _used_keys(kind: str, source_type: str, candidates: Iterable[str], **narrowing: Any) -> set[str]:
    """The keys among `candidates` a task of `kind` already has (open, done or cancelled)."""
    wanted = set(candidates)
    if not wanted:
        return set()
    keys = Task.objects.filter(kind=kind, source_type=source_type, **narrowing).values_list("source_id", flat=True)
    return wanted & set(keys.order_by())


def _task_range(customers: CustomerRange) -> dict[str, int]:
    if customers.whole_bank:
        return {}
    return {"customer_id__gte": customers.first, "customer_id__lte": customers.last}


def _instalments_due(on: date, customers: CustomerRange) -> int:
    days_ahead = {on + timedelta(days=days): days for days in settings.DUE_REMINDER_DAYS}
    owed = F("principal_due") - F("principal_paid") + F("interest_due") - F("interest_paid")
    rows = list(
        Instalment.objects.filter(UNPAID, customers.q(), due_date__in=list(days_ahead))
        .filter(contract__status=LoanStatus.ACTIVE)
        .order_by()  # sorted below: an ORDER BY would make SQLite walk the table instead of the unpaid index
        .values_list(
            "pk",
            "due_date",
            "customer_id",
            "contract__contract_no",
            "contract__primary_rm_id",
            fen(owed + F("fee_due") - F("fee_paid")),
        )
    )
    rows.sort(key=lambda row: (row[1], row[0]))
    keyed = {f"{row[0]}:{days_ahead[row[1]]}": row for row in rows}
    # Narrowed to the due dates concerned: the key alone has no index, and the tasks of years pile up.
    used = _used_keys(
        TaskKind.INSTALMENT_DUE, INSTALMENT_SOURCE, keyed, due_date__in=list(days_ahead), **_task_range(customers)
    )
    todo = [(key, row) for key, row in keyed.items() if key not in used]
    names = _names(row[2] for _, row in todo)
    template = _("Instalment due in %(days)s day(s): %(name)s, loan %(contract)s, %(amount)s on %(due)s")
    tasks = []
    for key, (_pk, due_date, customer_id, contract_no, rm_id, amount) in todo:
        days = days_ahead[due_date]
        title = template % {
            "days": days,
            "name": names.get(customer_id, ""),
            "contract": contract_no,
            "amount": f"{from_fen(amount):,}",
            "due": due_date.isoformat(),
        }
        priority = Priority.HIGH if days <= 1 else Priority.NORMAL
        tasks.append(
            NewTask(TaskKind.INSTALMENT_DUE, title, customer_id, rm_id, due_date, priority, INSTALMENT_SOURCE, key)
        )
    return _open(tasks)


def _newly_overdue(on: date, customers: CustomerRange) -> int:
    rows = list(
        # days_past_due > 0 as well: the words of the `loan_overdue` partial index, so SQLite uses it.
        LoanContract.objects.filter(customers.q(), status=LoanStatus.ACTIVE, days_past_due__gt=0, days_past_due=1)
        .order_by("pk")
        .values_list(
            "pk",
            "customer_id",
            "contract_no",
            "primary_rm_id",
            "overdue_since",
            fen("overdue_principal"),
            fen("overdue_interest"),
        )
    )
    keyed = {f"{row[0]}:{row[4].isoformat()}": row for row in rows}
    used: set[str] = set()
    for chunk in chunks(list(keyed)):
        used |= _used_keys(TaskKind.LOAN_OVERDUE, CONTRACT_SOURCE, chunk, source_id__in=chunk)
    todo = [(key, row) for key, row in keyed.items() if key not in used]
    names = _names(row[1] for _, row in todo)
    template = _("Loan %(contract)s of %(name)s is overdue since %(since)s: %(amount)s unpaid")
    tasks = [
        NewTask(
            TaskKind.LOAN_OVERDUE,
            template
            % {
                "contract": contract_no,
                "name": names.get(customer_id, ""),
                "since": since.isoformat(),
                "amount": f"{from_fen(principal + interest):,}",
            },
            customer_id,
            rm_id,
            on,
            Priority.URGENT,
            CONTRACT_SOURCE,
            key,
        )
        for key, (_pk, customer_id, contract_no, rm_id, since, principal, interest) in todo
    ]
    return _open(tasks)


def _promises(on: date, customers: CustomerRange) -> tuple[int, int]:
    """Settle open promises to pay: kept once what was repaid from the contact through the promised date reaches the
    promised amount; broken once that date has passed short of it (a task to the loan's primary RM)."""
    repaid = (
        Repayment.objects.filter(
            contract_id=OuterRef("contract_id"),
            paid_on__gte=OuterRef("contacted_on"),
            paid_on__lte=OuterRef("promise_date"),
        )
        .order_by()
        .values("contract_id")
        .annotate(total=Sum(fen("amount")))
        .values("total")
    )
    rows = list(
        CollectionLog.objects.filter(
            customers.q(), promise_status=PromiseStatus.OPEN, promise_date__isnull=False, promise_amount__isnull=False
        )
        .annotate(repaid=Coalesce(Subquery(repaid, output_field=IntegerField()), Value(0)))
        .order_by("pk")
        .values_list(
            "pk",
            "customer_id",
            "promise_date",
            fen("promise_amount"),
            "repaid",
            "contract__contract_no",
            "contract__primary_rm_id",
        )
    )
    kept = [row[0] for row in rows if row[4] >= row[3]]
    broken = [row for row in rows if row[4] < row[3] and row[2] < on]
    names = _names(row[1] for row in broken)
    template = _(
        "Promise to pay broken: %(name)s promised %(amount)s on loan %(contract)s by %(date)s, repaid %(repaid)s"
    )
    now = timezone.now()
    with transaction.atomic():
        # Each promise is settled with its task in one transaction: a resumed run finds it settled, and opens none.
        for chunk in chunks(kept):
            CollectionLog.objects.filter(pk__in=chunk, promise_status=PromiseStatus.OPEN).update(
                promise_status=PromiseStatus.KEPT, updated_at=now
            )
        broken_ids = [row[0] for row in broken]
        for chunk in chunks(broken_ids):
            CollectionLog.objects.filter(pk__in=chunk, promise_status=PromiseStatus.OPEN).update(
                promise_status=PromiseStatus.BROKEN, updated_at=now
            )
        keys = [str(pk) for pk in broken_ids]
        used: set[str] = set()
        for chunk in chunks(keys):
            used |= _used_keys(TaskKind.PROMISE_BROKEN, PROMISE_SOURCE, chunk, source_id__in=chunk)
        _open(
            [
                NewTask(
                    TaskKind.PROMISE_BROKEN,
                    template
                    % {
                        "name": names.get(customer_id, ""),
                        "amount": f"{from_fen(amount):,}",
                        "contract": contract_no,
                        "date": promise_date.isoformat(),
                        "repaid": f"{from_fen(paid):,}",
                    },
                    customer_id,
                    rm_id,
                    on,
                    Priority.URGENT,
                    PROMISE_SOURCE,
                    str(pk),
                )
                for pk, customer_id, promise_date, amount, paid, contract_no, rm_id in broken
                if str(pk) not in used
            ]
        )
    return len(kept), len(broken)
