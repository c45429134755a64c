"""Importing customers in a real browser: upload a workbook with one bad row, read the row's error on the job's page,
download the error file, then upload the corrected workbook and see it done. The job runs in django-tasks'
immediate backend, inside the upload's request, so the page it redirects to shows the finished job."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.urls import reverse
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from rmdesk.core.validators import credit_code_check_char
from tests.browser.conftest import BrowserBank, Session
from tests.personas import credit_code

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
HEADER = ["名称", "统一社会信用代码", "客户层级"]
WRONG_CHECK_CHARACTER = "统一社会信用代码的校验码不正确，请检查是否输入有误。"


def workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "客户"
    for row in [HEADER, *rows]:
        sheet.append(row)
    book.save(path)
    return path


def with_wrong_check_character(code: str) -> str:
    right = credit_code_check_char(code[:17])
    return code[:17] + ("1" if right != "1" else "2")


def test_import_a_file_with_a_bad_row_then_the_corrected_file(
    session: Session, browser_bank: BrowserBank, tmp_path: Path, settings: Any
) -> None:
    page = session.page
    settings.TASKS = IMMEDIATE
    settings.IMPORT_DIR = tmp_path / "imports"
    good, fixed = credit_code(), credit_code()
    bad = with_wrong_check_character(fixed)
    first = workbook(tmp_path / "客户.xlsx", [["导入甲有限公司", good, "重点"], ["导入乙有限公司", bad, "一般"]])
    # given: alice opens the import page from her customer list
    session.log_in_as(browser_bank.alice)
    page.goto(session.url(reverse("customers:list")))
    page.get_by_role("link", name="导入", exact=True).click()
    expect(page).to_have_url(session.url(reverse("customers:import")))
    expect(page.get_by_role("heading", name="导入客户")).to_be_visible()
    session.shot("1-import-page")
    # when: she uploads the workbook, all or nothing (the default)
    page.get_by_label("文件").set_input_files(str(first))
    page.get_by_role("button", name="导入", exact=True).click()
    # then: the job's page names the bad row and its column, and nothing was saved
    expect(page).to_have_url(re.compile(r"/customers/import/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("alert")).to_have_text("1 行有错误，因此未保存任何数据。请更正后重新导入该文件。")
    errors = page.locator("table tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.locator("td")).to_have_text(["客户", "3", "统一社会信用代码", WRONG_CHECK_CHARACTER])
    session.shot("2-row-error")
    # when: she downloads the rejected rows
    with page.expect_download() as download:
        page.get_by_role("link", name="下载被拒绝的行（.xlsx）").click()
    # then: the bad row as she wrote it, with its error in a last column
    saved = tmp_path / "errors.xlsx"
    download.value.save_as(saved)
    assert re.fullmatch(r"import-errors-\d{8}-\d{4}\.xlsx", download.value.suggested_filename)
    rows = list(load_workbook(saved).worksheets[0].iter_rows(values_only=True))
    assert rows == [
        (*HEADER, "错误"),
        ("导入乙有限公司", bad, "一般", f"统一社会信用代码: {WRONG_CHECK_CHARACTER}"),
    ]
    # when: she corrects the code and uploads the workbook again
    page.get_by_role("link", name="导入其他文件").click()
    corrected = workbook(
        tmp_path / "客户-更正.xlsx", [["导入甲有限公司", good, "重点"], ["导入乙有限公司", fixed, "一般"]]
    )
    page.get_by_label("文件").set_input_files(str(corrected))
    page.get_by_role("button", name="导入", exact=True).click()
    # then: done, both customers added, and they are on her list
    expect(page.get_by_role("alert")).to_have_text("导入完成。")
    added = page.locator(".datagrid-item").filter(has_text="新增").locator(".datagrid-content")
    expect(added).to_have_text("2")
    expect(page.locator("table")).to_have_count(0)
    session.shot("3-done")
    page.goto(session.url(reverse("customers:list")))
    results = page.locator("#customer-results")
    expect(results.get_by_role("link", name="导入甲有限公司")).to_be_visible()
    expect(results.get_by_role("link", name="导入乙有限公司")).to_be_visible()
    session.shot("4-on-the-list")
    session.assert_no_page_problems()
