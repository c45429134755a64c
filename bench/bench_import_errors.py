"""Customer import (issue 3): what an error report costs when every row of a large file is rejected.

An import job renders its error file once per language of the bank, so that whoever reads it later reads it in their
own (customers/jobs.py). This times, in-process and without a database write, for an N-row CSV whose every row has
three errors (a credit code with a wrong check character, an amount and a date that are not ones):
reading and checking the file, the error file in one language, and in every language.

Usage (any data directory; nothing is written to its database):
    .venv/bin/python bench/bench_import_errors.py --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")
    import django

    django.setup()
    from django.utils import translation

    from rmdesk.core.messages import in_each_language
    from rmdesk.customers.imports.readers import read_file
    from rmdesk.customers.imports.rows import Lookups, parse_file
    from rmdesk.customers.imports.runner import ImportResult, rejects_workbook

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rejected.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["名称", "统一社会信用代码", "注册资本（元）", "成立日期"])
            for n in range(args.rows):
                writer.writerow([f"坏客户{n}有限公司", "91330100MA27XXXX0Y", "abc", "2020-13-45"])
        with translation.override("zh-hans"):
            start = time.perf_counter()
            raw = read_file(path, name=path.name, max_rows=args.rows, max_bytes=2**31)
            result = ImportResult(
                file_name=path.name,
                sha256=raw.sha256,
                partial=False,
                saved=False,
                sheets=parse_file(raw, lookups=Lookups()),
            )
            checked = time.perf_counter() - start
            start = time.perf_counter()
            one = rejects_workbook(result)
            single = time.perf_counter() - start
            start = time.perf_counter()
            each = in_each_language(lambda: rejects_workbook(result))
            every = time.perf_counter() - start
    print(f"{args.rows:,} rows rejected, 3 errors each")
    print(f"read and checked:          {checked:6.1f} s")
    print(f"error file, one language:  {single:6.1f} s  ({len(one) / 1e6:.1f} MB)")
    sizes = ", ".join(f"{len(content) / 1e6:.1f}" for content in each.values())
    print(f"error file, {len(each)} languages:   {every:6.1f} s  ({sizes} MB)")


if __name__ == "__main__":
    main()
