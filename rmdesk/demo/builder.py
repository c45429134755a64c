"""The demo bank behind `rmdesk demo`: an org tree, users and a customer book generated from a seed.

The same seed gives the same rows: only timestamps and the dates of tasks, of customer development
(relative to today, so the RM's "today" list is never empty and the pipeline's history ends yesterday) and of
visits (two years of them ending today, the next ones planned ahead) and loans (as of yesterday's end of day;
`rmdesk demo` then runs today's end-of-day batch) differ between two loads. The org and the staff grow with the book
(org.py); customers and everything that hangs off them, quick-search rows, visits and loans included, are made a
chunk at a time (customers.py, links.py, prospects.py, visits.py, loans.py; pipeline.py, in a second process for a
big bank) and written past the ORM (writer.py), all in one transaction with a single `demo.load` audit event
recording the load.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from rmdesk.audit.services import record
from rmdesk.core.workdays import add_working_days
from rmdesk.customers.models import (
    Customer,
    CustomerCoRM,
    CustomerNameGram,
    CustomerSearchKey,
    FinancialStatement,
    KeyPerson,
    Relationship,
)
from rmdesk.customers.search import GRAM_COLUMNS, KEY_COLUMNS
from rmdesk.demo import pipeline
from rmdesk.demo.columns import ColumnTable
from rmdesk.demo.customers import CO_RM_FIELDS, CUSTOMER_FIELDS, KEY_PERSON_FIELDS, STATEMENT_FIELDS, TASK_FIELDS
from rmdesk.demo.links import RELATIONSHIP_FIELDS
from rmdesk.demo.loans import (
    ALLOCATION_FIELDS,
    COLLECTION_FIELDS,
    CONTRACT_FIELDS,
    DECISION_FIELDS,
    DRAWDOWN_FIELDS,
    GUARANTOR_FIELDS,
    INSTALMENT_FIELDS,
    INSTALMENTS,
    REPAYMENT_FIELDS,
    SEGMENT_FIELDS,
    SNAPSHOT_FIELDS,
    SNAPSHOTS,
    plan_loans,
    record_last_end_of_day,
)
from rmdesk.demo.org import (
    DEMO_PASSWORD,
    DEMO_USERS,
    NAMED_USERS,
    DemoLogin,
    NamedUser,
    create_units,
    create_users,
    plan_org,
)
from rmdesk.demo.pipeline import BookMaker, ChunkRows
from rmdesk.demo.prospects import (
    CLAIM_FIELDS,
    ITEM_RATING_FIELDS,
    POOL_RULES,
    PROSPECT_FIELDS,
    STAGE_CHANGE_FIELDS,
    DevelopmentPlan,
)
from rmdesk.demo.visits import (
    ATTENDEE_FIELDS,
    CONTACT_FIELDS,
    EVENT_FIELDS,
    OTHER_BANK_FIELDS,
    PRODUCT_FIELDS,
    PROPOSAL_FIELDS,
    VISIT_FIELDS,
    Contact,
    Show,
    Showcase,
    VisitPlan,
    choose_attendees,
)
from rmdesk.demo.vocabulary import RATING_WEIGHTS, Weights
from rmdesk.demo.writer import BulkWriter, DemoBankError, Row
from rmdesk.development.choices import ClaimStatus
from rmdesk.development.models import Claim, ItemRating, PoolRule, Prospect, StageChange
from rmdesk.development.pool import CLAIM_SOURCE, DECISION_DAYS, deciders
from rmdesk.loans.models import (
    AccrualSegment,
    Drawdown,
    Instalment,
    LoanContract,
    LoanGuarantor,
    Repayment,
    RepaymentAllocation,
)
from rmdesk.org.choices import Role
from rmdesk.org.models import OrgUnit, User
from rmdesk.postloan.models import ClassificationDecision, ClassificationSnapshot, CollectionLog
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits.cadence import cadence_intervals
from rmdesk.visits.choices import FollowUpKind
from rmdesk.visits.models import (
    CustomerEvent,
    FollowUp,
    OtherBankCredit,
    ProductPresented,
    Proposal,
    Visit,
    VisitBankAttendee,
    VisitContact,
)
from rmdesk.visits.services import FOLLOW_UP_SOURCE

__all__ = [
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "NAMED_USERS",
    "DemoBankError",
    "DemoLogin",
    "DemoSummary",
    "NamedUser",
    "Progress",
    "build_demo_bank",
]

DEFAULT_SEED = 20261128
# Customers are generated and written a chunk at a time so a million-customer bank never sits in memory;
# links between customers stay inside a chunk for the same reason.
CHUNK_SIZE = 5_000

# progress(stage, done, total, rows): `done` of `total` in the stage; `rows` written to the database so far.
Progress = Callable[[str, int, int, int], None]
# Next steps agreed on a named RM's showcase visit (the last working day's): (what, in how many working days).
SHOWCASE_FOLLOW_UPS = (("提交流动资金贷款授信方案", 5), ("安排产品经理上门演示现金管理平台", 3))
KEY_PERSON_BATCH = 5_000  # customers whose key persons are read in one query


@dataclass(frozen=True)
class DemoSummary:
    """How many rows of each kind the demo load wrote."""

    org_units: int
    users: int
    customers: int
    co_rms: int
    key_persons: int
    financial_statements: int
    relationships: int
    prospects: int
    stage_changes: int
    claims: int
    item_ratings: int
    customer_events: int
    visits: int
    visit_contacts: int
    visit_bank_attendees: int
    proposals: int
    products_presented: int
    other_bank_credits: int
    follow_ups: int
    loans: int
    loan_guarantors: int
    instalments: int
    accrual_segments: int
    repayments: int
    repayment_allocations: int
    collection_logs: int
    classification_decisions: int
    classification_snapshots: int
    tasks: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def build_demo_bank(
    *, customers: int = 2000, seed: int = DEFAULT_SEED, progress: Progress | None = None
) -> DemoSummary:
    """Create the demo bank in one transaction; the same seed gives the same bank."""
    if customers < 1:
        raise ValueError("the demo bank needs at least one customer")
    report: Progress = progress or (lambda stage, done, total, rows: None)
    writer = BulkWriter(connection)
    with writer.journal_for_load(), transaction.atomic():
        if OrgUnit.objects.exists() or User.objects.exists():
            raise DemoBankError("the database already has org units or users; load the demo into an empty one")
        with writer.bulk_load(customers):
            summary = _load(writer, customers=customers, seed=seed, report=report)
        record(actor=None, action="demo.load", changes={"seed": seed, **summary.as_dict()})
        report("commit", 0, 1, writer.rows)
    if not connection.in_atomic_block:
        writer.checkpoint()
    report("commit", 1, 1, writer.rows)
    return summary


def _load(writer: BulkWriter, *, customers: int, seed: int, report: Progress) -> DemoSummary:
    def rng(purpose: str) -> random.Random:
        return random.Random(f"rmdesk-demo:{seed}:{purpose}")

    plan = plan_org(customers, rng("org"))
    units = create_units(plan)
    report("org", len(units), len(units), writer.rows)
    users, rms = create_users(plan, units, rng("users"))
    report("users", len(users), len(users), writer.rows)
    PoolRule.objects.bulk_create(
        PoolRule(unit=units[code], approval_required=approval, contact_days=days)
        for code, approval, days in POOL_RULES
        if code in units
    )

    tables = _ChunkTables(writer)
    today = timezone.localdate()
    book_options = {
        "seed": seed,
        "rms": rms,
        "customers": customers,
        "first_id": writer.next_id(Customer),
        "first_relationship_id": writer.next_id(Relationship),
        "first_prospect_id": writer.next_id(Prospect),
        "ratings": Weights([(r, RATING_WEIGHTS.get(r, 1)) for r in settings.CREDIT_RATING_SCALE]),
        "stamp": writer.datetime(timezone.now()),
        "today": writer.date(date.today()),  # what auto_now_add gives a co-RM link's `since`
        "development": DevelopmentPlan.for_units(
            {code: unit.pk for code, unit in units.items()},
            today=today,
            zone=settings.TIME_ZONE,
            text_times=writer.connection.vendor == "sqlite",
        ),
    }
    visits = VisitPlan(
        seed=seed,
        today=today,
        zone=settings.TIME_ZONE,
        text_times=writer.connection.vendor == "sqlite",
        intervals=cadence_intervals(),
        rms=tuple(rms),
        first_visit_id=writer.next_id(Visit),
        first_event_id=writer.next_id(CustomerEvent),
        stamp=book_options["stamp"],
    )
    loans = plan_loans(
        seed=seed,
        today=today,
        rms=rms,
        risk_officer=next(user.pk for user in users if user.role == Role.RISK_OFFICER),
        stamp=book_options["stamp"],
        text_times=writer.connection.vendor == "sqlite",
        first_ids=[writer.next_id(model) for model in (LoanContract, Drawdown, Instalment, Repayment, CollectionLog)],
    )

    def indexes_built(built: int, total: int) -> None:
        report("indexes", built, total, writer.rows)

    report("customers", 0, customers, writer.rows)
    with BookMaker(parallel=customers >= pipeline.PARALLEL_FROM, visits=visits, loans=loans, **book_options) as maker:
        with writer.indexes_built_after(tables.models, progress=indexes_built):
            done = 0
            for chunk in maker.chunks(customers, CHUNK_SIZE):
                done += tables.write(chunk)
                report("customers", done, customers, writer.rows)
            tables.drop_temporary()
        tasks = maker.tasks(today)
    writer.reset_sequences(Customer, Relationship, Prospect, Visit, CustomerEvent, LoanContract, Drawdown, Instalment,
                           Repayment, CollectionLog)  # fmt: skip
    tasks += _claim_decisions(today, writer.datetime(timezone.now()))
    tasks += tables.visit_tasks
    tasks += tables.loan_tasks
    writer.write(writer.table(Task, TASK_FIELDS), tasks)
    people = _visit_people(writer, tables.contacts, tables.showcase, today)
    tasks_made = len(tasks) + people["follow_ups"]
    report("tasks", tasks_made, tasks_made, writer.rows)
    record_last_end_of_day(loans.as_of)
    return DemoSummary(
        org_units=len(units), users=len(users), customers=customers, tasks=tasks_made, **tables.counts, **people
    )


def _visit_people(
    writer: BulkWriter, contacts: Sequence[Contact], showcase: Sequence[Showcase], today: date
) -> dict[str, int]:
    """Who attends the planned and showcase visits, and the showcase visits' follow-ups: what needs the ids the
    database gave key persons and tasks. Returns how many of each were written."""
    people: dict[int, list[tuple[int, str]]] = defaultdict(list)
    customer_ids = sorted({contact.customer_id for contact in contacts})
    for start in range(0, len(customer_ids), KEY_PERSON_BATCH):
        batch = customer_ids[start : start + KEY_PERSON_BATCH]
        for pk, customer_id, role in KeyPerson.objects.filter(customer_id__in=batch).values_list(
            "pk", "customer_id", "role"
        ):
            people[customer_id].append((pk, role))
    contact_rows = [(c.visit_id, pk) for c in contacts for pk in choose_attendees(people[c.customer_id], c.people)]
    writer.write(writer.table(VisitContact, CONTACT_FIELDS), contact_rows)

    # The team lead went along on the last working day's visit; the branch head goes on the next one planned.
    leaders = list(User.objects.filter(role__in=(Role.TEAM_LEAD, Role.BRANCH_HEAD)).select_related("unit"))
    rms = {user.pk: user for user in User.objects.filter(pk__in={s.rm_id for s in showcase}).select_related("unit")}
    attendees: list[Row] = []
    first_planned: set[int] = set()
    for shown in showcase:
        rm = rms[shown.rm_id]
        if shown.show is Show.YESTERDAY:
            wanted = [u for u in leaders if u.role == Role.TEAM_LEAD and u.unit_id == rm.unit_id]
        elif shown.show is Show.UPCOMING and rm.pk not in first_planned:
            first_planned.add(rm.pk)
            path = rm.unit.path if rm.unit else ""
            wanted = [u for u in leaders if u.role == Role.BRANCH_HEAD and u.unit and path.startswith(u.unit.path)]
        else:
            continue
        attendees += [(shown.visit_id, user.pk) for user in wanted]
    writer.write(writer.table(VisitBankAttendee, ATTENDEE_FIELDS), attendees)

    # Next steps agreed on the showcase visits: a follow-up each, with its task (the services' way).
    follow_ups = 0
    done = [shown for shown in showcase if shown.show is Show.YESTERDAY]
    customers = dict(Visit.objects.filter(pk__in=[s.visit_id for s in done]).values_list("pk", "customer_id"))
    for shown in done:
        for description, days in SHOWCASE_FOLLOW_UPS:
            follow_up = FollowUp.objects.create(
                visit_id=shown.visit_id, kind=FollowUpKind.TASK, description=description, created_by_id=shown.rm_id
            )
            follow_up.task = Task.objects.create(
                kind=TaskKind.FOLLOW_UP,
                title=description,
                customer_id=customers[shown.visit_id],
                owner_id=shown.rm_id,
                due_date=add_working_days(today, days),
                source_type=FOLLOW_UP_SOURCE,
                source_id=str(follow_up.pk),
            )
            follow_up.save(update_fields=["task"])
            follow_ups += 1
    return {"visit_contacts": len(contact_rows), "visit_bank_attendees": len(attendees), "follow_ups": follow_ups}


def _claim_decisions(today: date, stamp: object) -> list[Row]:
    """A task for whoever decides each pending claim (the team lead, else the head above), as a claim raises it."""
    rows: list[Row] = []
    who: dict[int, list[User]] = {}
    pending = Claim.objects.filter(status=ClaimStatus.PENDING).select_related("rm", "prospect__customer__owning_unit")
    for claim in pending.order_by("pk"):
        customer = claim.prospect.customer
        unit = customer.owning_unit
        if unit.pk not in who:
            who[unit.pk] = deciders(unit)
        due = add_working_days(timezone.localdate(claim.created_at), DECISION_DAYS).isoformat()
        title = f"审批{claim.rm.full_name}对{customer.name}的认领申请"
        for lead in who[unit.pk]:
            rows.append((TaskKind.CLAIM_APPROVAL.value, title, customer.pk, lead.pk, due, TaskStatus.OPEN.value,
                         Priority.NORMAL.value, None, stamp, stamp, CLAIM_SOURCE, str(claim.pk)))  # fmt: skip
    return rows


class _ChunkTables:
    """Where a chunk's rows go, and how many of each kind went."""

    def __init__(self, writer: BulkWriter) -> None:
        self.writer = writer
        self.customers = writer.table(Customer, (*CUSTOMER_FIELDS, "search_name", "search_letters"))
        self.co_rms = writer.table(CustomerCoRM, CO_RM_FIELDS)
        self.key_persons = writer.table(KeyPerson, KEY_PERSON_FIELDS)
        self.statements = writer.table(FinancialStatement, STATEMENT_FIELDS)
        self.relationships = writer.table(Relationship, RELATIONSHIP_FIELDS)
        self.prospects = writer.table(Prospect, PROSPECT_FIELDS)
        self.stage_changes = writer.table(StageChange, STAGE_CHANGE_FIELDS)
        self.claims = writer.table(Claim, CLAIM_FIELDS)
        self.ratings = writer.table(ItemRating, ITEM_RATING_FIELDS)
        self.grams = writer.table(CustomerNameGram, GRAM_COLUMNS)
        self.keys = writer.table(CustomerSearchKey, KEY_COLUMNS)
        self.events = writer.table(CustomerEvent, EVENT_FIELDS)
        self.visits = writer.table(Visit, VISIT_FIELDS)
        self.proposals = writer.table(Proposal, PROPOSAL_FIELDS)
        self.products = writer.table(ProductPresented, PRODUCT_FIELDS)
        self.other_banks = writer.table(OtherBankCredit, OTHER_BANK_FIELDS)
        self.contracts = writer.table(LoanContract, CONTRACT_FIELDS)
        self.guarantors = writer.table(LoanGuarantor, GUARANTOR_FIELDS)
        self.drawdowns = writer.table(Drawdown, DRAWDOWN_FIELDS)
        self.instalment_columns = ColumnTable(writer, INSTALMENTS)
        self.instalments = writer.table(Instalment, INSTALMENT_FIELDS)
        self.segments = writer.table(AccrualSegment, SEGMENT_FIELDS)
        self.repayments = writer.table(Repayment, REPAYMENT_FIELDS)
        self.allocations = writer.table(RepaymentAllocation, ALLOCATION_FIELDS)
        self.collection_logs = writer.table(CollectionLog, COLLECTION_FIELDS)
        self.decisions = writer.table(ClassificationDecision, DECISION_FIELDS)
        self.snapshot_columns = ColumnTable(writer, SNAPSHOTS)
        self.snapshots = writer.table(ClassificationSnapshot, SNAPSHOT_FIELDS)
        self.tables = (self.customers, self.co_rms, self.key_persons, self.statements, self.relationships,
                       self.prospects, self.stage_changes, self.claims, self.ratings, self.grams,
                       self.keys, self.events, self.visits, self.proposals, self.products,
                       self.other_banks, self.contracts, self.guarantors, self.drawdowns, self.instalments,
                       self.segments, self.repayments, self.allocations, self.collection_logs, self.decisions,
                       self.snapshots)  # fmt: skip
        self.models = [table.model for table in self.tables]
        self.counts = dict.fromkeys(("co_rms", "key_persons", "financial_statements", "relationships", "prospects",
                                     "stage_changes", "claims", "item_ratings", "customer_events", "visits",
                                     "proposals", "products_presented", "other_bank_credits", "loans",
                                     "loan_guarantors", "instalments", "accrual_segments", "repayments",
                                     "repayment_allocations", "collection_logs", "classification_decisions",
                                     "classification_snapshots"), 0)  # fmt: skip
        # Written after the chunks: visit tasks with the others, attendees once key persons have their ids.
        self.visit_tasks: list[Row] = []
        self.loan_tasks: list[Row] = []
        self.contacts: list[Contact] = []
        self.showcase: list[Showcase] = []

    def write(self, chunk: ChunkRows) -> int:
        """Write the chunk, parents first; returns how many customers it held."""
        self.writer.write(self.customers, chunk.customers)
        self.writer.write(self.co_rms, chunk.co_rms)
        self.writer.write(self.key_persons, chunk.key_persons)
        self.writer.write(self.statements, chunk.statements)
        self.writer.write(self.relationships, chunk.relationships)
        self.writer.write(self.prospects, chunk.prospects)
        self.writer.write(self.stage_changes, chunk.stage_changes)
        self.writer.write(self.claims, chunk.claims)
        self.writer.write(self.ratings, chunk.ratings)
        self.writer.write(self.grams, chunk.grams)
        self.writer.write(self.keys, chunk.keys)
        visits = chunk.visits
        self.writer.write(self.events, visits.events)  # before the visits planned for them
        self.writer.write(self.visits, visits.visits)
        self.writer.write(self.proposals, visits.proposals)
        self.writer.write(self.products, visits.products)
        self.writer.write(self.other_banks, visits.other_banks)
        loans = chunk.loans
        self.writer.write(self.contracts, loans.contracts)
        self.writer.write(self.guarantors, loans.guarantors)
        self.writer.write(self.drawdowns, loans.drawdowns)
        self.instalment_columns.write(loans.instalment_columns)
        self.writer.write(self.instalments, loans.full_instalments)
        self.writer.write(self.segments, loans.segments)
        self.writer.write(self.repayments, loans.repayments)
        self.writer.write(self.allocations, loans.allocations)
        self.writer.write(self.collection_logs, loans.collection_logs)
        self.writer.write(self.decisions, loans.decisions)
        self.snapshot_columns.write(loans.snapshot_columns)
        self.writer.write(self.snapshots, loans.snapshots)
        self.visit_tasks += visits.tasks
        self.loan_tasks += loans.tasks
        self.contacts += visits.contacts
        self.showcase += visits.showcase
        for name, rows in (("co_rms", chunk.co_rms), ("key_persons", chunk.key_persons),
                           ("financial_statements", chunk.statements), ("relationships", chunk.relationships),
                           ("prospects", chunk.prospects), ("stage_changes", chunk.stage_changes),
                           ("claims", chunk.claims), ("item_ratings", chunk.ratings),
                           ("customer_events", visits.events), ("visits", visits.visits),
                           ("proposals", visits.proposals), ("products_presented", visits.products),
                           ("other_bank_credits", visits.other_banks), ("loans", loans.contracts),
                           ("loan_guarantors", loans.guarantors), ("accrual_segments", loans.segments),
                           ("repayments", loans.repayments), ("repayment_allocations", loans.allocations),
                           ("collection_logs", loans.collection_logs),
                           ("classification_decisions", loans.decisions)):  # fmt: skip
            self.counts[name] += len(rows)
        self.counts["instalments"] += loans.instalment_count
        self.counts["classification_snapshots"] += loans.snapshot_count
        return len(chunk.customers)

    def drop_temporary(self) -> None:
        """The temporary tables integer columns went through."""
        self.instalment_columns.drop()
        self.snapshot_columns.drop()
