"""The demo bank at scale: an org and staff that grow with the book, the bulk writer, the search rows, progress."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F

from rmdesk.customers.models import Customer, CustomerCoRM, CustomerNameGram, CustomerSearchKey
from rmdesk.customers.search import normalize, search_keys
from rmdesk.demo import builder, org, pipeline
from rmdesk.demo.builder import NAMED_USERS, DemoBankError, build_demo_bank
from rmdesk.demo.progress import ProgressBar, duration
from rmdesk.demo.writer import BulkWriter
from rmdesk.development.models import Prospect
from rmdesk.org.choices import Role, UnitLevel
from rmdesk.org.models import User

NAMED_RMS = ("rm_zhang", "rm_li", "rm_wang", "rm_zhao")


def _children(plan: org.OrgPlan, level: str) -> dict[str, int]:
    """How many units of `level` each parent has."""
    return Counter(unit.parent or "" for unit in plan.units if unit.level == level)


# --- the plan (no database) ---------------------------------------------------------------------------------------

def test_a_million_customer_bank_has_about_3000_rms_in_up_to_30_branches() -> None:
    # given
    customers = 1_000_000
    # when
    plan = org.plan_org(customers, random.Random(1))
    # then
    assert plan.rms == round(customers / org.CUSTOMERS_PER_RM) == 3030
    assert len(_children(plan, UnitLevel.BRANCH)) == 1 and len(_children(plan, UnitLevel.SUB_BRANCH)) == 30
    assert all(2 <= n <= 4 for n in _children(plan, UnitLevel.SUB_BRANCH).values())
    assert all(2 <= n <= 4 for n in _children(plan, UnitLevel.TEAM).values())
    assert all(6 <= team.rms <= 10 for team in plan.teams)
    assert {team.city for team in plan.teams} == {branch.city for branch in org.BRANCHES}


@pytest.mark.parametrize("customers", [1, 120, 2_000, 10_000])
def test_a_bank_of_up_to_10000_customers_keeps_the_classic_shape(customers: int) -> None:
    # given / when
    plan = org.plan_org(customers, random.Random(customers))
    # then: three branches of two sub-branches of two teams of two or three RMs
    assert [u.code for u in plan.units if u.level == UnitLevel.BRANCH] == ["BR1", "BR2", "BR3"]
    assert set(_children(plan, UnitLevel.SUB_BRANCH).values()) == {2}
    assert set(_children(plan, UnitLevel.TEAM).values()) == {2}
    assert all(2 <= team.rms <= 3 for team in plan.teams)


@pytest.mark.parametrize("customers", [10_001, 20_000, 100_000, 300_000, 1_000_000, 3_000_000])
def test_a_bigger_bank_has_one_rm_per_330_customers_and_every_named_users_unit(customers: int) -> None:
    # given / when
    plan = org.plan_org(customers, random.Random(customers))
    # then
    assert plan.rms == round(customers / 330)
    codes = {unit.code for unit in plan.units}
    assert {user.unit_code for user in NAMED_USERS} <= codes
    assert all(team.rms >= 2 for team in plan.teams)
    assert 3 <= len(_children(plan, UnitLevel.SUB_BRANCH)) <= 30


def test_named_rms_hold_half_as_much_again_as_their_peers_but_never_more_than_300() -> None:
    # given
    plan = org.plan_org(1_000_000, random.Random(1))
    rms = [org.Rm(n, f"rm_{n}", 0, team.code, team.branch, team.city, named=n < 4)
           for n, team in enumerate(t for t in plan.teams for _ in range(t.rms))]
    # when
    small = org.books(rms[:40], 2_000, random.Random(1))
    big = org.books(rms, 1_000_000, random.Random(1))
    # then
    assert sum(small) == 2_000 and sum(big) == 1_000_000
    assert small[:4] == [75] * 4 and max(small[4:]) == 48  # 2,000 customers, 40 RMs: 50 on average
    assert big[:4] == [org.NAMED_BOOK_LIMIT] * 4 and min(big[4:]) >= 330


# --- a bank of 20,000 --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_20000_customer_bank_has_its_rms_and_named_rms_hold_realistic_books() -> None:
    # given / when
    summary = build_demo_bank(customers=20_000, seed=7)
    # then
    rms = User.objects.filter(role=Role.RM)
    assert rms.count() == 61 >= 50
    books = Counter(Customer.objects.filter(primary_rm__isnull=False).values_list("primary_rm__username", flat=True))
    # A prospect waiting in a pool was dealt to the RM who found it and put it there.
    pool = Prospect.objects.filter(customer__primary_rm__isnull=True)
    books.update(pool.values_list("found_by__username", flat=True))
    assert set(books) == set(rms.values_list("username", flat=True))
    assert all(0 < books[name] < 500 for name in NAMED_RMS), {name: books[name] for name in NAMED_RMS}
    assert max(books.values()) - min(books[u] for u in books if u not in NAMED_RMS) <= 1
    users = {u.username: u.unit.code for u in User.objects.select_related("unit") if u.unit}
    assert all(users[spec.username] == spec.unit_code for spec in NAMED_USERS)
    assert summary.customers == Customer.objects.count() == 20_000
    assert CustomerCoRM.objects.filter(customer__primary_rm__username="rm_zhang", user__username="rm_wang").count() >= 5
    for link in CustomerCoRM.objects.select_related("user__unit", "customer__owning_unit")[:500]:
        assert link.user.unit.path.split("/")[2] == link.customer.owning_unit.path.split("/")[2]
        assert link.user.unit_id != link.customer.owning_unit_id
    # Every link holds its customer's owning unit, which the loader writes itself (the lists tell co-RM customers
    # owned elsewhere by it).
    assert not CustomerCoRM.objects.exclude(customer_unit_id=F("customer__owning_unit_id")).exists()


# --- the writer and the search rows --------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_writer_refuses_a_table_whose_required_columns_it_would_leave_empty() -> None:
    # given
    writer = BulkWriter(connection)
    # when / then: a customer needs a primary RM and an owning unit
    with pytest.raises(DemoBankError, match=r"fill customers\.Customer\.owning_unit"):
        writer.table(Customer, ("id", "name", "credit_code", "created_at", "updated_at"))
    with pytest.raises(DemoBankError, match="no column nickname"):
        writer.table(Customer, ("id", "nickname"))


@pytest.mark.django_db
def test_customers_added_after_the_load_get_the_next_free_id(demo_bank: Any) -> None:
    # given: a loaded bank, whose customers were numbered by the loader
    highest = Customer.objects.order_by("-pk").values_list("pk", flat=True)[0]
    template = Customer.objects.get(pk=highest)
    # when
    added = Customer.objects.create(
        name="新增客户有限公司", credit_code="91330106MA2CFB7B1Y", owning_unit=template.owning_unit,
        primary_rm=template.primary_rm,
    )
    # then
    assert added.pk == highest + 1


@pytest.mark.django_db
def test_every_customer_is_found_by_quick_search_from_the_load_on(demo_bank: Any) -> None:
    # given: the demo bank
    # when
    customers = list(Customer.objects.values_list("pk", "name", "search_name", "search_letters", "owning_unit_id"))
    gram_units = defaultdict(set)
    for customer_id, unit_id in CustomerNameGram.objects.values_list("customer_id", "unit_id"):
        gram_units[customer_id].add(unit_id)
    keyed = set(CustomerSearchKey.objects.values_list("customer_id", flat=True))
    # then
    for pk, name, search_name, letters, unit_id in customers:
        assert (search_name, letters) == (normalize(name), search_keys(name).letters)
        assert unit_id in gram_units[pk] and pk in keyed
    for link in CustomerCoRM.objects.select_related("user"):
        assert link.user.unit_id in gram_units[link.customer_id]  # the co-RM's team finds it too


def _index_definitions() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        else:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        return set(cursor.fetchall())


@pytest.mark.django_db
def test_the_indexes_dropped_for_the_load_are_built_again_as_they_were() -> None:
    # given
    before = _index_definitions()
    # when
    build_demo_bank(customers=30)
    # then
    assert _index_definitions() == before
    assert any("name_gram" in name for name, _sql in before)


@pytest.mark.django_db
def test_a_load_that_fails_halfway_leaves_nothing_behind_indexes_included(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a load whose second chunk cannot be made
    before = _index_definitions()
    monkeypatch.setattr(builder, "CHUNK_SIZE", 20)
    real_chunk = pipeline.make_chunk

    def failing_chunk(book: Any, index: int, start: int, count: int) -> pipeline.ChunkRows:
        if index == 1:
            raise RuntimeError("disk full")
        return real_chunk(book, index, start, count)

    monkeypatch.setattr(pipeline, "make_chunk", failing_chunk)
    # when
    with pytest.raises(RuntimeError, match="disk full"):
        build_demo_bank(customers=50)
    # then
    assert not Customer.objects.exists() and not User.objects.exists()
    assert _index_definitions() == before
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -2000  # SQLite's default: the load's bigger cache is gone


def _bank_rows() -> dict[str, list[Any]]:
    customers = Customer.objects.order_by("credit_code")
    grams = CustomerNameGram.objects.values_list("customer__credit_code", "unit__code", "position", "gram")
    keys = CustomerSearchKey.objects.values_list("customer__credit_code", "unit__code", "key", "position")
    return {
        "customers": list(customers.values_list("credit_code", "name", "search_name", "primary_rm__username")),
        "grams": sorted(grams),
        "keys": sorted(keys),
    }


@pytest.mark.django_db
def test_a_bank_made_in_a_worker_process_is_the_one_made_in_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a load making its chunks in line, several of them
    monkeypatch.setattr(builder, "CHUNK_SIZE", 15)
    with transaction.atomic():
        in_line_summary = build_demo_bank(customers=100, seed=3)
        in_line = _bank_rows()
        transaction.set_rollback(True)
    # when: the same load with a worker process making the chunks, as a big bank's
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 1)
    summary = build_demo_bank(customers=100, seed=3)
    # then
    assert in_line["grams"] and in_line == _bank_rows()
    assert summary == in_line_summary


# --- progress -----------------------------------------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_sees_a_bar_redrawn_in_place_with_percentage_rate_and_eta() -> None:
    # given
    out: list[str] = []
    clock = _Clock()
    bar = ProgressBar(out.append, interactive=True, clock=clock)
    # when
    bar("users", 40, 40, 0)
    bar("customers", 0, 1_000, 0)
    clock.now += 10
    bar("customers", 250, 1_000, 20_000)
    clock.now += 30
    bar("customers", 1_000, 1_000, 80_000)
    # then
    text = "".join(out)
    assert "\r" in text and "\033[K" in text
    assert "customers 250/1,000 [######..................]  25%  2,000 rows/s  ETA 0:30" in text
    assert text.endswith("customers 1,000/1,000 [########################] 100% in 40.0 s (2,000 rows/s)\033[K\n")
    assert text.count("\n") == 2  # one line left standing per finished stage


def test_a_log_gets_one_line_per_finished_stage() -> None:
    # given
    out: list[str] = []
    clock = _Clock()
    bar = ProgressBar(out.append, interactive=False, clock=clock)
    # when
    bar("org", 23, 23, 0)
    bar("customers", 0, 1_000_000, 0)
    for done in range(5_000, 1_000_001, 5_000):
        clock.now += 1
        bar("customers", done, 1_000_000, done * 30)
    bar("commit", 0, 1, 30_000_000)
    clock.now += 2
    bar("commit", 1, 1, 30_000_000)
    bar.close()
    # then
    assert out == [
        "Loading the demo bank: org units 23/23 in 0.0 s\n",
        "Loading the demo bank: customers 1,000,000/1,000,000 in 200.0 s (150,000 rows/s)\n",
        "Loading the demo bank: commit in 2.0 s\n",
    ]


def test_durations_read_as_minutes_and_seconds_or_hours() -> None:
    assert [duration(s) for s in (0, 59.6, 61, 3_725)] == ["0:00", "1:00", "1:01", "1:02:05"]


@pytest.mark.django_db
def test_the_load_reports_each_stage_in_order_with_the_rows_written() -> None:
    # given
    reports: list[tuple[str, int, int, int]] = []
    # when
    summary = build_demo_bank(customers=30, progress=lambda *report: reports.append(report))
    # then
    stages = [stage for stage, *_ in reports]
    assert list(dict.fromkeys(stages)) == ["org", "users", "customers", "indexes", "tasks", "commit"]
    for stage in ("customers", "indexes", "commit"):
        last = max(n for n, report in enumerate(reports) if report[0] == stage)
        assert reports[last][1] == reports[last][2] > 0
    assert reports[-3][1:3] == (summary.tasks, summary.tasks)
    rows = [rows for *_, rows in reports]
    assert rows == sorted(rows) and rows[-1] > 30 + summary.key_persons


def _rmdesk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`rmdesk …` in a process of its own, in demo mode on SQLite in `data_dir`, whatever database the suite runs on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMDESK_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update({"RMDESK_DATA_DIR": str(data_dir), "RMDESK_DEMO": "1"})
    command = [sys.executable, "-m", "rmdesk", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


def _journal_mode_and_customers(data_dir: Path) -> tuple[str, int]:
    database = sqlite3.connect(data_dir / "rmdesk.sqlite3")
    try:
        mode = database.execute("PRAGMA journal_mode").fetchone()[0]
        return mode, database.execute("SELECT COUNT(*) FROM customers_customer").fetchone()[0]
    finally:
        database.close()


def test_a_demo_load_on_sqlite_is_journalled_then_back_on_the_write_ahead_log(tmp_path: Path) -> None:
    # when the demo bank is loaded by the command, outside any transaction of ours
    result = _rmdesk(tmp_path, "demo", "--customers", "40", "--no-serve")
    # then it is all there, the rollback journal it was written with is gone and the database is on its log again
    assert result.returncode == 0, result.stderr
    assert _journal_mode_and_customers(tmp_path) == ("wal", 40)
    assert not (tmp_path / "rmdesk.sqlite3-journal").exists()


def test_a_demo_load_beside_another_connection_goes_through_the_log(tmp_path: Path) -> None:
    # given an empty, migrated database that another process has open (leaving the log needs the database alone)
    assert _rmdesk(tmp_path, "migrate", "-v", "0").returncode == 0
    other = sqlite3.connect(tmp_path / "rmdesk.sqlite3")
    try:
        assert other.execute("SELECT COUNT(*) FROM customers_customer").fetchone() == (0,)
        # when the demo bank is loaded with that connection still open
        result = _rmdesk(tmp_path, "demo", "--customers", "30", "--no-serve")
    finally:
        other.close()
    # then the load ran through the log instead of failing
    assert result.returncode == 0, result.stderr
    assert _journal_mode_and_customers(tmp_path) == ("wal", 30)
