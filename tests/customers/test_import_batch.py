"""An import's new customers are created together (services.create_customers) and must come out exactly as if
each had gone through create_customer() alone: the same refusals and messages, the same rows, audit events and
search rows — with the audit trail the only thing written row by row."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import translation

from rmdesk.audit.models import AuditEvent
from rmdesk.audit.services import diff
from rmdesk.customers import search_index, services
from rmdesk.customers.imports.runner import run_import
from rmdesk.customers.models import Customer, CustomerNameGram, CustomerSearchKey
from rmdesk.customers.queries import search_customers
from rmdesk.org.models import User
from tests.customers.test_import import customer_row, customers_file, errors_of, xlsx
from tests.personas import Bank, credit_code, make_customer


class _Undo(Exception):
    pass


def one_by_one(actor: User, rows: list[dict[str, Any]]) -> list[Any]:
    """What create_customer() makes of each row in turn ("created" or the error's message_dict), then undone."""
    outcomes: list[Any] = []
    try:
        with transaction.atomic():
            for data in rows:
                try:
                    services.create_customer(actor=actor, data=data)
                    outcomes.append("created")
                except ValidationError as error:
                    outcomes.append(error.message_dict)
            raise _Undo
    except _Undo:
        pass
    return outcomes


def outcomes_of(results: list[Customer | ValidationError]) -> list[Any]:
    return [r.message_dict if isinstance(r, ValidationError) else "created" for r in results]


def search_rows(customer_ids: list[int]) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    grams = CustomerNameGram.objects.filter(customer_id__in=customer_ids)
    keys = CustomerSearchKey.objects.filter(customer_id__in=customer_ids)
    return (
        set(grams.values_list("customer_id", "unit_id", "position", "gram", "name_length")),
        set(keys.values_list("customer_id", "unit_id", "key", "position", "name_length")),
    )


# --- the same as one by one ----------------------------------------------------------------------------------------


def test_a_batch_refuses_what_create_customer_refuses_with_the_same_messages(bank: Bank) -> None:
    # given: an RM's rows, good and bad in every way a row can be
    code, failed_code = credit_code(), credit_code()
    bobs = make_customer(bank.bob)
    rows: list[dict[str, Any]] = [
        {
            "name": "华兴科技有限公司",
            "credit_code": code,
            "industry": "39",
            "region": "330100",
            "tier": "key",
            "registered_capital": Decimal("12500000"),
            "established_on": date(2020, 1, 5),
            "status": "customer",
        },
        {"name": "重复代码有限公司", "credit_code": code},
        {"name": "别人的有限公司", "credit_code": bobs.credit_code},
        {"name": "坏行业有限公司", "credit_code": failed_code, "industry": "99", "region": "999999"},
        {"name": "同码后来有限公司", "credit_code": failed_code, "region": "110100"},
        {"name": "转手有限公司", "credit_code": credit_code(), "primary_rm": bank.bob},
        {"name": "长" * 201, "credit_code": credit_code(), "registered_capital": Decimal("-1")},
        {"name": "搜索名有限公司", "credit_code": credit_code(), "search_name": "x"},
        {"name": "坏代码有限公司", "credit_code": "91330100MA2XXXXXX1"},
        {"name": "空字符\x00有限公司", "credit_code": credit_code()},
    ]
    with translation.override("en"):
        expected = one_by_one(bank.alice, rows)
        # when
        results = services.create_customers(actor=bank.alice, rows=rows)
        got = outcomes_of(results)
    # then
    assert got == expected
    assert got[:6] == [
        "created",
        {"credit_code": ["A customer with this unified social credit code already exists."]},
        {"credit_code": ["A customer with this unified social credit code already exists."]},
        {"industry": ["Value '99' is not a valid choice."], "region": ["Value '999999' is not a valid choice."]},
        "created",
        {"primary_rm": ["You can only make yourself the primary RM."]},
    ]
    assert sorted(Customer.objects.filter(primary_rm=bank.alice).values_list("name", flat=True)) == [
        "华兴科技有限公司",
        "同码后来有限公司",
    ]


def test_a_leads_batch_refuses_what_create_customer_refuses(bank: Bank) -> None:
    # given: a lead files under RMs and units of theirs, or in the pool
    rows: list[dict[str, Any]] = [
        {"name": "戴夫的有限公司", "credit_code": credit_code(), "primary_rm": bank.dave, "status": "customer"},
        {"name": "池中客户有限公司", "credit_code": credit_code(), "owning_unit": bank.team1, "status": "customer"},
        {"name": "池中潜客有限公司", "credit_code": credit_code(), "owning_unit": bank.team1, "status": "prospect"},
        {"name": "无机构有限公司", "credit_code": credit_code(), "status": "prospect"},
        {"name": "外行有限公司", "credit_code": credit_code(), "primary_rm": bank.carol},
        {"name": "外机构有限公司", "credit_code": credit_code(), "owning_unit": bank.team3, "status": "prospect"},
    ]
    with translation.override("en"):
        expected = one_by_one(bank.lead, rows)
        # when
        got = outcomes_of(services.create_customers(actor=bank.lead, rows=rows))
    # then
    assert got == expected
    assert got == [
        "created",
        {"primary_rm": ["Only a prospect or target can wait in the pool without an RM."]},
        "created",
        {"owning_unit": ["This field cannot be null."]},
        {
            "owning_unit": ["The owning unit must be inside your unit."],
            "primary_rm": ["The primary RM must work inside your unit."],
        },
        {"owning_unit": ["The owning unit must be inside your unit."]},
    ]


def test_a_batch_writes_the_rows_audit_events_and_search_rows_create_customer_writes(bank: Bank) -> None:
    # given
    rows = [{"name": f"杭州华兴科技{n}有限公司", "credit_code": credit_code(), "region": "330100"} for n in range(3)]
    # when
    results = services.create_customers(actor=bank.alice, rows=rows)
    # then: one create event per customer, in row order, as create_customer() writes it
    customers = [r for r in results if isinstance(r, Customer)]
    events = list(AuditEvent.objects.order_by("seq"))
    assert [(e.action, e.customer_id) for e in events] == [("customer.create", c.pk) for c in customers]
    for event, customer in zip(events, customers, strict=True):
        saved = Customer.objects.get(pk=customer.pk)
        assert event.changes == diff({}, services._snapshot(saved, services.CUSTOMER_FIELDS))
        assert (saved.primary_rm, saved.owning_unit, saved.version, saved.search_name) == (
            bank.alice,
            bank.team1,
            1,
            saved.name,
        )
    # and the search rows are those a reindex writes
    ids = [c.pk for c in customers]
    written = search_rows(ids)
    search_index.index_customers(ids)
    assert written == search_rows(ids)
    assert [c.name for c in search_customers(Customer.objects.restrict(bank.alice, "view"), "hzhxkj")] == [
        "杭州华兴科技0有限公司",
        "杭州华兴科技1有限公司",
        "杭州华兴科技2有限公司",
    ]


def test_a_code_another_transaction_saves_first_sends_the_batch_through_create_customer_one_by_one(
    bank: Bank, monkeypatch: Any
) -> None:
    # given: while the rows are checked, another transaction commits a customer with the second row's code
    # (possible on PostgreSQL, where nothing locks the table), so the batch insert hits the unique index
    rows = [{"name": f"并发{n}有限公司", "credit_code": credit_code()} for n in range(3)]
    real = services._clean_new_customer

    def meanwhile(customer: Customer, **kwargs: Any) -> None:
        if customer.credit_code == rows[1]["credit_code"]:
            Customer.objects.create(
                name="抢先有限公司",
                credit_code=customer.credit_code,
                owning_unit=bank.team2,
                primary_rm=bank.bob,
                status="customer",
            )
        real(customer, **kwargs)

    monkeypatch.setattr(services, "_clean_new_customer", meanwhile)
    # when
    with translation.override("en"):
        got = outcomes_of(services.create_customers(actor=bank.alice, rows=rows))
    # then
    assert got == [
        "created",
        {"credit_code": ["A customer with this unified social credit code already exists."]},
        "created",
    ]
    created = Customer.objects.filter(primary_rm=bank.alice).order_by("pk")
    assert [c.name for c in created] == ["并发0有限公司", "并发2有限公司"]
    assert list(AuditEvent.objects.values_list("action", "customer_id")) == [("customer.create", c.pk) for c in created]
    assert set(CustomerSearchKey.objects.values_list("customer_id", flat=True)) == {c.pk for c in created}


# --- the import ------------------------------------------------------------------------------------------------------


def test_new_rows_are_created_together_around_an_update_and_the_trail_follows_the_file(
    bank: Bank, tmp_path: Path
) -> None:
    # given: new, new, an update of alice's customer, new, unchanged, new
    existing = make_customer(bank.alice, name="已有甲有限公司", tier="general")
    same = make_customer(bank.alice, name="已有乙有限公司")
    codes = [credit_code() for _ in range(4)]
    path = customers_file(
        tmp_path,
        customer_row("新甲有限公司", codes[0]),
        customer_row("新乙有限公司", codes[1]),
        customer_row("已有甲有限公司", existing.credit_code, **{"客户层级": "核心"}),
        customer_row("新丙有限公司", codes[2]),
        customer_row("已有乙有限公司", same.credit_code),
        customer_row("新丁有限公司", codes[3]),
    )
    # when
    result = run_import(actor=bank.alice, path=path)
    # then
    assert result.saved, errors_of(result)
    assert (result.summary()["created"], result.summary()["updated"], result.summary()["unchanged"]) == (4, 1, 1)
    names = dict(Customer.objects.values_list("pk", "name"))
    trail = [(e.action, names.get(e.customer_id)) for e in AuditEvent.objects.order_by("seq")]
    assert trail == [
        ("customer.create", "新甲有限公司"),
        ("customer.create", "新乙有限公司"),
        ("customer.update", "已有甲有限公司"),
        ("customer.create", "新丙有限公司"),
        ("customer.create", "新丁有限公司"),
        ("customer.import", None),
    ]


def test_partial_keeps_the_good_new_rows_of_a_batch_and_reports_the_bad_ones(bank: Bank, tmp_path: Path) -> None:
    # given: a batch where the service refuses one row the file's checks let through
    path = xlsx_customers(
        tmp_path,
        [
            ["好甲有限公司", credit_code(), ""],
            ["转手有限公司", credit_code(), "bob"],
            ["好乙有限公司", credit_code(), ""],
        ],
    )
    # when
    with translation.override("en"):
        result = run_import(actor=bank.alice, path=path, partial=True)
    # then
    assert errors_of(result) == [(3, "Primary RM username", "You can only make yourself the primary RM.")]
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["好乙有限公司", "好甲有限公司"]
    assert AuditEvent.objects.filter(action="customer.create").count() == 2


def xlsx_customers(tmp_path: Path, rows: list[list[Any]]) -> Path:
    return xlsx(
        tmp_path / f"{uuid.uuid4().hex}.xlsx", {"客户": [["名称", "统一社会信用代码", "主办客户经理用户名"], *rows]}
    )


def test_only_the_audit_trail_is_written_row_by_row(
    bank: Bank, tmp_path: Path, django_assert_max_num_queries: Any
) -> None:
    # given: 60 new customers
    path = customers_file(tmp_path, *(customer_row(f"批量{n}有限公司", credit_code()) for n in range(60)))
    # when: three queries an event (lock the chain's head, insert, move the head), a few for the whole file
    with django_assert_max_num_queries(3 * 60 + 25):
        result = run_import(actor=bank.alice, path=path)
    # then
    assert result.summary()["created"] == 60
    assert Customer.objects.count() == 60


# --- what the faster checks rely on ----------------------------------------------------------------------------------


def test_the_credit_code_is_a_customers_only_unique_field_and_the_pool_rule_its_only_constraint() -> None:
    # The create services check the credit code themselves and leave the pool rule to Customer.clean(), so
    # full_clean() need not ask the database about either (services._clean_new_customer). A new unique field or
    # constraint must be checked there too.
    unique = [f.name for f in Customer._meta.fields if f.unique]
    assert unique == ["id", "credit_code"]
    assert [c.name for c in Customer._meta.constraints] == ["customer_unassigned_only_in_pool"]
    assert not Customer._meta.unique_together


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("industry", "39", True),
        ("industry", "99", False),
        ("industry", "3", False),
        ("region", "330100", True),
        ("region", "330000", False),
        ("region", "", True),
    ],
)
def test_industry_and_region_are_checked_against_the_reference_codes_in_any_language(
    field: str, value: str, valid: bool
) -> None:
    # given
    customer = Customer(name="甲", credit_code="91330100MA2XXXXX1X", **{field: value})
    django_field = Customer._meta.get_field(field)
    assert isinstance(django_field, models.CharField)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            # when
            try:
                customer.clean_fields(exclude=["credit_code", "owning_unit", "primary_rm"])
                errors: dict[str, Any] = {}
            except ValidationError as error:
                errors = error.message_dict
            # then: what Django's own check against the field's choices says
            try:
                models.CharField.validate(django_field, value, customer)
                django_says: dict[str, Any] = {}
            except ValidationError as error:
                django_says = {field: error.messages}
            assert errors == django_says
            assert (errors == {}) is valid
