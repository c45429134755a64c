"""Customer import (issue 3): rows per second of `rmdesk import customers` into a fresh database.

Builds a fresh demo bank (--bank customers, 2,000 by default, as the figures in docs/benchmarks.md were taken),
writes an N-row customers CSV (UTF-8 with BOM, the 12 columns of the template's firm and bank fields, every row a
new customer, seeded), then times, each as its own `rmdesk` process as an operator would run it:

1. the first import as rm_zhang: N customers created in one transaction;
2. the same file again: N unchanged, only the summary event;
3. (--verify) `rmdesk audit verify` over the whole chain.

Prints wall time, rows/s and the child's peak RSS, the machine's load average before and after, and checks the
counts (customers, `customer.create` events, search rows) in the database afterwards.

Usage (SQLite in a fresh temporary data directory):
    .venv/bin/python bench/bench_import.py --rows 10000
PostgreSQL (a fresh database `<--pg-name>` is created on the server and dropped afterwards unless --keep):
    .venv/bin/python bench/bench_import.py --rows 10000 --postgres postgres://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RMDESK = ROOT / ".venv" / "bin" / "rmdesk"
SEED = 20240601

HEADER = [
    "名称",
    "统一社会信用代码",
    "法定代表人",
    "注册资本（元）",
    "成立日期",
    "行业",
    "地区",
    "企业规模",
    "所有制性质",
    "内部信用评级",
    "客户层级",
    "生命周期状态",
]
PLACES = ["杭州", "宁波", "温州", "绍兴", "嘉兴", "湖州", "金华", "台州", "苏州", "无锡", "南京", "上海"]
WORDS = ["华兴", "恒通", "远大", "金桥", "新源", "天成", "宏达", "瑞丰", "中科", "永安", "东方", "明辉", "浩然", "博雅"]
TRADES = ["科技", "精工", "物流", "电子", "机械", "贸易", "材料", "纺织", "建设", "食品", "医药", "能源"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰涛明超霞平刚"
INDUSTRIES = ["13", "18", "26", "27", "34", "35", "38", "39", "47", "51", "52", "54", "65", "72"]
REGIONS = ["330100", "330200", "330300", "330600", "320100", "320200", "320500", "310100", "110100"]
SIZES = ["大型", "中型", "小型", "微型"]
OWNERSHIPS = ["国有", "民营", "外资", "混合所有制"]
RATINGS = ["AAA", "AA", "A", "BBB", "BB", ""]
TIERS = ["战略", "核心", "重点", "一般"]


def write_csv(path: Path, rows: int, seed: int) -> None:
    """N new customers with every column filled (a few cells left blank, as real files have)."""
    sys.path.insert(0, str(ROOT))
    from rmdesk.core.identifiers import make_credit_code

    rng = random.Random(seed)
    codes: set[str] = set()
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for n in range(rows):
            code = make_credit_code(rng, rng.choice(REGIONS))
            while code in codes:
                code = make_credit_code(rng, rng.choice(REGIONS))
            codes.add(code)
            name = f"{rng.choice(PLACES)}{rng.choice(WORDS)}{rng.choice(TRADES)}{n}有限公司"
            writer.writerow(
                [
                    name,
                    code,
                    rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
                    f"{rng.randrange(1, 5000) * 10000:,}",
                    f"{rng.randrange(1990, 2023)}-{rng.randrange(1, 13)}-{rng.randrange(1, 29)}",
                    rng.choice(INDUSTRIES),
                    rng.choice(REGIONS),
                    rng.choice(SIZES),
                    rng.choice(OWNERSHIPS),
                    rng.choice(RATINGS),
                    rng.choice(TIERS),
                    "现实客户",
                ]
            )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(label: str, command: list[str], env: dict[str, str], rows: int | None = None) -> float:
    """Run one rmdesk process; print its wall time (and rows/s), its CPU time, peak RSS and its last line of output.

    On a shared machine the wall time grows with the load; the process's CPU time (user + system) much less so.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rate = f", {rows / seconds:,.0f} rows/s" if rows else ""
    cpu_rate = f", {rows / cpu:,.0f} rows per CPU-second" if rows and cpu else ""
    rss = f", peak RSS {after.ru_maxrss / 1024:,.0f} MB" if after.ru_maxrss > before.ru_maxrss else ""
    last = (done.stdout.strip().splitlines() or [""])[-1]
    print(f"{label}: {seconds:,.1f} s{rate}; CPU {cpu:,.1f} s{cpu_rate}{rss} (exit {done.returncode})\n    {last}")
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{label} failed")
    return seconds


def check_counts(env: dict[str, str], rows: int, bank: int) -> None:
    """Customers, create events and search rows as the import should have left them."""
    script = (
        "from rmdesk.audit.models import AuditEvent as A;"
        "from rmdesk.customers.models import Customer as C, CustomerSearchKey as K;"
        "print(C.objects.count(), A.objects.filter(action='customer.create').count(),"
        " K.objects.filter(key__startswith='c').values('customer').distinct().count())"
    )
    out = (
        subprocess.run(  # noqa: S603
            [str(RMDESK), "shell", "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    customers, created, indexed = (int(v) for v in out.split())
    print(f"check: {customers:,} customers, {created:,} customer.create events, {indexed:,} customers with a code key")
    if customers != bank + rows or indexed != bank + rows or created < rows:
        raise SystemExit("the counts are not what the import should have left")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the file (default 10000)")
    parser.add_argument("--bank", type=int, default=2000, help="customers of the demo bank first (default 2000)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--postgres", metavar="URL", help="server URL without a database name, e.g. postgres://postgres@127.0.0.1:5432"
    )
    parser.add_argument("--pg-name", default="rmdesk_bench_import", help="the database created for the run")
    parser.add_argument("--data-dir", type=Path, help="(SQLite) data directory; default a fresh temporary one")
    parser.add_argument("--verify", action="store_true", help="also time `rmdesk audit verify`")
    parser.add_argument("--keep", action="store_true", help="keep the database, data directory and CSV")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    data_dir = args.data_dir or work / "data"
    env = {**os.environ, "RMDESK_DATA_DIR": str(data_dir), "RMDESK_DEMO": "1"}
    url = None
    if args.postgres:
        url = f"{args.postgres.rstrip('/')}/{args.pg_name}"
        env["RMDESK_DATABASE_URL"] = url
        server = args.postgres.rstrip("/") + "/postgres"
        subprocess.run(["psql", server, "-qc", f"DROP DATABASE IF EXISTS {args.pg_name}"], check=True)  # noqa: S603,S607
        subprocess.run(["psql", server, "-qc", f"CREATE DATABASE {args.pg_name}"], check=True)  # noqa: S603,S607
    path = work / f"customers-{args.rows}.csv"
    try:
        write_csv(path, args.rows, args.seed)
        print(f"file: {path} ({args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB); database: {url or data_dir}")
        run(
            f"demo bank ({args.bank:,} customers)",
            [str(RMDESK), "demo", "--no-serve", "--customers", str(args.bank)],
            env,
        )
        print(f"load average before: {load_average()}")
        command = [str(RMDESK), "import", "customers", str(path), "--user", "rm_zhang"]
        run("first import (all new)", command, env, rows=args.rows)
        print(f"load average after the first import: {load_average()}")
        run("the same file again (all unchanged)", command, env, rows=args.rows)
        check_counts(env, args.rows, args.bank)
        if args.verify:
            run("audit verify", [str(RMDESK), "audit", "verify"], env)
        print(f"load average at the end: {load_average()}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if args.postgres:
                server = args.postgres.rstrip("/") + "/postgres"
                subprocess.run(["psql", server, "-qc", f"DROP DATABASE IF EXISTS {args.pg_name}"], check=False)  # noqa: S603,S607


if __name__ == "__main__":
    main()
