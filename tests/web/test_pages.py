"""Smoke tests of the web UI: pages render in scope, answer 404 out of scope, and forms keep the user's work."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from rmdesk.audit.models import AuditEvent
from rmdesk.core import validators
from rmdesk.core.errors import ConflictError
from rmdesk.customers import services
from rmdesk.customers.models import Customer
from rmdesk.tasks import services as task_services
from rmdesk.tasks.models import Task
from tests.web.conftest import WebBank, credit_code, open_customer

HTMX = {"HTTP_HX_REQUEST": "true"}

CUSTOMER_PAGES = [
    "customers:detail",
    "customers:key_persons",
    "customers:financials",
    "customers:relationships",
    "customers:documents",
    "customers:timeline",
    "customers:tasks",
    "customers:edit",
    "customers:archive",
    "customers:key_person_add",
    "customers:statement_add",
    "customers:relationship_add",
    "customers:document_upload",
]


def zh(message: Any) -> str:
    """A message as the default-language page shows it, HTML-escaped."""
    with translation.override("zh-hans"):
        return escape(str(message))


def test_pages_need_a_login(client: Client, web_bank: WebBank) -> None:
    # when
    response = client.get(reverse("customers:detail", args=[web_bank.customer.pk]))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_lists_the_rms_tasks_and_customers(client: Client, web_bank: WebBank) -> None:
    # given
    today = timezone.localdate()
    task_services.create_task(
        actor=web_bank.rm,
        owner=web_bank.rm,
        customer=web_bank.customer,
        title="回访财务总监",
        due_date=today - timedelta(days=1),
    )
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse("home"))
    # then
    assert response.status_code == 200
    assert "回访财务总监" in response.content.decode()
    assert web_bank.customer.name in response.content.decode()
    assert web_bank.other_customer.name not in response.content.decode()


def test_an_administrator_is_pointed_to_the_admin_site(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.admin)
    # when
    response = client.get(reverse("home"))
    # then
    assert response.status_code == 200
    assert reverse("admin:index") in response.content.decode()
    assert web_bank.customer.name not in response.content.decode()


def test_the_customer_list_shows_only_customers_in_scope(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse("customers:list"))
    # then
    assert response.status_code == 200
    assert web_bank.customer.name in response.content.decode()
    assert web_bank.other_customer.name not in response.content.decode()


def test_the_customer_list_pages_a_units_scope_in_name_order(client: Client, web_bank: WebBank) -> None:
    # given: a team lead's scope of 56 customers, more than a page (the page's ids are read first, then its rows)
    for number in range(55):
        open_customer(web_bank.rm, f"测试客户{number:02d}有限公司")
    in_scope = list(Customer.objects.exclude(pk=web_bank.other_customer.pk).order_by("name", "pk"))
    client.force_login(web_bank.lead)
    # when
    pages = [client.get(reverse("customers:list"), {"page": page}) for page in (1, 2, 3)]
    # then: 50 then 6, each in name order; past the last page, the last page; never a customer out of scope
    for response, expected in zip(pages, (in_scope[:50], in_scope[50:], in_scope[50:]), strict=True):
        assert response.status_code == 200
        assert [customer.pk for customer in response.context["page_obj"]] == [customer.pk for customer in expected]
        assert web_bank.other_customer.name not in response.content.decode()
        assert response.context["page_obj"].paginator.count == 56


def test_the_customer_list_answers_htmx_with_the_rows_only(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse("customers:list"), {"q": "西湖"}, **HTMX)
    # then
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert web_bank.customer.name in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_an_invalid_filter_shows_its_error_over_an_empty_list(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse("customers:list"), {"status": "no-such-status"})
    # then
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert web_bank.customer.name not in response.content.decode()


@pytest.mark.parametrize("url_name", CUSTOMER_PAGES)
def test_customer_pages_render_for_an_rm_in_scope(client: Client, web_bank: WebBank, url_name: str) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse(url_name, args=[web_bank.customer.pk]))
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("url_name", CUSTOMER_PAGES)
def test_customer_pages_are_404_out_of_scope(client: Client, web_bank: WebBank, url_name: str) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse(url_name, args=[web_bank.other_customer.pk]))
    # then
    assert response.status_code == 404


def test_a_section_answers_htmx_with_its_partial(client: Client, web_bank: WebBank) -> None:
    # given
    services.add_financial_statement(
        actor=web_bank.rm,
        customer_id=web_bank.customer.pk,
        data={
            "year": 2024,
            "total_assets": Decimal("1000.00"),
            "total_liabilities": Decimal("600.00"),
            "revenue": Decimal("800.00"),
            "net_profit": Decimal("50.00"),
            "operating_cash_flow": Decimal("70.00"),
        },
    )
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse("customers:financials", args=[web_bank.customer.pk]), **HTMX)
    # then
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "60.00%" in response.content.decode()  # debt ratio 600 / 1000
    assert "financial-chart-data" in response.content.decode()


def test_revenue_growth_is_computed_against_the_previous_year(client: Client, web_bank: WebBank) -> None:
    # given
    for year, revenue in ((2023, "300.00"), (2024, "400.00")):
        services.add_financial_statement(
            actor=web_bank.rm,
            customer_id=web_bank.customer.pk,
            data={
                "year": year,
                "total_assets": Decimal("1000.00"),
                "total_liabilities": Decimal("500.00"),
                "revenue": Decimal(revenue),
                "net_profit": Decimal("1.00"),
                "operating_cash_flow": Decimal("1.00"),
            },
        )
    client.force_login(web_bank.rm)
    # when
    response = client.get(reverse("customers:financials", args=[web_bank.customer.pk]))
    # then: 100 / 300 = 33.333…% → 33.33%
    assert "33.33%" in response.content.decode()


def test_the_tasks_panel_of_a_customer_out_of_scope_is_404(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    mine = client.get(reverse("tasks:list"), {"customer": web_bank.customer.pk}, **HTMX)
    theirs = client.get(reverse("tasks:list"), {"customer": web_bank.other_customer.pk}, **HTMX)
    # then
    assert mine.status_code == 200
    assert theirs.status_code == 404


def test_a_task_is_added_on_a_customer_and_marked_done(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    added = client.post(
        reverse("tasks:create"),
        {
            "customer": web_bank.customer.pk,
            "title": "收集年报",
            "due_date": timezone.localdate().isoformat(),
            "priority": 2,
            "kind": "financials_due",
        },
        **HTMX,
    )
    task = Task.objects.get(title="收集年报")
    done = client.post(reverse("tasks:complete", args=[task.pk]), **HTMX)
    # then
    assert added.status_code == 302
    assert task.owner == web_bank.rm and task.customer == web_bank.customer
    assert done.status_code == 200
    task.refresh_from_db()
    assert task.status == "done"


def test_the_edit_form_reports_a_conflict_and_keeps_what_was_typed(client: Client, web_bank: WebBank) -> None:
    # given: the form was opened at version 1, then someone else saved
    customer = web_bank.customer
    client.force_login(web_bank.rm)
    opened = client.get(reverse("customers:edit", args=[customer.pk]))
    services.update_customer(actor=web_bank.rm, customer_id=customer.pk, version=1, data={"name": "别人改的名字"})
    form = opened.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name != "co_rms"}
    data.update({"version": 1, "name": "我输入的名字", "legal_representative": "王五"})
    # when
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert zh(ConflictError().message) in page
    assert 'value="我输入的名字"' in page
    assert 'value="王五"' in page
    assert "别人改的名字" in page  # the saved value, shown beside the form
    assert 'name="version" value="2"' in page  # saving again applies over what is saved now
    customer.refresh_from_db()
    assert customer.name == "别人改的名字"
    assert customer.legal_representative == ""


def test_a_bad_credit_code_is_a_field_error(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    good = credit_code()
    bad_code = good[:17] + ("0" if good[17] != "0" else "1")
    # when
    response = client.post(
        reverse("customers:create"),
        {"name": "新客户有限公司", "credit_code": bad_code, "tier": "general", "status": "prospect"},
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"]
    assert 'id="id_credit_code"' in response.content.decode()
    assert "is-invalid" in response.content.decode()
    assert not Customer.objects.filter(name="新客户有限公司").exists()


def test_a_valid_customer_is_created_and_the_browser_redirected(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    code = credit_code()
    # when
    response = client.post(
        reverse("customers:create"),
        {"name": "新客户有限公司", "credit_code": code.lower(), "tier": "general", "status": "prospect"},
    )
    # then
    customer = Customer.objects.get(credit_code=code)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.primary_rm == web_bank.rm


def test_key_person_data_is_masked_and_revealed_with_an_audit_event(client: Client, web_bank: WebBank) -> None:
    # given
    person = services.add_key_person(
        actor=web_bank.rm,
        customer_id=web_bank.customer.pk,
        data={"role": "finance_head", "name": "李会计", "phone": "13812345678"},
    )
    client.force_login(web_bank.rm)
    # when
    page = client.get(reverse("customers:key_persons", args=[web_bank.customer.pk])).content.decode()
    revealed = client.post(
        reverse("customers:key_person_reveal", args=[web_bank.customer.pk, person.pk, "phone"]), **HTMX
    )
    # then
    assert "13812345678" not in page
    assert validators.mask_mobile("13812345678") in page
    assert revealed.status_code == 200
    assert "13812345678" in revealed.content.decode()
    assert AuditEvent.objects.filter(action="key_person.reveal", object_id=str(person.pk)).count() == 1


def test_revealing_out_of_scope_is_404_and_leaves_no_event(client: Client, web_bank: WebBank) -> None:
    # given
    person = services.add_key_person(
        actor=web_bank.other_rm,
        customer_id=web_bank.other_customer.pk,
        data={"role": "finance_head", "name": "赵出纳", "phone": "13912345678"},
    )
    client.force_login(web_bank.rm)
    # when
    response = client.post(
        reverse("customers:key_person_reveal", args=[web_bank.other_customer.pk, person.pk, "phone"]), **HTMX
    )
    # then
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="key_person.reveal").exists()


def test_a_document_downloads_in_scope_only(client: Client, web_bank: WebBank, settings: Any, tmp_path: Path) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    document = services.upload_document(
        actor=web_bank.rm,
        customer_id=web_bank.customer.pk,
        kind="business_licence",
        title="营业执照",
        upload=SimpleUploadedFile("licence.pdf", b"%PDF-1.4 demo", content_type="application/pdf"),
    )
    url = reverse("customers:document_download", args=[web_bank.customer.pk, document.pk])
    # when
    client.force_login(web_bank.rm)
    mine = client.get(url)
    client.force_login(web_bank.other_rm)
    theirs = client.get(url)
    # then
    assert mine.status_code == 200
    assert mine["Content-Disposition"].startswith("attachment")
    assert b"".join(mine.streaming_content) == b"%PDF-1.4 demo"  # type: ignore[attr-defined]
    assert theirs.status_code == 404


def test_the_login_page_lists_demo_accounts_only_in_demo_mode(client: Client, settings: Any, db: Any) -> None:
    # when
    settings.DEMO_MODE = False
    normal = client.get(reverse("login")).content.decode()
    settings.DEMO_MODE = True
    demo = client.get(reverse("login")).content.decode()
    # then
    assert "rmdesk-demo" not in normal and "rm_zhang" not in normal
    assert "rmdesk-demo" in demo and "rm_zhang" in demo


def test_repeated_failed_logins_show_the_lockout_page(client: Client, web_bank: WebBank, settings: Any) -> None:
    # given
    responses = []
    # when
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        responses.append(client.post(reverse("login"), {"username": "alice", "password": "wrong password"}))
    # then
    assert responses[0].status_code == 200
    assert responses[-1].status_code == 429
    assert "web/locked_out.html" in [t.name for t in responses[-1].templates]


def test_an_unknown_page_renders_the_404_template(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    response = client.get("/customers/999999/")
    # then
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]


def test_a_document_is_uploaded_through_the_form(
    client: Client, web_bank: WebBank, settings: Any, tmp_path: Path
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    client.force_login(web_bank.rm)
    upload = SimpleUploadedFile("年报.pdf", b"%PDF-1.4 annual report", content_type="application/pdf")
    # when
    response = client.post(
        reverse("customers:document_upload", args=[web_bank.customer.pk]),
        {"kind": "financial_report", "title": "", "file": upload},
    )
    # then
    assert response.status_code == 302
    document = web_bank.customer.documents.get()
    assert (document.title, document.original_name, document.uploaded_by) == ("年报.pdf", "年报.pdf", web_bank.rm)


def test_a_file_of_a_refused_type_is_a_field_error(
    client: Client, web_bank: WebBank, settings: Any, tmp_path: Path
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    client.force_login(web_bank.rm)
    upload = SimpleUploadedFile("macro.exe", b"MZ", content_type="application/octet-stream")
    # when
    response = client.post(
        reverse("customers:document_upload", args=[web_bank.customer.pk]),
        {"kind": "other", "title": "", "file": upload},
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not web_bank.customer.documents.exists()


def test_archiving_a_customer_asks_first_then_redirects(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    url = reverse("customers:archive", args=[web_bank.customer.pk])
    # when
    confirm = client.get(url)
    archived = client.post(url, {"version": web_bank.customer.version})
    # then
    assert confirm.status_code == 200
    assert archived.status_code == 302
    assert archived["Location"] == reverse("customers:list")
    web_bank.customer.refresh_from_db()
    assert web_bank.customer.is_archived


def test_editing_a_key_person_without_typing_the_phone_keeps_it(client: Client, web_bank: WebBank) -> None:
    # given
    person = services.add_key_person(
        actor=web_bank.rm,
        customer_id=web_bank.customer.pk,
        data={"role": "legal_representative", "name": "张总", "phone": "13812345678"},
    )
    client.force_login(web_bank.rm)
    url = reverse("customers:key_person_edit", args=[web_bank.customer.pk, person.pk])
    # when
    form_page = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "version": person.version,
            "role": "legal_representative",
            "name": "张董",
            "title": "董事长",
            "phone": "",
            "id_number": "",
        },
    )
    # then: the edit form never carries the number in clear, and saving leaves it as it was
    assert "13812345678" not in form_page
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.name, person.title, person.phone) == ("张董", "董事长", "13812345678")


def test_a_team_lead_files_a_customer_under_an_rm_of_the_team(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.lead)
    code = credit_code()
    # when
    response = client.post(
        reverse("customers:create"),
        {
            "name": "团队新客户有限公司",
            "credit_code": code,
            "tier": "key",
            "status": "target",
            "primary_rm": web_bank.rm.pk,
            "registered_capital": "12345678.90",
        },
    )
    # then
    customer = Customer.objects.get(credit_code=code)
    assert response.status_code == 302
    assert (customer.primary_rm, customer.owning_unit) == (web_bank.rm, web_bank.rm.unit)
    assert customer.registered_capital == Decimal("12345678.90")


def test_a_lead_cannot_pick_an_rm_of_another_branch(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.lead)
    # when
    response = client.post(
        reverse("customers:create"),
        {
            "name": "越权客户有限公司",
            "credit_code": credit_code(),
            "tier": "general",
            "status": "prospect",
            "primary_rm": web_bank.other_rm.pk,
        },
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["primary_rm"]
    assert not Customer.objects.filter(name="越权客户有限公司").exists()


def test_a_relationship_links_a_counterparty_only_from_the_users_scope(client: Client, web_bank: WebBank) -> None:
    # given
    mine = services.create_customer(actor=web_bank.rm, data={"name": "下游买方有限公司", "credit_code": credit_code()})
    client.force_login(web_bank.rm)
    url = reverse("customers:relationship_add", args=[web_bank.customer.pk])
    # when
    picked_mine = client.post(url, {"kind": "supply_chain", "direction": "outward", "counterparty": mine.pk})
    picked_theirs = client.post(
        url, {"kind": "supply_chain", "direction": "outward", "counterparty": web_bank.other_customer.pk}
    )
    page = client.get(reverse("customers:relationships", args=[web_bank.customer.pk])).content.decode()
    # then
    assert picked_mine.status_code == 302
    assert picked_theirs.status_code == 200
    assert picked_theirs.context["form"].errors["counterparty"]
    assert web_bank.customer.relationships.get().counterparty == mine
    assert reverse("customers:detail", args=[mine.pk]) in page


def test_a_financial_statement_is_added_with_exact_amounts(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    response = client.post(
        reverse("customers:statement_add", args=[web_bank.customer.pk]),
        {
            "year": 2024,
            "total_assets": "123456789.01",
            "total_liabilities": "61728394.51",
            "revenue": "98765432.10",
            "net_profit": "-1234.56",
            "operating_cash_flow": "0.01",
        },
    )
    page = client.get(reverse("customers:financials", args=[web_bank.customer.pk])).content.decode()
    # then
    assert response.status_code == 302
    statement = web_bank.customer.financial_statements.get()
    assert statement.total_assets == Decimal("123456789.01")
    assert "123,456,789.01" in page
    assert "-1,234.56" in page
    assert "50.00%" in page  # 61,728,394.51 / 123,456,789.01 = 0.5000 → 50.00%
