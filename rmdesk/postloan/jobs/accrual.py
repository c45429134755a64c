"""Accrue penalty 罚息 on overdue principal and compound 复利 on overdue interest through the business date.

The arithmetic is the pure kernel's (loans/penalty.py); this module only reads the overdue instalments and their
latest segments, and writes what the kernel decided: segments extended to the date (amount recomputed from the
segment's start), new segments where the base or the rate changed, and each instalment's totals and `accrued_through`.
An instalment already accrued through the date is not read at all, so a second run — or the rest of a run that died
halfway — adds nothing twice. Each chunk is one transaction: its segments and totals are written together or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from rmdesk.loans import penalty
from rmdesk.loans.choices import AccrualKind, InstalmentStatus
from rmdesk.loans.models import AccrualSegment, Instalment
from rmdesk.postloan.jobs import _sql
from rmdesk.postloan.jobs.common import (
    CHUNK,
    DATES_PER_QUERY,
    UNPAID,
    Counts,
    CustomerRange,
    chunks,
    fen,
    from_fen,
    rate_micro,
    unpaid_due_dates,
)

SEGMENT_COLUMNS = ("instalment", "kind", "start_date", "end_date", "base", "annual_rate_pct", "amount")

# The columns of an overdue instalment the job reads, in this order.
_ID, _SINCE, _THROUGH, _PRINCIPAL, _INTEREST, _PENALTY, _COMPOUND, _RATE = range(8)


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Accrue the range's overdue instalments through `on`."""
    kinds: list[str] = [AccrualKind.PENALTY]
    if settings.COMPOUND_ON_OVERDUE_INTEREST:
        kinds.append(AccrualKind.COMPOUND)
    overdue = (
        Instalment.objects.filter(UNPAID, customers.q(), status=InstalmentStatus.OVERDUE)
        .filter(Q(accrued_through__isnull=True) | Q(accrued_through__lt=on))
        # No ORDER BY: SQLite would walk the whole table in id order instead of the index (sorted below).
        .order_by()
    )
    rows: list[tuple[Any, ...]] = []
    past = [day for day in unpaid_due_dates(through=on) if day < on]
    for dates in chunks(past, DATES_PER_QUERY):
        rows += overdue.filter(due_date__in=dates).values_list(
            "pk",
            "overdue_since",
            "accrued_through",
            fen(F("principal_due") - F("principal_paid")),
            fen(F("interest_due") - F("interest_paid")),
            fen("penalty_accrued"),
            fen("compound_accrued"),
            "contract__current_rate_pct",
        )
    rows.sort()
    counts = {"instalments": 0, "started": 0, "extended": 0, "penalty_fen": 0, "compound_fen": 0}
    rates: dict[Decimal, int] = {}
    for chunk in chunks(rows, CHUNK):
        _accrue_chunk(chunk, on, kinds, rates, counts)
    return counts


def _penalty_micro(contract_rate: Decimal, rates: dict[Decimal, int]) -> int:
    micro = rates.get(contract_rate)
    if micro is None:
        micro = penalty.to_rate_micro(penalty.penalty_rate(contract_rate, settings.PENALTY_UPLIFT_PCT))
        rates[contract_rate] = micro
    return micro


def _accrue_chunk(
    chunk: Sequence[tuple[Any, ...]], on: date, kinds: list[str], rates: dict[Decimal, int], counts: Counts
) -> None:
    ids = [row[_ID] for row in chunk]
    through = on.toordinal()
    first_day = np.array(
        [
            max(row[_SINCE].toordinal(), row[_THROUGH].toordinal() + 1 if row[_THROUGH] is not None else 0)
            for row in chunk
        ],
        dtype=np.int64,
    )
    rate = np.array([_penalty_micro(row[_RATE], rates) for row in chunk], dtype=np.int64)
    totals: dict[str, np.ndarray] = {
        AccrualKind.PENALTY: np.array([row[_PENALTY] for row in chunk], dtype=np.int64),
        AccrualKind.COMPOUND: np.array([row[_COMPOUND] for row in chunk], dtype=np.int64),
    }
    bases: dict[str, np.ndarray] = {
        AccrualKind.PENALTY: np.array([max(row[_PRINCIPAL], 0) for row in chunk], dtype=np.int64),
        AccrualKind.COMPOUND: np.array([max(row[_INTEREST], 0) for row in chunk], dtype=np.int64),
    }
    with transaction.atomic():
        latest = _latest_segments(ids)
        new_segments: list[tuple] = []
        extended: list[tuple] = []
        for kind in kinds:
            last = [latest.get((instalment_id, kind)) for instalment_id in ids]
            has_last = np.array([segment is not None for segment in last], dtype=np.bool_)
            none = (0, 0, 0, 0, 0, 0)

            def column(index: int, last: list[tuple | None] = last, none: tuple = none) -> np.ndarray:
                return np.array([(segment or none)[index] for segment in last], dtype=np.int64)

            result = penalty.accrue_batch(
                penalty.AccrualInput(
                    base_fen=bases[kind],
                    rate_micro=rate,
                    first_day=first_day,
                    has_last=has_last,
                    last_start=column(1),
                    last_end=column(2),
                    last_base_fen=column(3),
                    last_rate_micro=column(4),
                    last_amount_fen=column(5),
                ),
                through,
            )
            totals[kind] = totals[kind] + result.delta_fen
            counts[f"{kind}_fen"] += int(result.delta_fen.sum())
            for i in np.flatnonzero(result.action == penalty.EXTEND):
                segment = last[i]
                assert segment is not None
                extended.append((segment[0], on, from_fen(result.amount_fen[i])))
            for i in np.flatnonzero(result.action == penalty.START):
                new_segments.append(
                    (
                        ids[i],
                        kind,
                        date.fromordinal(int(result.start[i])),
                        on,
                        from_fen(bases[kind][i]),
                        Decimal(int(rate[i])).scaleb(-6),
                        from_fen(result.amount_fen[i]),
                    )
                )
        _sql.insert_rows(AccrualSegment, SEGMENT_COLUMNS, new_segments)
        _sql.update_rows(AccrualSegment, ("end_date", "amount"), extended)
        _sql.update_rows(
            Instalment,
            ("penalty_accrued", "compound_accrued", "accrued_through"),
            [
                (
                    instalment_id,
                    from_fen(totals[AccrualKind.PENALTY][i]),
                    from_fen(totals[AccrualKind.COMPOUND][i]),
                    on,
                )
                for i, instalment_id in enumerate(ids)
            ],
        )
    counts["instalments"] += len(ids)
    counts["started"] += len(new_segments)
    counts["extended"] += len(extended)


def _latest_segments(ids: list[int]) -> dict[tuple[int, str], tuple[int, int, int, int, int, int]]:
    """Each instalment's latest segment per kind: (id, start, end as ordinals, base fen, rate micro, amount fen)."""
    latest: dict[tuple[int, str], tuple[int, int, int, int, int, int]] = {}
    segments = (
        AccrualSegment.objects.filter(instalment_id__in=ids)
        .order_by("instalment_id", "kind", "start_date")
        .values_list(
            "instalment_id",
            "kind",
            "pk",
            "start_date",
            "end_date",
            fen("base"),
            rate_micro("annual_rate_pct"),
            fen("amount"),
        )
    )
    for instalment_id, kind, pk, start, end, base, rate, amount in segments:
        latest[(instalment_id, kind)] = (pk, start.toordinal(), end.toordinal(), base, rate, amount)
    return latest
