"""The schedule kernel (issue 6, Performance: "Kernel"): 1,000,000 loans × 36 months in ≤ 3 s, and its ratio to a
per-loan Decimal loop (target ≥ 20×).

A realistic mix of fixed-rate loans, all 36 months: 35% annuity, 15% equal principal, 30% interest monthly,
15% interest quarterly, 5% bullet; amounts log-uniform from 100,000.00 to 50,000,000.00; rates on 0.05% steps from
2.50% to 6.50% (a quarter of them any six-place rate in that range); drawdowns from 2023 to 2025 (due dates partly
beyond chinese-calendar's 2026, so both roll paths run); due dates rolled by chinese-calendar.

It times:
1. the kernel's first call in the process ("cold": includes the operating system handing over ~1.3 GB of fresh pages
   for the output, which varies with the machine's state) and the median of the next `--repeat` calls ("warm"),
   with 1 and with 2 threads;
2. the reference `build_schedule` (exact Decimal, one loan at a time, the same calendar) on the first `--sample`
   loans, extrapolated linearly to all loans, and checks that the kernel's rows for those loans are identical.

Usage:
    .venv/bin/python bench/bench_schedule.py [--loans 1000000] [--months 36] [--sample 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rmdesk.core.workdays import WorkingDays
from rmdesk.loans.schedule import build_schedule
from rmdesk.loans.schedule_fen import build_schedules, terms_of

SEED = 6
MIX = [0.35, 0.15, 0.30, 0.15, 0.05]  # annuity, equal principal, interest monthly, interest quarterly, bullet


def loans(count: int, months: int) -> dict[str, npt.NDArray[np.int64]]:
    rng = np.random.default_rng(SEED)
    principal = np.exp(rng.uniform(np.log(10_000_000), np.log(5_000_000_000), count)).astype(np.int64)
    rate = rng.integers(50, 131, count) * 50_000  # 2.50% … 6.50% on 0.05% steps
    odd = rng.random(count) < 0.25
    rate[odd] = rng.integers(2_500_000, 6_500_001, count)[odd]
    first, last = date(2023, 1, 1).toordinal(), date(2025, 12, 31).toordinal()
    return {
        "principal_fen": principal,
        "rate_ppm": rate,
        "months": np.full(count, months, dtype=np.int64),
        "method": rng.choice(5, count, p=MIX).astype(np.int64),
        "start": rng.integers(first, last + 1, count),
        "interest_day": np.full(count, 20, dtype=np.int64),
    }


def time_kernel(
    inputs: dict[str, npt.NDArray[np.int64]], calendar: WorkingDays, threads: int
) -> tuple[float, float, int]:
    """Wall-clock and CPU seconds (all threads, user + system) of one call, and its rows. CPU time is the fairer
    figure when other work shares the machine's two cores."""
    gc.collect()
    began, began_cpu = time.perf_counter(), time.process_time()
    arrays = build_schedules(**inputs, calendar=calendar, threads=threads)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    rows = len(arrays)
    del arrays
    return elapsed, cpu, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--sample", type=int, default=20_000, help="loans the per-loan Decimal loop computes")
    parser.add_argument("--repeat", type=int, default=3, help="warm kernel runs per thread count")
    args = parser.parse_args()

    calendar = WorkingDays.from_chinese_calendar()
    inputs = loans(args.loans, args.months)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"{args.loans:,} loans × {args.months} months, mix {MIX} (annuity, equal principal, interest monthly, "
          f"interest quarterly, bullet); numpy {np.__version__}")  # fmt: skip

    print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    cold, cold_cpu, rows = time_kernel(inputs, calendar, threads=1)
    print(f"kernel, first call (cold), 1 thread: {cold:.3f} s wall, {cold_cpu:.3f} s CPU for {rows:,} rows")
    warm: dict[int, float] = {}
    warm_cpu: dict[int, float] = {}
    for threads in (1, 2):
        runs = [time_kernel(inputs, calendar, threads)[:2] for _ in range(args.repeat)]
        warm[threads] = statistics.median(wall for wall, _cpu in runs)
        warm_cpu[threads] = statistics.median(cpu for _wall, cpu in runs)
        listed = ", ".join(f"{wall:.3f} ({cpu:.3f} CPU)" for wall, cpu in runs)
        print(f"kernel, warm, {threads} thread(s): median {warm[threads]:.3f} s wall; runs {listed}")

    sample = {name: column[: args.sample] for name, column in inputs.items()}
    terms = [terms_of(*values) for values in zip(*(column.tolist() for column in sample.values()), strict=True)]
    began, began_cpu = time.perf_counter(), time.process_time()
    reference = [build_schedule(loan_terms, calendar=calendar) for loan_terms in terms]
    loop, loop_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    loop_all = loop * args.loans / args.sample
    print(
        f"per-loan Decimal loop (build_schedule): {loop:.2f} s wall ({loop_cpu:.2f} s CPU) for {args.sample:,} loans "
        f"({loop / args.sample * 1e6:.0f} µs a loan) → {loop_all:.0f} s extrapolated to {args.loans:,}"
    )
    print(
        f"ratio loop / kernel: {loop_all / warm[1]:.0f}× (warm, 1 thread), {loop_all / warm[2]:.0f}× "
        f"(warm, 2 threads), {loop_all / cold:.0f}× (cold); by CPU time "
        f"{loop_cpu * args.loans / args.sample / warm_cpu[1]:.0f}× (warm, 1 thread)"
    )

    arrays = build_schedules(**inputs, calendar=calendar)
    same = all(arrays.periods(i) == periods for i, periods in enumerate(reference))
    print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"kernel rows (of the full run) identical to the reference for the {args.sample:,} sampled loans: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
