"""Exporting the customer list to .xlsx from the page and from `rmdesk export customers`: the user's export scope and
the filters apply, every cell is plain text, no personal data of key persons leaves, and every export is audited."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from rmdesk.audit.models import AuditEvent
from rmdesk.core.xlsx import ROWS_PER_CHUNK
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.org.models import User
from tests.personas import Bank, credit_code, make_customer


def rows_of(content: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))


def codes_in(content: bytes) -> set[str]:
    header, *rows = rows_of(content)
    column = header.index("统一社会信用代码") if "统一社会信用代码" in header else header.index(
        "Unified social credit code")
    return {row[column] for row in rows}


def export_file(tmp_path: Path, user: User, *options: str) -> bytes:
    path = tmp_path / "customers.xlsx"
    call_command("export", "customers", str(path), "--user", user.username, *options)
    return path.read_bytes()


# --- the command ---------------------------------------------------------------------------------------------------

def test_the_command_exports_as_the_user_with_only_their_scope(bank: Bank, tmp_path: Path) -> None:
    # given
    own = make_customer(bank.alice)
    worked_as_co_rm = make_customer(bank.bob, co_rms=(bank.alice,))
    make_customer(bank.bob)
    make_customer(bank.carol)
    # when
    content = export_file(tmp_path, bank.alice)
    # then
    assert codes_in(content) == {own.credit_code, worked_as_co_rm.credit_code}
    event = AuditEvent.objects.get(action="customer.export")
    assert (event.actor_id, event.changes) == (bank.alice.pk, {"rows": 2, "filters": {}})


def test_a_branch_head_exports_the_branch_and_the_filters_apply(bank: Bank, tmp_path: Path) -> None:
    # given
    wanted = make_customer(bank.bob, tier="key")
    make_customer(bank.alice, tier="general")
    make_customer(bank.carol, tier="key")
    # when
    content = export_file(tmp_path, bank.head, "--tier", "key", "--language", "en")
    # then
    assert codes_in(content) == {wanted.credit_code}
    assert rows_of(content)[0][:2] == ("Name", "Unified social credit code")
    assert AuditEvent.objects.get(action="customer.export").changes == {"rows": 1, "filters": {"tier": "key"}}


def test_the_primary_rm_filter_takes_a_username(bank: Bank, tmp_path: Path) -> None:
    # given
    daves = make_customer(bank.dave)
    make_customer(bank.alice)
    # when
    content = export_file(tmp_path, bank.lead, "--primary-rm", "dave")
    # then
    assert codes_in(content) == {daves.credit_code}


@pytest.mark.parametrize(("options", "message"), [
    (("--user", "nobody"), "--user: no active user has the username 'nobody'"),
    (("--user", "admin"), "may not export customers"),
    (("--user", "alice", "--tier", "platinum"), "--tier: "),
])
def test_the_command_refuses_what_it_cannot_do_and_writes_nothing(
    bank: Bank, tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    # given
    make_customer(bank.alice)
    path = tmp_path / "out.xlsx"
    # when
    with pytest.raises(CommandError) as raised:
        call_command("export", "customers", str(path), *options)
    # then
    assert message in str(raised.value)
    assert not path.exists()
    assert not AuditEvent.objects.exists()


# --- the page -------------------------------------------------------------------------------------------------------

def test_the_page_export_streams_the_filtered_list(bank: Bank, client: Client) -> None:
    # given
    wanted = make_customer(bank.alice)
    Customer.objects.filter(pk=wanted.pk).update(status="prospect")
    make_customer(bank.alice)
    client.force_login(bank.alice)
    # when
    response = client.get(reverse("customers:export") + "?status=prospect")
    # then
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert codes_in(b"".join(response.streaming_content)) == {wanted.credit_code}
    event = AuditEvent.objects.get(action="customer.export")
    assert event.changes == {"rows": 1, "filters": {"status": "prospect"}}


def test_a_big_list_leaves_in_chunks_and_arrives_whole(bank: Bank, client: Client) -> None:
    # given
    Customer.objects.bulk_create(
        Customer(name=f"批量客户{n}有限公司", credit_code=credit_code(), owning_unit=bank.team1, primary_rm=bank.alice)
        for n in range(ROWS_PER_CHUNK * 3)
    )
    client.force_login(bank.alice)
    # when
    chunks = list(client.get(reverse("customers:export")).streaming_content)
    # then
    assert len(chunks) > 3
    assert len(rows_of(b"".join(chunks))) == ROWS_PER_CHUNK * 3 + 1


def test_every_cell_is_plain_text_with_amounts_to_the_fen(bank: Bank, client: Client) -> None:
    # given: names that would be markup or a formula anywhere else
    make_customer(bank.alice, name="<script>alert(1)</script>有限公司", registered_capital=Decimal("12500000"))
    make_customer(bank.alice, name='=HYPERLINK("http://evil.example","点我")')
    client.force_login(bank.alice)
    # when
    content = b"".join(client.get(reverse("customers:export")).streaming_content)
    # then
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert {cell.data_type for cell in cells} == {"s"}
    values = {cell.value for cell in cells}
    assert {"<script>alert(1)</script>有限公司", '=HYPERLINK("http://evil.example","点我")', "12500000.00"} <= values


def test_the_export_holds_no_personal_data_of_key_persons(bank: Bank, client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    KeyPerson.objects.create(customer=customer, role="finance_head", name="李会计", phone="13912345678",
                             id_number="110105198001011234")
    client.force_login(bank.alice)
    # when
    content = b"".join(client.get(reverse("customers:export")).streaming_content)
    # then
    values = {str(v) for row in rows_of(content) for v in row if v is not None}
    assert not {"李会计", "13912345678", "110105198001011234"} & values


def test_the_page_export_is_404_for_a_role_without_export_and_writes_no_event(bank: Bank, client: Client) -> None:
    # given
    make_customer(bank.alice)
    client.force_login(bank.admin)
    # when
    response = client.get(reverse("customers:export"))
    # then
    assert response.status_code == 404
    assert not AuditEvent.objects.exists()
