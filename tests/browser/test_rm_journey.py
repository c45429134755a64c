"""An RM's day in a real browser: log in, find a customer by pinyin initials, open the 360° page, edit and mistype,
switch language, and fail to reach another branch's customer. Each step leaves a screenshot in
test-artifacts/browser/, and no page may log an error or a Content-Security-Policy violation."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, BrowserBank, Session


def test_log_in_through_the_form(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    # given: the workbench sends a stranger to the login page
    page.goto(session.url("/"))
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("heading", name="登录客户经理工作台")).to_be_visible()
    session.shot("1-login-form")
    # when
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    # then: alice's home, in Chinese
    expect(page).to_have_url(session.url("/"))
    expect(page.get_by_role("heading", name="您好，Alice")).to_be_visible()
    expect(page.locator(".navbar-brand")).to_have_text("客户经理工作台")
    session.shot("2-home")
    session.assert_no_page_problems()


def test_quick_search_by_pinyin_initials(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    # given
    session.log_in_as(browser_bank.alice)
    page.goto(session.url("/"))
    # when: the header box, with the initials of 华兴科技
    search = page.locator("header").get_by_role("searchbox", name="搜索客户")
    search.fill("hxkj")
    session.shot("1-typed")
    search.press("Enter")
    # then
    expect(page).to_have_url(re.compile(r"/customers/\?q=hxkj$"))
    results = page.locator("#customer-results")
    expect(results.get_by_role("link", name="华兴科技有限公司")).to_be_visible()
    session.shot("2-results")
    expect(results.get_by_role("link", name="西湖电子有限公司")).to_have_count(0)
    session.assert_no_page_problems()


def test_the_list_filter_narrows_the_results_in_place(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    # given: alice's two customers, and none of carol's
    session.log_in_as(browser_bank.alice)
    page.goto(session.url(reverse("customers:list")))
    rows = page.locator("#customer-results").get_by_role("link")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="华兴科技有限公司")).to_be_visible()
    expect(rows.filter(has_text="西湖电子有限公司")).to_be_visible()
    expect(page.get_by_text("宁波港务有限公司")).to_have_count(0)
    session.shot("1-all")
    page.evaluate("window.rmdeskNotReloaded = true")
    # when: typing in the filter box (htmx asks for the rows after a pause)
    page.locator("#id_q").fill("西湖")
    # then: only the rows changed, and the address bar follows
    expect(rows).to_have_text(["西湖电子有限公司"])
    expect(page).to_have_url(re.compile(r"[?&]q=%E8%A5%BF%E6%B9%96(&|$)"))
    assert page.evaluate("window.rmdeskNotReloaded") is True
    session.shot("2-filtered")
    session.assert_no_page_problems()


def test_the_360_page_and_its_tabs(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    customer = browser_bank.huaxing
    # given
    session.log_in_as(browser_bank.alice)
    page.goto(session.url(reverse("customers:list")))
    # when
    page.get_by_role("link", name=customer.name).click()
    # then: the master data tab is open
    expect(page).to_have_url(session.url(reverse("customers:detail", args=[customer.pk])))
    expect(page.locator(".page-title")).to_contain_text(customer.name)
    expect(page.locator("#section-master")).to_be_visible()
    expect(page.locator("#section-master")).to_contain_text(customer.credit_code)
    session.shot("1-master")
    # when: the tasks tab, whose panel htmx loaded into the page (the placeholder has no .rm-task-panel)
    page.get_by_role("tab", name="任务", exact=True).click()
    # then
    expect(page.locator("#section-tasks .rm-task-panel")).to_be_visible()
    expect(page.locator("#section-tasks")).to_contain_text("该客户的任务")
    expect(page.locator("#section-master")).to_be_hidden()
    expect(page).to_have_url(session.url(reverse("customers:tasks", args=[customer.pk])))  # app.js keeps the URL
    session.shot("2-tasks")
    # when: the financials tab, where app.js draws the statements with ECharts
    page.get_by_role("tab", name="财务信息", exact=True).click()
    # then
    expect(page.locator("#section-financials")).to_be_visible()
    expect(page.locator("#section-financials .rm-chart[data-chart-ready] canvas")).to_be_visible()
    expect(page.locator("#section-financials tbody tr")).to_have_count(2)
    expect(page).to_have_url(session.url(reverse("customers:financials", args=[customer.pk])))
    session.shot("3-financials")
    session.assert_no_page_problems()


def test_edit_a_field_and_save(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    customer = browser_bank.huaxing
    # given
    session.log_in_as(browser_bank.alice)
    page.goto(session.url(reverse("customers:detail", args=[customer.pk])))
    expect(page.locator(".rm-heading-badges")).to_contain_text("一般")
    # when: tier 一般 → 重点
    page.get_by_role("link", name="编辑基本信息").click()
    expect(page).to_have_url(session.url(reverse("customers:edit", args=[customer.pk])))
    page.get_by_label("客户层级").select_option(label="重点")
    session.shot("1-form")
    page.get_by_role("button", name="保存").click()
    # then: back on the 360° page, saved
    expect(page).to_have_url(session.url(reverse("customers:detail", args=[customer.pk])))
    expect(page.get_by_role("alert")).to_contain_text("基本信息已保存。")
    expect(page.locator(".rm-heading-badges")).to_contain_text("重点")
    expect(page.locator("#section-master")).to_contain_text("重点")
    session.shot("2-saved")
    # and saved, not just shown: a fresh load reads it back
    page.reload()
    expect(page.locator(".rm-heading-badges")).to_contain_text("重点")
    session.assert_no_page_problems()


def test_an_invalid_credit_code_shows_its_field_error(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    customer = browser_bank.huaxing
    good = customer.credit_code
    bad = good[:17] + ("0" if good[17] != "0" else "1")  # a typo in the check character
    # given
    session.log_in_as(browser_bank.alice)
    page.goto(session.url(reverse("customers:edit", args=[customer.pk])))
    # when
    page.get_by_label("统一社会信用代码").fill(bad)
    page.get_by_role("button", name="保存").click()
    # then: the form again, the typed code kept, the error under the field
    expect(page).to_have_url(session.url(reverse("customers:edit", args=[customer.pk])))
    field = page.get_by_label("统一社会信用代码")
    expect(field).to_have_value(bad)
    expect(field).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator(".invalid-feedback")).to_have_text("统一社会信用代码的校验码不正确，请检查是否输入有误。")
    session.shot("1-error")
    # and nothing was saved
    page.get_by_role("link", name="取消").click()
    expect(page).to_have_url(session.url(reverse("customers:detail", args=[customer.pk])))
    expect(page.locator(".page-pretitle")).to_have_text(good)
    session.assert_no_page_problems()


def test_switch_the_language_to_english(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    customer = browser_bank.huaxing
    detail = session.url(reverse("customers:detail", args=[customer.pk]))
    # given
    session.log_in_as(browser_bank.alice)
    page.goto(detail)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # when: the user menu's language switcher
    page.get_by_label("打开用户菜单").click()
    english = page.get_by_role("button", name="English")
    expect(english).to_be_visible()
    session.shot("1-menu")
    english.click()
    # then: the same page, in English
    expect(page).to_have_url(detail)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".navbar-brand")).to_have_text("RM Workbench")
    expect(page.get_by_role("tab", name="Master data")).to_be_visible()
    expect(page.get_by_role("link", name="Edit master data")).to_be_visible()
    expect(page.locator("#section-master")).to_contain_text("Tier")
    session.shot("2-english")
    session.assert_no_page_problems()


def test_another_rms_customer_is_not_reachable(session: Session, browser_bank: BrowserBank) -> None:
    page = session.page
    theirs = browser_bank.ningbo_port
    # given: alice (Hangzhou) knows the address of carol's (Ningbo) customer
    session.log_in_as(browser_bank.alice)
    for name in ("customers:detail", "customers:edit"):
        url = session.url(reverse(name, args=[theirs.pk]))
        session.expect_404(url)
        # when
        response = page.goto(url)
        # then: the not-found page, nothing of the customer
        assert response is not None
        assert response.status == 404
        expect(page.get_by_text("该页面不存在，或您无权查看。")).to_be_visible()
        expect(page.get_by_text(theirs.name)).to_have_count(0)
        expect(page.get_by_text(theirs.credit_code)).to_have_count(0)
        session.shot(f"{'1' if name.endswith('detail') else '2'}-{name.split(':')[1]}-404")
    session.assert_no_page_problems()
