"""The customer list's rows, filled in outside the template engine (rmdesk/customers/rows.py)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from rmdesk.customers.models import Customer
from rmdesk.customers.rows import list_rows
from tests.personas import Bank, make_customer


def _rows(*customers: Customer) -> str:
    found = Customer.objects.select_related("primary_rm").filter(pk__in=[c.pk for c in customers]).order_by("pk")
    return str(list_rows(found))


def test_a_row_shows_every_column_in_chinese(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="华兴科技有限公司", tier="key", industry="39", region="330100")
    # when
    html = _rows(customer)
    # then
    assert f'<a href="{reverse("customers:detail", args=[customer.pk])}">华兴科技有限公司</a>' in html
    assert html.count(customer.credit_code) == 2  # in its column, and under the name on a phone
    assert bank.alice.display_name in html
    assert '<td class="d-none d-lg-table-cell">重点</td>' in html  # the tier's label, not its code
    assert '<span class="badge bg-green-lt">' in html
    assert "39 计算机、通信和其他电子设备制造业" in html
    assert "浙江省 杭州市" in html
    assert "已归档" not in html


def test_rows_in_english_with_no_rm_archived_and_no_reference_data(bank: Bank) -> None:
    # given
    pooled = make_customer(bank.alice)
    Customer.objects.filter(pk=pooled.pk).update(status="prospect", primary_rm=None, industry="", region="")
    dormant = make_customer(bank.alice, archived_at=timezone.now())
    Customer.objects.filter(pk=dormant.pk).update(status="dormant")
    # when
    with translation.override("en"):
        html = _rows(pooled, dormant)
    # then
    first, second = html.split("</tr>")[:2]
    assert '<span class="text-secondary">In the pool</span>' in first
    assert '<span class="badge bg-azure-lt">Prospect</span>' in first
    assert first.count("—") == 2 and "Archived" not in first
    assert '<span class="badge bg-secondary-lt ms-1">Archived</span>' in second
    assert '<span class="badge bg-secondary-lt">Dormant</span>' in second
    assert bank.alice.display_name in second


def test_values_from_the_database_are_escaped(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name='<img src=x onerror="alert(1)">有限公司')
    bank.alice.full_name = "<b>张</b>"
    bank.alice.save()
    # when
    html = _rows(customer)
    # then
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;有限公司" in html
    assert "&lt;b&gt;张&lt;/b&gt;" in html
    assert "<img" not in html and "<b>" not in html


def test_the_list_page_prints_the_rows_or_says_none_match(bank: Bank, client: Client) -> None:
    # given
    customer = make_customer(bank.alice, name="华兴科技有限公司")
    client.force_login(bank.alice)
    # when
    listed = client.get(reverse("customers:list")).content.decode()
    none = client.get(reverse("customers:list"), {"q": "没有这家公司"}).content.decode()
    # then
    assert reverse("customers:detail", args=[customer.pk]) in listed
    assert "没有符合条件的客户。" in none and "<tbody>" in none
