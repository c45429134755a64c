"""Importing customers and what belongs to them from .xlsx and .csv: all or nothing, partial, idempotent, in scope,
and every kind of bad input either normalised or refused with a message naming the row and column."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from rmdesk.audit.models import AuditEvent
from rmdesk.core.validators import credit_code_check_char, validate_credit_code
from rmdesk.customers import services
from rmdesk.customers.exports import export_customers
from rmdesk.customers.filters import CustomerFilter
from rmdesk.customers.imports.readers import FileRejected
from rmdesk.customers.imports.runner import ImportResult, run_import
from rmdesk.customers.imports.store import ImportJob
from rmdesk.customers.imports.templates import template_workbook
from rmdesk.customers.models import Customer, FinancialStatement, KeyPerson, Relationship
from rmdesk.org.models import User
from tests.personas import Bank, credit_code, make_customer

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

CUSTOMER_HEADER = ["名称", "统一社会信用代码", "注册资本（元）", "成立日期", "客户层级", "生命周期状态"]
KEY_PERSON_HEADER = ["客户统一社会信用代码", "角色", "姓名", "手机号码"]
STATEMENT_HEADER = [
    "客户统一社会信用代码", "年度", "资产总额", "负债总额", "营业收入", "净利润", "经营活动现金流量净额"]
RELATIONSHIP_HEADER = ["客户统一社会信用代码", "类型", "对方企业名称", "对方企业统一社会信用代码", "金额（元）"]


# --- helpers ----------------------------------------------------------------------------------------------------------

def xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def customer_row(name: str, code: str, **extra: Any) -> list[Any]:
    values = {"名称": name, "统一社会信用代码": code, **extra}
    return [values.get(h) for h in CUSTOMER_HEADER]


def customers_file(tmp_path: Path, *rows: list[Any], name: str = "customers.xlsx") -> Path:
    return xlsx(tmp_path / name, {"客户": [CUSTOMER_HEADER, *rows]})


def wrong_check_char(code: str) -> str:
    right = credit_code_check_char(code[:17])
    return code[:17] + ("1" if right != "1" else "2")


def do_import(user: User, path: Path, *, partial: bool = False) -> ImportResult:
    return run_import(actor=user, path=path, partial=partial)


def errors_of(result: ImportResult, language: str = "en") -> list[tuple[int, str, str]]:
    with translation.override(language):
        return [(e.row, e.column, e.message) for e in result.errors()]


def snapshot() -> tuple[int, int, int, int, int]:
    return (
        Customer.objects.count(),
        KeyPerson.objects.count(),
        FinancialStatement.objects.count(),
        Relationship.objects.count(),
        AuditEvent.objects.count(),
    )


def with_cached_value(path: Path, formula: str, value: str) -> Path:
    """Give a formula the value Excel would have saved with it (openpyxl saves formulas without one)."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info.filename) for info in source.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(f"<f>{formula}</f><v />".encode(), f"<f>{formula}</f><v>{value}</v>".encode())
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


# --- opening and updating files ---------------------------------------------------------------------------------------

def test_a_row_opens_a_customer_file_with_its_audit_event_and_one_summary(bank: Bank, tmp_path: Path) -> None:
    # given
    code = credit_code()
    path = customers_file(tmp_path, customer_row("西湖精工有限公司", code, **{"注册资本（元）": "12,500,000",
                                                                          "成立日期": "2020-1-5", "客户层级": "重点"}))
    # when
    result = do_import(bank.alice, path)
    # then
    customer = Customer.objects.get(credit_code=code)
    assert (customer.name, customer.registered_capital, customer.established_on, customer.tier) == (
        "西湖精工有限公司", Decimal("12500000.00"), date(2020, 1, 5), "key")
    assert (customer.primary_rm, customer.owning_unit) == (bank.alice, bank.team1)
    assert result.saved and result.summary()["created"] == 1
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
        "customer.create", "customer.import"]
    summary = AuditEvent.objects.get(action="customer.import")
    assert (summary.actor_id, summary.changes["created"], summary.changes["rows"]) == (bank.alice.pk, 1, 1)


def test_headers_are_read_in_english_or_chinese_whatever_the_users_language(bank: Bank, tmp_path: Path) -> None:
    # given: English headers, oddly spaced and in full-width letters, while the user works in Chinese
    code = credit_code()
    path = xlsx(tmp_path / "en.xlsx", {"Sheet1": [
        ["  NAME ", "Ｕｎｉｆｉｅｄ social credit code", "Tier", "Lifecycle status", "Established on"],
        ["Acme Trading Co.", code, "Key", "customer", "2019/12/31"],
    ]})
    # when
    with translation.override("zh-hans"):
        result = do_import(bank.alice, path)
    # then
    assert result.saved, errors_of(result)
    customer = Customer.objects.get(credit_code=code)
    assert (customer.tier, customer.status, customer.established_on) == ("key", "customer", date(2019, 12, 31))


def test_an_existing_customer_is_updated_only_where_the_file_differs(bank: Bank, tmp_path: Path) -> None:
    # given
    customer = make_customer(bank.alice, name="西湖电子有限公司", tier="general")
    path = customers_file(tmp_path, customer_row("西湖电子有限公司", customer.credit_code, **{"客户层级": "核心"}))
    # when
    result = do_import(bank.alice, path)
    # then
    customer.refresh_from_db()
    assert (customer.tier, customer.version, customer.status) == ("core", 2, "customer")
    update = AuditEvent.objects.get(action="customer.update")
    assert update.changes == {"tier": ["general", "core"]}
    assert result.summary()["updated"] == 1


def test_reimporting_the_same_workbook_changes_nothing_and_writes_only_the_summary(bank: Bank, tmp_path: Path) -> None:
    # given: one workbook with all four sheets
    code, other = credit_code(), credit_code()
    path = xlsx(tmp_path / "book.xlsx", {
        "客户": [CUSTOMER_HEADER, customer_row("钱塘机械有限公司", code), customer_row("之江物流有限公司", other)],
        "关键人物": [KEY_PERSON_HEADER, [code, "财务负责人", "李华", "139 1234 5678"]],
        "财务报表": [STATEMENT_HEADER, [code, 2023, 1000000, "600000.00", 800000, -5000.5, 12000]],
        "关联关系": [RELATIONSHIP_HEADER, [code, "担保", "", other, "3000000"]],
    })
    first = do_import(bank.alice, path)
    assert first.saved, errors_of(first)
    before = snapshot()
    versions = list(Customer.objects.order_by("pk").values_list("version", "updated_at"))
    # when
    second = do_import(bank.alice, path)
    # then
    assert snapshot()[:4] == before[:4]
    assert list(AuditEvent.objects.filter(seq__gt=before[4]).values_list("action", flat=True)) == ["customer.import"]
    assert list(Customer.objects.order_by("pk").values_list("version", "updated_at")) == versions
    assert second.summary()["unchanged"] == 5 and second.summary()["created"] == 0
    person = KeyPerson.objects.get()
    assert (person.customer.credit_code, person.role, person.phone) == (code, "finance_head", "13912345678")
    statement = FinancialStatement.objects.get()
    assert (statement.year, statement.net_profit, statement.total_liabilities) == (
        2023, Decimal("-5000.50"), Decimal("600000.00"))
    link = Relationship.objects.get()
    assert (link.kind, link.counterparty.credit_code, link.counterparty_name, link.amount) == (
        "guarantee", other, "之江物流有限公司", Decimal("3000000.00"))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_export_imported_back_by_the_same_user_changes_nothing(bank: Bank, tmp_path: Path, language: str) -> None:
    # given: alice's own customers with every field filled, and bob's customer she works as a co-RM
    services.create_customer(actor=bank.alice, data={
        "name": "（杭州）西湖精工有限公司", "credit_code": credit_code(), "legal_representative": "王建国",
        "registered_capital": Decimal("12500000.50"), "established_on": date(2001, 2, 3), "industry": "39",
        "region": "330100", "size": "medium", "ownership": "private", "credit_rating": "AA", "tier": "key",
        "status": "customer",
    })
    services.create_customer(actor=bank.alice, data={"name": "=1+1 <b>粗体</b>", "credit_code": credit_code()})
    make_customer(bank.bob, co_rms=(bank.alice,), region="110100", industry="01")
    make_customer(bank.carol)
    with translation.override(language):
        customer_filter = CustomerFilter({})
        assert customer_filter.is_valid()
        chunks, count = export_customers(actor=bank.alice, customer_filter=customer_filter)
        path = tmp_path / "export.xlsx"
        path.write_bytes(b"".join(chunks))
    assert count == 3
    before = snapshot()
    versions = list(Customer.objects.order_by("pk").values_list("version", flat=True))
    # when
    with translation.override(language):
        result = do_import(bank.alice, path)
    # then
    assert result.saved, errors_of(result)
    assert (result.summary()["unchanged"], result.summary()["rows"]) == (3, 3)
    assert snapshot()[:4] == before[:4]
    assert list(AuditEvent.objects.filter(seq__gt=before[4]).values_list("action", flat=True)) == ["customer.import"]
    assert list(Customer.objects.order_by("pk").values_list("version", flat=True)) == versions


# --- all or nothing, partial, crashes ---------------------------------------------------------------------------------

def test_one_bad_row_leaves_nothing_written_and_every_error_is_reported(bank: Bank, tmp_path: Path) -> None:
    # given: a good row, a wrong check character, a bad tier
    bad_code = wrong_check_char(credit_code())
    path = customers_file(
        tmp_path,
        customer_row("好客户有限公司", credit_code()),
        customer_row("坏代码有限公司", bad_code),
        customer_row("坏层级有限公司", credit_code(), **{"客户层级": "超级"}),
    )
    before = snapshot()
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path)
    # then
    assert not result.saved
    assert snapshot() == before
    assert errors_of(result) == [
        (3, "Unified social credit code",
         "The unified social credit code's check character is wrong; please check for a typo."),
        (4, "Tier", "“超级” is not one of: Strategic, Core, Key, General."),
    ]


def test_partial_keeps_the_good_rows_and_writes_the_rejected_ones_with_their_errors(
    bank: Bank, tmp_path: Path, capsys: Any
) -> None:
    # given
    good = credit_code()
    bad = wrong_check_char(credit_code())
    path = customers_file(tmp_path, customer_row("好客户有限公司", good), customer_row("坏代码有限公司", bad))
    rejects = tmp_path / "rejects.xlsx"
    # when
    call_command("import", "customers", str(path), "--user", "alice", "--partial", "--rejects", str(rejects),
                 "--language", "en")
    # then
    assert Customer.objects.filter(credit_code=good).exists()
    assert not Customer.objects.filter(name="坏代码有限公司").exists()
    assert AuditEvent.objects.get(action="customer.import").changes["rejected"] == 1
    rows = list(load_workbook(rejects).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == (*CUSTOMER_HEADER, "Errors")
    assert rows[1][:2] == ("坏代码有限公司", bad)
    assert rows[1][-1] == ("Unified social credit code: "
                           "The unified social credit code's check character is wrong; please check for a typo.")
    out = capsys.readouterr()
    assert "1 created" in out.out and "1 rejected" in out.out
    assert "row 3" in out.err


def test_partial_without_a_rejects_path_writes_them_beside_the_file(bank: Bank, tmp_path: Path) -> None:
    # given
    path = customers_file(tmp_path, customer_row("坏代码有限公司", wrong_check_char(credit_code())), name="book.xlsx")
    # when
    call_command("import", "customers", str(path), "--user", "alice", "--partial")
    # then
    rows = list(load_workbook(tmp_path / "book-rejects.xlsx").worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in rows] == ["名称", "坏代码有限公司"]


def test_the_rejects_file_imports_once_corrected(bank: Bank, tmp_path: Path) -> None:
    # given: a rejected row, corrected in the error file the import wrote
    bad = wrong_check_char(credit_code())
    path = customers_file(tmp_path, customer_row("坏代码有限公司", bad))
    rejects = tmp_path / "rejects.xlsx"
    with pytest.raises(CommandError):
        call_command("import", "customers", str(path), "--user", "alice", "--rejects", str(rejects))
    workbook = load_workbook(rejects)
    fixed = credit_code()
    workbook.worksheets[0]["B2"] = fixed
    workbook.save(rejects)
    # when
    result = do_import(bank.alice, rejects)
    # then
    assert result.saved, errors_of(result)
    assert Customer.objects.get(credit_code=fixed).name == "坏代码有限公司"


def test_the_command_exits_non_zero_with_a_summary_when_rows_are_rejected(bank: Bank, tmp_path: Path) -> None:
    # given
    path = customers_file(tmp_path, customer_row("好客户有限公司", credit_code()),
                          customer_row("坏代码有限公司", wrong_check_char(credit_code())))
    # when
    with pytest.raises(CommandError) as raised:
        call_command("import", "customers", str(path), "--user", "alice")
    # then
    assert raised.value.returncode == 1
    assert "1 rows rejected: nothing was saved" in str(raised.value)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("partial", [False, True])
def test_a_crash_halfway_leaves_the_database_as_before(
    bank: Bank, tmp_path: Path, monkeypatch: Any, partial: bool
) -> None:
    # given: the audit trail breaks down at its third event (the second new customer's), when the existing customer
    # has been updated and the new ones inserted
    existing = make_customer(bank.alice, tier="general")
    path = customers_file(tmp_path, customer_row(existing.name, existing.credit_code, **{"客户层级": "战略"}),
                          *(customer_row(f"新客户{n}有限公司", credit_code()) for n in range(4)))
    real = services.record
    calls = {"n": 0}

    def breaks_at_the_third_event(**kwargs: Any) -> AuditEvent:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "record", breaks_at_the_third_event)
    before = snapshot()
    # when
    with pytest.raises(RuntimeError):
        do_import(bank.alice, path, partial=partial)
    # then
    assert snapshot() == before
    existing.refresh_from_db()
    assert (existing.tier, existing.version) == ("general", 1)


# --- scope ------------------------------------------------------------------------------------------------------------

def test_a_code_owned_by_someone_else_is_a_row_error_and_their_customer_is_unchanged(
    bank: Bank, tmp_path: Path
) -> None:
    # given
    carols = make_customer(bank.carol, name="宁波港务有限公司", tier="general")
    path = xlsx(tmp_path / "book.xlsx", {
        "客户": [CUSTOMER_HEADER, customer_row("我的新名字有限公司", carols.credit_code, **{"客户层级": "战略"})],
        "关键人物": [KEY_PERSON_HEADER, [carols.credit_code, "实际控制人", "张三", ""]],
    })
    before = snapshot()
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path, partial=True)
    # then
    carols.refresh_from_db()
    assert (carols.name, carols.tier, carols.version) == ("宁波港务有限公司", "general", 1)
    assert snapshot()[:4] == before[:4]
    assert errors_of(result) == [
        (2, "Unified social credit code", "A customer with this credit code exists but is not yours."),
        (2, "Customer's credit code",
         "The customer's own row (row 2 of the customers sheet) was not imported."),
    ]


def test_an_rm_cannot_hand_a_customer_to_another_rm_through_an_import(bank: Bank, tmp_path: Path) -> None:
    # given
    path = xlsx(tmp_path / "c.xlsx", {"客户": [["名称", "统一社会信用代码", "主办客户经理用户名"],
                                              ["转手有限公司", credit_code(), "bob"]]})
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path)
    # then
    assert errors_of(result) == [(2, "Primary RM username", "You can only make yourself the primary RM.")]
    assert not Customer.objects.exists()


def test_a_team_lead_files_imported_customers_under_the_rms_named(bank: Bank, tmp_path: Path) -> None:
    # given
    code = credit_code()
    path = xlsx(tmp_path / "c.xlsx", {"客户": [["名称", "统一社会信用代码", "主办客户经理用户名"],
                                              ["团队客户有限公司", code, "dave"]]})
    # when
    result = do_import(bank.lead, path)
    # then
    assert result.saved, errors_of(result)
    customer = Customer.objects.get(credit_code=code)
    assert (customer.primary_rm, customer.owning_unit) == (bank.dave, bank.team1)


def test_a_role_that_may_not_open_customer_files_cannot_import(bank: Bank, tmp_path: Path) -> None:
    # given
    path = customers_file(tmp_path, customer_row("审计客户有限公司", credit_code()))
    # when
    with pytest.raises(CommandError) as raised:
        call_command("import", "customers", str(path), "--user", "auditor")
    # then
    assert "may not open customer files" in str(raised.value)
    assert not Customer.objects.exists()


# --- bad input --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("customers.txt", b"name,code\n", "Only .xlsx and .csv files can be imported."),
        ("customers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
         "This kind of spreadsheet cannot be read. Save it as .xlsx or .csv and try again."),
        ("customers.xlsx", b"%PDF-1.7 not a workbook", "The file is not a valid Excel workbook (.xlsx)."),
        ("customers.xlsx", b"PK\x03\x04 broken zip", "The file is not a valid Excel workbook (.xlsx)."),
        ("customers.csv", b"PK\x03\x04 zip",
         "The file is an Excel workbook, not a CSV file. Name it .xlsx and try again."),
        ("customers.csv", b"", "The file is empty."),
        ("customers.csv", "名称,统一社会信用代码\n".encode(), "The file has no rows to import."),
        ("customers.csv", "名称,信用代码\n甲公司,x\n".encode(),
         "customers.csv: these columns are not known: “信用代码”. Use the headers of the template."),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_a_clear_message(
    bank: Bank, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    # given
    path = tmp_path / name
    path.write_bytes(content)
    # when
    with translation.override("zh-hans"), pytest.raises(FileRejected) as raised:
        do_import(bank.alice, path)
    # then: the message is rendered in the language of whoever reads it
    with translation.override("en"):
        assert str(raised.value.message) == message
    assert not AuditEvent.objects.exists()


def test_a_file_with_more_rows_than_allowed_is_refused(bank: Bank, tmp_path: Path, settings: Any) -> None:
    # given
    settings.IMPORT_MAX_ROWS = 3
    path = customers_file(tmp_path, *(customer_row(f"客户{n}", credit_code()) for n in range(4)))
    # when
    with translation.override("en"), pytest.raises(FileRejected) as raised:
        do_import(bank.alice, path)
    # then
    with translation.override("en"):
        assert str(raised.value.message) == "The file has more than 3 rows. Split it into smaller files."
    assert not Customer.objects.exists()


def test_merged_cells_are_an_error_naming_the_range(bank: Bank, tmp_path: Path) -> None:
    # given: the tier merged over two rows, so the second row would silently lose it
    path = customers_file(tmp_path, customer_row("甲有限公司", credit_code(), **{"客户层级": "重点"}),
                          customer_row("乙有限公司", credit_code()))
    workbook = load_workbook(path)
    workbook.worksheets[0].merge_cells("E2:E3")
    workbook.save(path)
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path)
    # then
    assert errors_of(result) == [
        (2, "Tier", "The cells E2:E3 are merged. Unmerge them and fill in every cell."),
        (3, "Tier", "The cells E2:E3 are merged. Unmerge them and fill in every cell."),
    ]
    assert not Customer.objects.exists()


def test_a_formula_gives_its_saved_value_and_one_never_calculated_is_an_error(bank: Bank, tmp_path: Path) -> None:
    # given: C2 holds a formula with the value Excel saved; C3 one that was never calculated
    path = customers_file(tmp_path, customer_row("公式甲有限公司", credit_code(), **{"注册资本（元）": "=1000*3"}),
                          customer_row("公式乙有限公司", credit_code(), **{"注册资本（元）": "=SUM(A1:A2)"}))
    with_cached_value(path, "1000*3", "3000")
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path, partial=True)
    # then
    assert errors_of(result) == [
        (3, "Registered capital (yuan)",
         "The formula =SUM(A1:A2) has no saved value. Open the file in Excel, save it and import it again."),
    ]
    assert Customer.objects.get(name="公式甲有限公司").registered_capital == Decimal("3000.00")


@pytest.mark.parametrize("written", ["2020-1-5", "2020年1月5日", "２０２０年１月５日", "2020/01/05", "20200105"])
def test_a_date_written_as_text_is_read_as_that_date(bank: Bank, tmp_path: Path, written: str) -> None:
    # given
    code = credit_code()
    path = customers_file(tmp_path, customer_row("日期有限公司", code, **{"成立日期": written}))
    # when
    result = do_import(bank.alice, path)
    # then
    assert result.saved, errors_of(result)
    assert Customer.objects.get(credit_code=code).established_on == date(2020, 1, 5)


def test_an_impossible_date_is_a_row_error(bank: Bank, tmp_path: Path) -> None:
    # given
    path = customers_file(tmp_path, customer_row("日期有限公司", credit_code(), **{"成立日期": "2021年2月30日"}))
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path)
    # then
    assert errors_of(result) == [(2, "Established on", "This date does not exist.")]


def test_full_width_characters_and_spaces_in_codes_are_normalised(bank: Bank, tmp_path: Path) -> None:
    # given
    full_width_code, spaced_code = credit_code(), credit_code()
    full_width = full_width_code.translate({ord(c): ord(c) + 0xFEE0 for c in full_width_code})
    spaced = f" {spaced_code[:6]} {spaced_code[6:12]}\u3000{spaced_code[12:]} ".lower()
    path = customers_file(tmp_path, customer_row("全角有限公司", full_width), customer_row("空格有限公司", spaced))
    # when
    result = do_import(bank.alice, path)
    # then
    assert full_width.startswith("９")
    assert result.saved, errors_of(result)
    assert set(Customer.objects.values_list("credit_code", flat=True)) == {full_width_code, spaced_code}


def test_a_credit_code_repeated_in_the_file_is_an_error_on_the_later_rows(bank: Bank, tmp_path: Path) -> None:
    # given: the same code twice, the second time written with spaces
    code = credit_code()
    path = customers_file(tmp_path, customer_row("第一有限公司", code),
                          customer_row("第二有限公司", f"{code[:9]} {code[9:]}"))
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path, partial=True)
    # then
    assert errors_of(result) == [(3, "Unified social credit code", "This repeats row 2 of the same sheet.")]
    assert list(Customer.objects.values_list("name", flat=True)) == ["第一有限公司"]


def test_a_name_with_html_is_stored_as_text_and_shown_escaped(bank: Bank, tmp_path: Path, client: Client) -> None:
    # given
    code = credit_code()
    path = customers_file(tmp_path, customer_row("<script>alert(1)</script>有限公司", code))
    result = do_import(bank.alice, path)
    assert result.saved
    customer = Customer.objects.get(credit_code=code)
    client.force_login(bank.alice)
    # when
    pages = [client.get(reverse("customers:detail", args=[customer.pk])),
             client.get(reverse("customers:list")),
             client.get(reverse("customers:timeline", args=[customer.pk]), HTTP_HX_REQUEST="true")]
    # then
    assert customer.name == "<script>alert(1)</script>有限公司"
    for page in pages:
        body = page.content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;有限公司" in body
        assert "<script>alert(1)" not in body


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_a_csv_in_any_encoding_chinese_excel_writes_is_read(bank: Bank, tmp_path: Path, encoding: str) -> None:
    # given
    code = credit_code()
    buffer = io.StringIO()
    row = customer_row("编码测试（杭州）有限公司", code, **{"成立日期": "2020年1月5日"})
    csv.writer(buffer).writerows([CUSTOMER_HEADER, row])
    path = tmp_path / "customers.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    # when
    result = do_import(bank.alice, path)
    # then
    assert result.saved, errors_of(result)
    customer = Customer.objects.get(credit_code=code)
    assert (customer.name, customer.established_on) == ("编码测试（杭州）有限公司", date(2020, 1, 5))


def test_a_cell_outside_every_column_is_an_error_not_silently_dropped(bank: Bank, tmp_path: Path) -> None:
    # given
    path = customers_file(tmp_path, [*customer_row("多余有限公司", credit_code()), "备注写在这里"])
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path)
    # then
    assert errors_of(result) == [(2, "", "The cell G2 holds “备注写在这里” but its column has no header.")]


def test_an_id_number_excel_turned_into_a_number_is_explained(bank: Bank, tmp_path: Path) -> None:
    # given
    customer = make_customer(bank.alice)
    path = xlsx(tmp_path / "p.xlsx", {"关键人物": [["客户统一社会信用代码", "角色", "姓名", "居民身份证号码"],
                                                 [customer.credit_code, "法定代表人", "王五", 110105198001011230]]})
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path)
    # then
    assert errors_of(result) == [(2, "Resident ID number", "Excel stored this ID number as a number and lost its "
                                  "last digits. Format the column as text.")]


def test_a_relationship_row_with_an_unknown_customer_says_so(bank: Bank, tmp_path: Path) -> None:
    # given
    path = xlsx(tmp_path / "r.xlsx", {"关联关系": [RELATIONSHIP_HEADER, [credit_code(), "上下游", "某某公司", "", ""]]})
    # when
    with translation.override("en"):
        result = do_import(bank.alice, path)
    # then
    assert errors_of(result) == [
        (2, "Customer's credit code", "No customer has this credit code. Add the customer on the customers sheet."),
    ]


# --- the template -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "first_headers"), [
    ("zh-hans", ("名称", "统一社会信用代码")), ("en", ("Name", "Unified social credit code"))])
def test_the_template_has_headers_in_the_language_asked_and_imports_once_filled(
    bank: Bank, tmp_path: Path, language: str, first_headers: tuple[str, str]
) -> None:
    # given
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_workbook(language))
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    assert tuple(c.value for c in sheet[1][:2]) == first_headers
    assert len(workbook.worksheets) == 5
    code = credit_code()
    sheet.append(["模板客户有限公司", code])
    workbook.save(path)
    # when
    result = do_import(bank.alice, path)
    # then
    assert result.saved, errors_of(result)
    assert Customer.objects.filter(credit_code=code).exists()


def test_the_template_command_writes_the_template(tmp_path: Path, db: Any) -> None:
    # when
    call_command("import", "template", str(tmp_path / "t.xlsx"), "--language", "en")
    # then
    assert load_workbook(tmp_path / "t.xlsx").sheetnames == [
        "Customers", "Key persons", "Financial statements", "Relationships", "Instructions"]


# --- the pages --------------------------------------------------------------------------------------------------------

@pytest.fixture
def imports_dir(tmp_path: Path, settings: Any) -> Path:
    settings.IMPORT_DIR = tmp_path / "imports"
    return settings.IMPORT_DIR


@override_settings(TASKS=IMMEDIATE)
def test_the_upload_runs_as_a_job_and_the_page_shows_its_result(
    bank: Bank, tmp_path: Path, client: Client, imports_dir: Path
) -> None:
    # given
    good = credit_code()
    path = customers_file(tmp_path, customer_row("页面客户有限公司", good),
                          customer_row("<b>坏</b>代码有限公司", wrong_check_char(credit_code())))
    client.force_login(bank.alice)
    # when
    with path.open("rb") as upload:
        response = client.post(reverse("customers:import"), {"file": upload, "partial": "on"})
    # then
    assert response.status_code == 302
    status = client.get(response["Location"])
    assert status.status_code == 200
    body = status.content.decode()
    assert "hx-trigger" not in body  # finished: the page stops polling
    assert Customer.objects.filter(credit_code=good).exists()
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_credit_code(wrong_check_char(credit_code()))
    assert escape(refused.value.messages[0]) in body
    errors = client.get(response["Location"] + "errors.xlsx")
    assert errors.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(errors.streaming_content))).worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "<b>坏</b>代码有限公司"
    # the upload itself is gone; the job's files and the error file stay
    assert sorted(p.suffix for p in imports_dir.iterdir()) == [".json", ".json", ".xlsx", ".xlsx"]


@override_settings(TASKS=IMMEDIATE)
def test_a_job_is_visible_only_to_the_user_who_started_it(
    bank: Bank, tmp_path: Path, client: Client, imports_dir: Path
) -> None:
    # given
    path = customers_file(tmp_path, customer_row("私有任务有限公司", credit_code()))
    client.force_login(bank.alice)
    with path.open("rb") as upload:
        location = client.post(reverse("customers:import"), {"file": upload})["Location"]
    # when
    client.force_login(bank.dave)
    # then
    assert client.get(location).status_code == 404
    assert client.get(location + "errors.xlsx").status_code == 404


def test_a_running_job_is_polled_every_second(bank: Bank, client: Client, imports_dir: Path) -> None:
    # given: a job the worker is halfway through
    job = ImportJob.create(user_id=bank.alice.pk, upload=SimpleUploadedFile("big.csv", b"a,b\n"), partial=False,
                           language="zh-hans")
    job.report(state="running", stage="saving", done=450, total=1000)
    client.force_login(bank.alice)
    # when
    page = client.get(reverse("customers:import_status", args=[job.id]))
    partial = client.get(reverse("customers:import_status", args=[job.id]), HTTP_HX_REQUEST="true")
    # then
    for response in (page, partial):
        body = response.content.decode()
        assert 'hx-trigger="every 1s"' in body
        assert 'style="width: 45%"' in body
    assert "<html" not in partial.content.decode()


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("c.pdf", b"%PDF"), "Only .xlsx and .csv files can be imported."),
    (SimpleUploadedFile("c.xlsx", b"name,code\n"), "The file is not a valid Excel workbook (.xlsx)."),
    (SimpleUploadedFile("c.csv", b"x" * (1024 * 1024 + 1)), "The file is larger than 1 MB."),
])
def test_a_bad_upload_is_a_field_error_and_starts_no_job(
    bank: Bank, client: Client, imports_dir: Path, settings: Any, upload: Any, message: str
) -> None:
    # given
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    client.force_login(bank.alice)
    # when
    response = client.post(reverse("customers:import"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert not imports_dir.exists() or not list(imports_dir.iterdir())


@pytest.mark.parametrize("persona", ["auditor", "risk", "admin", "officer"])
def test_the_import_pages_are_404_for_roles_that_may_not_open_files(bank: Bank, client: Client, persona: str) -> None:
    # given
    client.force_login(getattr(bank, persona))
    # when / then
    assert client.get(reverse("customers:import")).status_code == 404
    assert client.get(reverse("customers:import_template")).status_code == 404


def test_the_import_page_needs_a_login(client: Client, db: Any) -> None:
    # when
    response = client.get(reverse("customers:import"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_template_downloads_in_each_language(bank: Bank, client: Client) -> None:
    # given
    client.force_login(bank.alice)
    # when
    zh = client.get(reverse("customers:import_template") + "?language=zh-hans")
    en = client.get(reverse("customers:import_template") + "?language=en")
    # then
    assert load_workbook(io.BytesIO(zh.content)).sheetnames[0] == "客户"
    assert load_workbook(io.BytesIO(en.content)).sheetnames[0] == "Customers"


@override_settings(TASKS=IMMEDIATE)
def test_the_job_reports_its_errors_in_the_language_of_whoever_reads_them(
    bank: Bank, tmp_path: Path, client: Client, imports_dir: Path
) -> None:
    # given: a file uploaded from the Chinese page, with errors from the cells, the file and the services
    carols = make_customer(bank.carol, name="宁波港务有限公司")
    good = credit_code()
    header = [*CUSTOMER_HEADER, "主办客户经理用户名"]
    path = xlsx(tmp_path / "c.xlsx", {"客户": [
        header,
        ["好客户有限公司", good, None, None, None, None, None],
        ["坏代码有限公司", wrong_check_char(credit_code()), None, None, None, None, None],
        ["别人的客户有限公司", carols.credit_code, None, None, None, None, None],
        ["层级有误有限公司", credit_code(), None, None, "金牌", None, None],
        ["重复有限公司", good, None, None, None, None, None],
        ["转手有限公司", credit_code(), None, None, None, None, "bob"],
    ]})
    client.force_login(bank.alice)
    with path.open("rb") as upload:
        location = client.post(
            reverse("customers:import"), {"file": upload, "partial": "on"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )["Location"]
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        validate_credit_code(wrong_check_char(credit_code()))
    with translation.override("en"):
        wrong_check = refused.value.messages[0]
    english = [
        wrong_check,
        "A customer with this credit code exists but is not yours.",
        "“金牌” is not one of: Strategic, Core, Key, General.",
        "This repeats row 2 of the same sheet.",
        "You can only make yourself the primary RM.",
    ]
    # when: the page and the error file are read after a switch to English
    page = client.get(location, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    errors = client.get(location + "errors.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    chinese_page = client.get(location, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # then: every message is in English, in the page and in the file; the Chinese page has none of them
    rows = list(load_workbook(io.BytesIO(b"".join(errors.streaming_content))).worksheets[0].iter_rows(values_only=True))
    assert rows[0][-1] == "Errors"
    assert [row[0] for row in rows[1:]] == [
        "坏代码有限公司", "别人的客户有限公司", "层级有误有限公司", "重复有限公司", "转手有限公司"]
    for message, row in zip(english, rows[1:], strict=True):
        assert escape(message) in page
        assert message in row[-1]
        assert escape(message) not in chinese_page
    with translation.override("zh-hans"):
        assert escape(gettext("A customer with this credit code exists but is not yours.")) in chinese_page


@override_settings(TASKS=IMMEDIATE)
def test_a_file_the_job_refuses_is_explained_in_the_readers_language(
    bank: Bank, tmp_path: Path, client: Client, imports_dir: Path
) -> None:
    # given: a file with a column the template does not know, uploaded from the Chinese page
    path = xlsx(tmp_path / "c.xlsx", {"客户": [["名称", "信用代码"], ["甲公司", "x"]]})
    client.force_login(bank.alice)
    with path.open("rb") as upload:
        location = client.post(reverse("customers:import"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="zh-hans")[
            "Location"
        ]
    # when
    page = client.get(location, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then
    assert escape("客户: these columns are not known: “信用代码”. Use the headers of the template.") in page


def test_a_job_written_by_an_earlier_release_in_one_language_is_still_shown(
    bank: Bank, client: Client, imports_dir: Path
) -> None:
    # given: the job file and error file as a release before the per-language report left them
    job = ImportJob.create(user_id=bank.alice.pk, upload=SimpleUploadedFile("old.csv", b"a,b\n"), partial=True,
                           language="zh-hans")
    job.discard_upload()
    job.report(state="done", summary={"rows": 1, "rejected": 1, "saved": True}, error_count=1,
               errors=[{"sheet": "客户", "row": 2, "column": "名称", "message": "旧版本的错误说明"}])
    (imports_dir / f"{job.id}-errors.xlsx").write_bytes(b"PK earlier error file")
    client.force_login(bank.alice)
    # when
    page = client.get(reverse("customers:import_status", args=[job.id]), HTTP_ACCEPT_LANGUAGE="en")
    errors = client.get(reverse("customers:import_errors", args=[job.id]), HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert "旧版本的错误说明" in page.content.decode()
    assert b"".join(errors.streaming_content) == b"PK earlier error file"
