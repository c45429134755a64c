"""A customer visit in a real browser, as issue 5's "done when" walks it: an RM opens her customer's 360° page, plans a
visit from its visits panel with the preparation checklist, seeing the finance head's decision role and preferences
before she goes; on the day she checks in (the browser shares its location) and records the visit: the needs,
another bank's credit, the products presented in order (adding a row), the finance head's preferences as she saw
them, the self-check and a confidential note. She turns a stated need into a follow-up task due today and finds it on
her home page and her task list. Her team lead logs in, sees the team's visit coverage, and reads the visit's
one-page report with the confidential note. A phone-sized screen gets the plan form and the visit page too.

The pages are found by address, form action and field name, not by their words, which translation changes; where a
word is checked it is what the app's catalogue gives in the user's language (read here under the same language).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from rmdesk.customers import services
from rmdesk.customers.choices import DecisionRole, KeyPersonRole
from rmdesk.customers.models import KeyPerson
from rmdesk.visits.choices import Interest, NeedTag, PrepItem, VisitStatus
from tests.browser.conftest import PASSWORD, BrowserBank, Session

CHINESE = "zh-hans"
PREFERENCES = "重数据，不喜寒暄；周五下午不约"
SEEN = "重数据，喜欢书面方案；对利率敏感"
FOLLOW_UP = "报送三千万流动资金贷款方案"


def chinese(label: object) -> str:
    """A label (lazy, or a message id) as the app shows it to a Chinese browser."""
    with translation.override(CHINESE):
        return translation.gettext(label) if isinstance(label, str) else str(label)


@pytest.fixture
def finance_head(browser_bank: BrowserBank) -> KeyPerson:
    """华兴科技's finance head, with the preferences an RM should read before going (made before Chromium starts)."""
    return services.add_key_person(
        actor=browser_bank.alice,
        customer_id=browser_bank.huaxing.pk,
        data={
            "role": "finance_head",
            "name": "王芳",
            "title": "财务总监",
            "decision_role": "decider",
            "preferences": PREFERENCES,
        },
    )


def log_in_through_the_form(page: Page, session: Session, username: str) -> None:
    page.goto(session.url(reverse("login")))
    form = page.locator(f"form[action='{reverse('login')}']")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(session.url(reverse("home")))


def test_an_rm_plans_records_and_follows_up_a_visit_and_the_lead_sees_it(
    finance_head: KeyPerson, session: Session, browser_bank: BrowserBank
) -> None:
    page = session.page
    huaxing = browser_bank.huaxing
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    page.context.grant_permissions(["geolocation"], origin=session.base_url)
    page.context.set_geolocation({"latitude": 30.274085, "longitude": 120.15507})  # Hangzhou

    # --- from the customer's 360° page, its visits panel --------------------------------------------------------
    session.log_in_as(browser_bank.alice)
    page.goto(session.url(reverse("customers:detail", args=[huaxing.pk])))
    panel = page.locator("#visits-panel")
    plan_link = panel.locator(f"a[href='{reverse('visits:plan')}?customer={huaxing.pk}']")
    expect(plan_link).to_be_visible()
    expect(page.locator("#customer-events")).to_be_visible()  # the occasions, loaded inside the panel
    session.shot("01-360-visits-panel")
    plan_link.click()
    expect(page).to_have_url(session.url(f"{reverse('visits:plan')}?customer={huaxing.pk}"))

    # --- the plan: why, when, who (with the finance head's preferences), the checklist ---------------------------
    form = page.locator("#plan-form")
    person = form.locator(f"#key-person-{finance_head.pk}")
    expect(person).to_contain_text("王芳")
    expect(person).to_contain_text(chinese(KeyPersonRole.FINANCE_HEAD.label))
    expect(person).to_contain_text(chinese(DecisionRole.DECIDER.label))
    expect(person).to_contain_text(PREFERENCES)
    form.locator("select[name=purpose]").select_option("needs")
    form.locator("input[name=purpose_detail]").fill("了解年度授信需求")
    form.locator("input[name=day]").fill(tomorrow.isoformat())
    form.locator("input[name=start_time]").fill("10:00")
    form.locator("input[name=end_time]").fill("11:30")
    form.locator("input[name=place]").fill("华兴科技总部, 三楼会议室")
    person.locator("input[name=key_persons]").check()
    for item in (PrepItem.RESEARCH, PrepItem.KEY_PEOPLE, PrepItem.APPOINTMENT, PrepItem.MATERIALS):
        form.locator(f"input[name=preparation][value={item}]").check()
    form.locator("textarea[name=strategy]").fill("先谈结算，再提流贷")
    form.locator("textarea[name=materials]").fill("现金管理产品手册")
    session.shot("02-plan-form")
    page.set_viewport_size({"width": 390, "height": 844})
    session.shot("03-plan-form-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    form.locator(".card-footer button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/visits/\d+/$"))
    visit_url = page.url
    visit_pk = int(re.findall(r"\d+", visit_url)[-1])
    expect(page.locator("#messages .alert-success")).to_have_count(1)
    expect(page.locator("#customer-attendees")).to_contain_text(PREFERENCES)
    expect(page.locator("#preparation .rm-done")).to_have_count(4)
    session.shot("04-planned")

    # --- on the day: check in, the browser sharing where she is ------------------------------------------------------
    page.locator("#checkin button[type=submit]").click()
    expect(page).to_have_url(visit_url)
    expect(page.locator("#messages .alert-success")).to_have_text(chinese("Checked in with your location."))
    expect(page.locator("#checkin")).to_contain_text("±")
    session.shot("05-checked-in")

    # --- the record ------------------------------------------------------------------------------------------------
    page.locator(f"a[href='{reverse('visits:record', args=[visit_pk])}']").first.click()
    record = page.locator("#record-form")
    # It took place earlier than planned: 40 minutes ending an hour ago, on one day. (00:00–00:40 today was in the
    # future when the suite ran between midnight and 00:40 in Shanghai, and the record was refused.)
    ended = timezone.localtime() - timedelta(hours=1)
    if ended.hour == 0 and ended.minute <= 40:
        ended -= timedelta(minutes=45)  # late the day before, so that it starts on the same day
    started = ended - timedelta(minutes=40)
    record.locator("input[name=day]").fill(ended.date().isoformat())
    record.locator("input[name=start_time]").fill(started.strftime("%H:%M"))
    record.locator("input[name=end_time]").fill(ended.strftime("%H:%M"))
    record.locator("textarea[name=goals_short]").fill("年内新增一条产线")
    record.locator("textarea[name=goals_long]").fill("三年内上市")
    for tag in (NeedTag.WORKING_CAPITAL, NeedTag.CASH_MANAGEMENT):
        record.locator(f"input[name=need_tags][value={tag}]").check()
    record.locator("textarea[name=needs_detail]").fill("旺季流动资金缺口约三千万")
    record.locator("textarea[name=operations]").fill("订单饱满，回款周期约90天")
    record.locator("textarea[name=product_reaction]").fill("对现金管理有兴趣")
    record.locator("input[name=banks-0-bank_name]").fill("工商银行")
    record.locator("input[name=banks-0-facility]").fill("流动资金贷款")
    record.locator("input[name=banks-0-amount]").fill("30000000")
    record.locator("select[name=banks-0-satisfaction]").select_option("dissatisfied")
    preference = record.locator(f"#preference-{finance_head.pk} textarea")
    expect(preference).to_have_value(PREFERENCES)
    preference.fill(SEEN)
    record.locator("input[name=proposals-0-content]").fill("三千万流动资金贷款")
    record.locator("select[name=proposals-0-response]").select_option("countered")
    record.locator("input[name=proposals-0-counter_offer]").fill("利率下浮20BP")
    record.locator("input[name=products-0-product]").fill("现金管理")
    record.locator("select[name=products-0-interest]").select_option(Interest.HIGH)
    record.locator("textarea[name=confidential_notes]").fill("董事长有意更换主办行")
    # a second product: one more row, the entries so far kept
    record.locator("button[name=add_row][value=products]").click()
    expect(record.locator("input[name=products-1-product]")).to_be_visible()
    expect(record.locator("input[name=products-0-product]")).to_have_value("现金管理")
    record.locator("input[name=products-1-product]").fill("票据池")
    record.locator("select[name=products-1-interest]").select_option(Interest.MEDIUM)
    for check in ("attentive", "honorifics", "dress", "punctual"):
        record.locator(f"input[name=self_check][value={check}]").check()
    session.shot("06-record-form")
    record.locator(".card-footer button[type=submit]").click()
    expect(page).to_have_url(visit_url)
    expect(page.locator("#visit-status")).to_have_text(chinese(VisitStatus.DONE.label))
    expect(page.locator("#products tbody tr")).to_have_count(2)
    expect(page.locator("#products tbody tr").first).to_contain_text("现金管理")
    expect(page.locator("#products tbody tr").nth(1)).to_contain_text("票据池")
    expect(page.locator("#other-banks")).to_contain_text("30,000,000.00")
    expect(page.locator("#customer-attendees")).to_contain_text(SEEN)  # saved to the archive
    expect(page.locator("#confidential")).to_contain_text("董事长有意更换主办行")
    session.shot("07-recorded")

    # --- a stated need becomes a follow-up task, due today ------------------------------------------------------------
    need = page.locator("#need-tags a[href='?need=working_capital#follow-up-task']")
    need.click()
    task_form = page.locator("#follow-up-task form")
    expect(task_form).to_be_visible()
    expect(task_form.locator("input[name=description]")).to_have_value(
        chinese("Follow up the need: %(need)s") % {"need": chinese(NeedTag.WORKING_CAPITAL.label)}
    )
    task_form.locator("input[name=description]").fill(FOLLOW_UP)
    task_form.locator("input[name=due_date]").fill(today.isoformat())
    session.shot("08-follow-up-form")
    task_form.locator("button[type=submit]").click()
    expect(page).to_have_url(visit_url)
    expect(page.locator("#follow-ups")).to_contain_text(FOLLOW_UP)
    page.set_viewport_size({"width": 390, "height": 844})
    session.shot("09-visit-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- on her home page and her task list -------------------------------------------------------------------------
    page.goto(session.url(reverse("home")))
    expect(page.locator(".task-row").filter(has_text=FOLLOW_UP)).to_have_count(1)
    expect(page.locator("#home-visits")).to_be_visible()
    session.shot("10-home")
    page.locator(f"a[href='{reverse('tasks:list')}']").first.click()
    expect(page.locator(".task-row").filter(has_text=FOLLOW_UP)).to_have_count(1)
    session.shot("11-tasks")

    # --- her team lead: the coverage, and the visit's report ----------------------------------------------------------
    page.context.clear_cookies()
    log_in_through_the_form(page, session, "lead")  # tests/personas.py: team lead of alice's team
    page.goto(session.url(reverse("visits:coverage")))
    alice_row = page.locator("tbody tr").filter(has_text=browser_bank.alice.display_name)
    expect(alice_row).to_have_count(1)
    expect(alice_row.locator("td").nth(1)).to_have_text("2")  # 华兴科技 and 西湖电子
    expect(alice_row.locator("td").nth(2)).to_have_text("1")  # 华兴科技, visited today
    session.shot("12-coverage")
    page.goto(session.url(reverse("visits:list")))
    expect(page.locator(f"#section-done #visit-{visit_pk}")).to_be_visible()  # the team's visits
    session.shot("13-lead-visits")
    page.locator(f"#visit-{visit_pk} a[href='{reverse('visits:detail', args=[visit_pk])}']").click()
    page.locator(f"a[href='{reverse('visits:report', args=[visit_pk])}']").click()
    report = page.locator("#visit-report")
    expect(report).to_contain_text(huaxing.name)
    expect(report).to_contain_text("票据池")
    expect(report).to_contain_text(FOLLOW_UP)
    expect(report.locator("#confidential")).to_contain_text("董事长有意更换主办行")
    page.emulate_media(media="print")
    expect(page.locator("header.navbar")).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
    session.shot("14-report-print")
    session.assert_no_page_problems()
