"""End of day (issue 6): `rmdesk eod` on a bank of loans, the same date again, and the naive per-loan ORM loop.

(a) `rmdesk eod --date D [--workers N]` as a user runs it (a process of its own, start-up included), timed. D is the
    business date after the bank's last complete one (or --date for a bank never run). The first date a bank runs is
    its initialisation: every overdue instalment's segments from the day it fell overdue, every contract's state;
    each later date is an ordinary day. The end-of-day is real: the bank moves on by one date per run of this script.
(b) The same command for the same date again: every job is done, so it is skipped (≤ 5 s, checked: nothing changed).
(c) `--rerun` of the same date: every job runs again and must change nothing (checked: the fingerprint below is the
    same before and after).
(d) The naive reference, on --naive-sample loans (seeded) before (a), for the same date, in a transaction rolled back:
    per loan its contract and instalments loaded as objects, each instalment's status set and saved, its penalty and
    compound segments read, extended or started (Decimal, loans/penalty.py's reference) and saved one by one, the
    instalment's totals saved, the contract's state summed in Python and saved, its classification proposal set —
    what a first version written with the ORM's conveniences does. Its time per loan times the bank's active loans,
    against (a), gives the ratio (target ≥ 20×).

The fingerprint that (b) and (c) compare: counts and sums over instalments (status, paid, accrued, accrued_through),
accrual segments, contracts' state and proposals, tasks, snapshots and the audit chain's length, minus the ledger's
own rows and the one audit event per job run that (c) writes.

A bank without loans gets them first with --generate-loans N (seeded, on the bank's customers with a primary RM,
written straight into the tables like the demo loader): terms of 12–60 months, equal principal, about 36 instalments a
loan, drawn so that each is part-way through its term on --as-of; instalments due before it are paid, except on 3% of
the loans, whose last one to thirteen are unpaid; one loan in five floats on the LPR, repriced on its anniversary.

Usage:
    RMDESK_DATA_DIR=/tmp/h4bank .venv/bin/rmdesk demo --customers 50000 --no-serve
    RMDESK_DATA_DIR=/tmp/h4bank .venv/bin/python bench/bench_eod.py --generate-loans 200000 --as-of 2026-10-30
    RMDESK_DATA_DIR=/tmp/h4bank .venv/bin/python bench/bench_eod.py --date 2026-10-30   # initialisation
    RMDESK_DATA_DIR=/tmp/h4bank .venv/bin/python bench/bench_eod.py                     # the next day: ordinary
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL, --workers N to split the jobs among N processes.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")

EOD_TARGET_S = 60
SECOND_RUN_TARGET_S = 5
RATIO_TARGET = 20
ROOT = Path(__file__).resolve().parent.parent


class Rollback(Exception):
    """Raised to leave a transaction whose writes were only measured."""


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


# --- the bank of loans ------------------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    import calendar

    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def generate_loans(count: int, as_of: date, seed: int) -> None:
    """Write `count` loans with their drawdowns and instalments onto the bank's customers (see the docstring)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from rmdesk.customers.models import Customer
    from rmdesk.demo.writer import BulkWriter
    from rmdesk.loans.models import Drawdown, Instalment, LoanContract

    if LoanContract.objects.exists():
        sys.exit("the bank already has loans: --generate-loans only fills a bank without any")
    rng = random.Random(seed)
    owners = list(Customer.objects.filter(primary_rm__isnull=False).order_by("pk").values_list("pk", "primary_rm_id"))
    if not owners:
        sys.exit("the bank has no customer with a primary RM: load the demo bank first")
    writer = BulkWriter(connection)
    now = writer.datetime(timezone.now())
    contract_fields = (
        "id", "contract_no", "customer_id", "product", "currency", "amount", "term_months", "repayment_method",
        "interest_day", "rate_kind", "fixed_rate_pct", "lpr_spread_bp", "repricing_rule", "current_rate_pct",
        "next_repricing_on", "guarantee_method", "purpose", "primary_rm_id", "start_date", "maturity_date", "status",
        "schedule_source", "created_at", "updated_at",
    )  # fmt: skip
    drawdown_fields = ("id", "contract_id", "number", "drawn_on", "amount", "months", "external_ref")
    instalment_fields = (
        "contract_id", "drawdown_id", "customer_id", "number", "scheduled_date", "due_date", "due_date_provisional",
        "rate_pct", "principal_due", "interest_due", "fee_due", "principal_paid", "interest_paid", "fee_paid",
        "penalty_accrued", "compound_accrued", "penalty_paid", "compound_paid", "status", "paid_on",
    )  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic(), writer.bulk_load(len(owners)):
        contracts_t = writer.table(LoanContract, contract_fields)
        drawdowns_t = writer.table(Drawdown, drawdown_fields)
        instalments_t = writer.table(Instalment, instalment_fields)
        first_id = writer.next_id(LoanContract)
        first_drawdown = writer.next_id(Drawdown)
        with writer.indexes_built_after([Instalment], lambda done, total: None):
            contracts, drawdowns, instalments = [], [], []
            instalment_count = overdue_loans = 0
            for n in range(count):
                contract_id, drawdown_id = first_id + n, first_drawdown + n
                customer_id, rm_id = owners[rng.randrange(len(owners))]
                months = rng.choice((12, 24, 36, 36, 48, 60))
                start = as_of - timedelta(days=rng.randint(1, months * 30 - 1))
                maturity = add_months(start, months)
                amount_fen = rng.randint(50, 2000) * 1_000_000  # 500,000 to 20,000,000 yuan
                floating = rng.random() < 0.2
                rate = Decimal(rng.randint(300, 600)) / 100
                spread = rng.randint(-50, 150) if floating else None
                if floating:
                    rate = Decimal("3.00") + Decimal(spread or 0) / 100
                next_repricing = None
                if floating:
                    years = 1
                    while add_months(start, 12 * years) < as_of:
                        years += 1
                    anniversary = add_months(start, 12 * years)
                    next_repricing = anniversary if anniversary < maturity else None
                due_dates = [add_months(start, k) for k in range(1, months + 1)]
                past = sum(1 for day in due_dates if day < as_of)
                unpaid_from = past
                if past and rng.random() < 0.03:
                    overdue_loans += 1
                    unpaid_from = max(0, past - rng.choice((1, 1, 1, 2, 2, 3, 4, 6, 9, 13)))
                contracts.append(
                    (
                        contract_id, f"HT-BENCH-{contract_id:07d}", customer_id, "working_capital", "CNY",
                        _money(amount_fen), months, "equal-principal", 20,
                        "lpr_1y" if floating else "fixed", None if floating else str(rate), spread,
                        "anniversary" if floating else "", str(rate),
                        writer.date(next_repricing) if next_repricing else None, "credit", "", rm_id,
                        writer.date(start), writer.date(maturity), "active", "rmdesk", now, now,
                    )
                )  # fmt: skip
                drawdowns.append((drawdown_id, contract_id, 1, writer.date(start), _money(amount_fen), months, ""))
                rate_micro = int(rate * 1_000_000)
                principal_each = amount_fen // months
                balance = amount_fen
                for k, due in enumerate(due_dates, start=1):
                    principal = principal_each if k < months else balance
                    interest = (2 * balance * rate_micro + 12 * 10**8) // (24 * 10**8)
                    balance -= principal
                    paid = k <= unpaid_from
                    instalments.append(
                        (
                            contract_id, drawdown_id, customer_id, k, writer.date(due), writer.date(due), False,
                            str(rate), _money(principal), _money(interest), "0.00",
                            _money(principal) if paid else "0.00", _money(interest) if paid else "0.00", "0.00",
                            "0.00", "0.00", "0.00", "0.00", "paid" if paid else "scheduled",
                            writer.date(due) if paid else None,
                        )
                    )  # fmt: skip
                if len(instalments) >= 200_000:
                    writer.write(contracts_t, contracts)
                    writer.write(drawdowns_t, drawdowns)
                    writer.write(instalments_t, instalments)
                    instalment_count += len(instalments)
                    contracts, drawdowns, instalments = [], [], []
                    print(f"\r  {n + 1:,} loans, {instalment_count:,} instalments", end="", flush=True)
            writer.write(contracts_t, contracts)
            writer.write(drawdowns_t, drawdowns)
            writer.write(instalments_t, instalments)
            instalment_count += len(instalments)
        writer.reset_sequences(LoanContract, Drawdown, Instalment)
    writer.checkpoint()
    if connection.vendor == "postgresql":
        # The planner's statistics, as autovacuum would gather them after a load this size (it may be off).
        with connection.cursor() as cursor:
            for model in (LoanContract, Drawdown, Instalment):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    print(
        f"\rgenerated {count:,} loans ({overdue_loans:,} with unpaid instalments due before {as_of}), "
        f"{instalment_count:,} instalments in {time.perf_counter() - started:.1f} s"
    )


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def pay_what_fell_due(on: date) -> int:
    """The core banking feed's effect before the end-of-day of `on`, simulated (not timed): every instalment due
    before `on` on a loan not overdue is paid in full on its due date, except one in a thousand (by id), which falls
    overdue. Written straight into the instalments; the feed itself is the loans work's (loans/feed)."""
    from django.db import connection, transaction

    from rmdesk.loans.models import Instalment, LoanContract

    instalment = connection.ops.quote_name(Instalment._meta.db_table)
    loan = connection.ops.quote_name(LoanContract._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        sql = (
            f"UPDATE {instalment} SET principal_paid = principal_due, interest_paid = interest_due,"  # noqa: S608
            " fee_paid = fee_due, status = 'paid', paid_on = due_date"
            " WHERE NOT (status = 'paid') AND due_date < %s AND id %% 1000 <> 7"
            f" AND contract_id IN (SELECT id FROM {loan} WHERE days_past_due = 0)"
        )
        cursor.execute(sql, [on])
        return cursor.rowcount


# --- what the bank holds ----------------------------------------------------------------------------------------------


def fingerprint() -> dict[str, Any]:
    """Counts and sums that any change by the end-of-day would move (the ledger and its audit events aside)."""
    from django.db.models import Count, Max, Sum

    from rmdesk.audit.models import AuditEvent
    from rmdesk.loans.models import AccrualSegment, Instalment, LoanContract
    from rmdesk.postloan.models import ClassificationSnapshot, CollectionLog
    from rmdesk.tasks.models import Task

    return {
        "instalments": sorted(Instalment.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")),
        "accrued": Instalment.objects.filter(accrued_through__isnull=False).aggregate(
            n=Count("pk"), penalty=Sum("penalty_accrued"), compound=Sum("compound_accrued"), last=Max("accrued_through")
        ),
        "segments": AccrualSegment.objects.aggregate(n=Count("pk"), amount=Sum("amount"), last=Max("end_date")),
        "contracts": LoanContract.objects.aggregate(
            outstanding=Sum("outstanding_principal"),
            overdue=Sum("overdue_principal"),
            interest=Sum("overdue_interest"),
            penalty=Sum("penalty_unpaid"),
            dpd=Sum("days_past_due"),
            proposals=Count("proposed_classification"),
            closed=Count("closed_on"),
            next_due=Max("next_due_date"),
        ),
        "tasks": Task.objects.count(),
        "snapshots": ClassificationSnapshot.objects.count(),
        "promises": sorted(
            CollectionLog.objects.values("promise_status").annotate(n=Count("pk")).values_list("promise_status", "n")
        ),
        "audit_other": AuditEvent.objects.exclude(action="batch.job_run").count(),
    }


# --- the naive reference ----------------------------------------------------------------------------------------------


def naive_eod(contract_ids: list[int], on: date) -> int:
    """(d): the day's marking, accrual, state and proposal loan by loan with the ORM's conveniences; instalments."""
    from django.conf import settings

    from rmdesk.loans import penalty
    from rmdesk.loans.models import AccrualSegment, Instalment, LoanContract
    from rmdesk.postloan.jobs.classification import proposal_of

    uplift = settings.PENALTY_UPLIFT_PCT
    seen = 0
    for contract_id in contract_ids:
        contract = LoanContract.objects.get(pk=contract_id)
        rate = penalty.penalty_rate(contract.current_rate_pct, uplift)
        rows = list(Instalment.objects.filter(contract=contract).order_by("due_date", "number"))
        for row in rows:
            seen += 1
            if row.status == "paid":
                continue
            status = "overdue" if row.due_date < on else "due" if row.due_date == on else "scheduled"
            since = row.due_date + timedelta(days=1) if status == "overdue" else None
            if (status, since) != (row.status, row.overdue_since):
                row.status, row.overdue_since = status, since
                row.save()
            if status != "overdue" or (row.accrued_through is not None and row.accrued_through >= on):
                continue
            assert row.overdue_since is not None
            for kind, base in (("penalty", row.principal_unpaid), ("compound", row.interest_unpaid)):
                segments = list(AccrualSegment.objects.filter(instalment=row, kind=kind).order_by("start_date"))
                last = segments[-1] if segments else None
                step = penalty.accrue(
                    penalty.Segment(last.start_date, last.end_date, last.base, last.annual_rate_pct, last.amount)
                    if last
                    else None,
                    overdue_since=row.overdue_since,
                    accrued_through=row.accrued_through,
                    through=on,
                    base=base,
                    annual_rate_pct=rate,
                )
                if step.action == penalty.EXTEND and last is not None and step.segment is not None:
                    last.end_date, last.amount = step.segment.end, step.segment.amount
                    last.save()
                elif step.action == penalty.START and step.segment is not None:
                    AccrualSegment.objects.create(
                        instalment=row,
                        kind=kind,
                        start_date=step.segment.start,
                        end_date=step.segment.end,
                        base=step.segment.base,
                        annual_rate_pct=step.segment.annual_rate_pct,
                        amount=step.segment.amount,
                    )
                total = sum((s.amount for s in AccrualSegment.objects.filter(instalment=row, kind=kind)), Decimal(0))
                setattr(row, f"{kind}_accrued", total)
            row.accrued_through = on
            row.save()
        oldest = min(
            (r.due_date for r in rows if r.due_date < on and (r.principal_unpaid or r.interest_unpaid)), default=None
        )
        contract.outstanding_principal = sum((r.principal_unpaid for r in rows), Decimal(0))
        contract.overdue_principal = sum((r.principal_unpaid for r in rows if r.due_date < on), Decimal(0))
        contract.overdue_interest = sum((r.interest_unpaid for r in rows if r.due_date < on), Decimal(0))
        contract.penalty_unpaid = sum((r.penalty_unpaid for r in rows), Decimal(0))
        contract.days_past_due = (on - oldest).days if oldest else 0
        contract.overdue_since = oldest + timedelta(days=1) if oldest else None
        contract.next_due_date = min(
            (r.due_date for r in rows if r.due_date >= on and r.status != "paid"), default=None
        )
        contract.proposed_classification = proposal_of(contract.days_past_due, contract.classification)
        contract.save()
    return seen


# --- the runs ---------------------------------------------------------------------------------------------------------


def eod(*args: str) -> tuple[float, str]:
    """`rmdesk eod …` in a process of its own; its seconds and output."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 — this interpreter running rmdesk, no shell
        [sys.executable, "-m", "rmdesk", "eod", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"rmdesk eod {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate-loans", type=int, default=0, help="first write this many loans (bank without)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 10, 30), help="for --generate-loans")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--date", type=date.fromisoformat, help="the date to run (default: the bank's next one)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--naive-sample", type=int, default=1000, help="loans for the naive loop (0: skip it)")
    parser.add_argument("--no-rerun", action="store_true", help="skip (c)")
    parser.add_argument("--no-payments", action="store_true", help="do not simulate the day's repayments first")
    options = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from rmdesk.batch.runner import next_date
    from rmdesk.loans.models import Instalment, LoanContract

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; load {load()}")
    if options.generate_loans:
        generate_loans(options.generate_loans, options.as_of, options.seed)
        return
    on = options.date or next_date()
    if on is None:
        sys.exit("the bank was never run: give the first date with --date")
    if not options.no_payments and next_date() is not None:  # a bank never run has no feed before it
        started = time.perf_counter()
        paid = pay_what_fell_due(on)
        print(
            f"core feed (simulated, not timed): {paid:,} instalments due before {on} paid "
            f"in {time.perf_counter() - started:.1f} s"
        )
    loans = LoanContract.objects.filter(status="active").count()
    print(
        f"bank: {loans:,} active loans, {Instalment.objects.count():,} instalments, "
        f"{Instalment.objects.filter(status='overdue').count():,} overdue; date {on}"
    )

    if options.naive_sample:
        ids = sorted(LoanContract.objects.filter(status="active").values_list("pk", flat=True))
        sample = random.Random(options.seed).sample(ids, min(options.naive_sample, len(ids)))
        try:
            with transaction.atomic():
                started = time.perf_counter()
                rows = naive_eod(sample, on)
                naive_s = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
        naive_total = naive_s / len(sample) * loans
        print(
            f"(d) naive per-loan ORM loop: {len(sample):,} loans ({rows:,} instalments) in {naive_s:.1f} s → "
            f"{naive_total:,.0f} s for {loans:,} loans (extrapolated)"
        )
    connection.close()

    workers = ["--workers", str(options.workers)] if options.workers > 1 else []
    first_s, output = eod("--date", on.isoformat(), *workers)
    print(f"(a) rmdesk eod --date {on} {' '.join(workers)}: {first_s:.1f} s (target ≤ {EOD_TARGET_S} s); load {load()}")
    print("".join(f"      {line}\n" for line in output.strip().splitlines()), end="")
    before = fingerprint()
    connection.close()
    second_s, output = eod("--date", on.isoformat(), *workers)
    connection.close()
    same = fingerprint() == before
    print(f"(b) the same date again: {second_s:.2f} s (target ≤ {SECOND_RUN_TARGET_S} s), unchanged: {same}")
    if not options.no_rerun:
        connection.close()
        rerun_s, output = eod("--date", on.isoformat(), "--rerun", *workers)
        connection.close()
        after = fingerprint()
        print(f"(c) --rerun of the same date: {rerun_s:.1f} s, unchanged: {after == before}")
        if after != before:
            for key in before:
                if before[key] != after[key]:
                    print(f"      {key}: {before[key]} → {after[key]}")
        print("".join(f"      {line}\n" for line in output.strip().splitlines()), end="")
    if options.naive_sample:
        print(f"ratio naive / eod: {naive_total / first_s:,.0f}× (target ≥ {RATIO_TARGET}×)")
    print(f"done {datetime.now():%H:%M:%S}")


if __name__ == "__main__":
    main()
