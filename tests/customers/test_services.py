"""The customer archive's services: the only writers, each auditing itself."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.core.validators import id_number_check_char
from rmdesk.customers import services
from rmdesk.customers.models import Customer, CustomerCoRM, Document, KeyPerson
from tests.personas import Bank, credit_code, make_customer


def _id_number(first17: str = "11010519800101123") -> str:
    return first17 + id_number_check_char(first17)


# --- versions -----------------------------------------------------------------------------------------------------

def test_the_second_of_two_editors_of_one_version_gets_a_conflict(bank: Bank) -> None:
    # given: alice and her lead both opened version 1
    customer = make_customer(bank.alice)
    alice_read = Customer.objects.get(pk=customer.pk).version
    lead_read = Customer.objects.get(pk=customer.pk).version
    services.update_customer(actor=bank.alice, customer_id=customer.pk, version=alice_read, data={"tier": "key"})
    # when
    with pytest.raises(ConflictError):
        services.update_customer(actor=bank.lead, customer_id=customer.pk, version=lead_read,
                                 data={"tier": "strategic", "credit_rating": "AA"})
    # then
    customer.refresh_from_db()
    assert (customer.tier, customer.credit_rating, customer.version) == ("key", "", 2)
    assert list(AuditEvent.objects.filter(customer_id=customer.pk).values_list("action", "actor_id")) == [
        ("customer.update", bank.alice.pk)
    ]


def test_an_update_out_of_scope_is_not_found_and_changes_nothing(bank: Bank) -> None:
    # given
    customer = make_customer(bank.bob)
    # when
    with pytest.raises(NotFoundError):
        services.update_customer(actor=bank.alice, customer_id=customer.pk, version=1, data={"tier": "key"})
    # then
    customer.refresh_from_db()
    assert (customer.tier, customer.version) == ("general", 1)
    assert not AuditEvent.objects.exists()


def test_an_amount_written_differently_but_equal_is_not_audited_as_a_change(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, registered_capital=Decimal("12500000.00"))
    # when
    services.update_customer(actor=bank.alice, customer_id=customer.pk, version=1,
                             data={"registered_capital": Decimal("12500000"), "tier": "key"})
    # then
    event = AuditEvent.objects.get(action="customer.update", customer_id=customer.pk)
    assert event.changes == {"tier": ["general", "key"]}


# --- co-RMs ---------------------------------------------------------------------------------------------------------

def test_co_rm_changes_are_audited(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, co_rms=(bank.bob,))
    # when
    services.set_co_rms(actor=bank.alice, customer_id=customer.pk, version=1, users=[bank.dave, bank.carol])
    services.set_co_rms(actor=bank.lead, customer_id=customer.pk, version=2, users=[bank.carol])
    # then
    assert set(CustomerCoRM.objects.filter(customer=customer).values_list("user__username", flat=True)) == {"carol"}
    events = AuditEvent.objects.filter(customer_id=customer.pk, action="customer.co_rms").order_by("seq")
    assert [(e.actor_id, e.changes) for e in events] == [
        (bank.alice.pk, {"added": ["carol", "dave"], "removed": ["bob"]}),
        (bank.lead.pk, {"added": [], "removed": ["dave"]}),
    ]
    customer.refresh_from_db()
    assert customer.version == 3


def test_the_primary_rm_never_becomes_a_co_rm(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    services.set_co_rms(actor=bank.alice, customer_id=customer.pk, version=1, users=[bank.alice, bank.dave])
    # then
    assert list(CustomerCoRM.objects.filter(customer=customer).values_list("user__username", flat=True)) == ["dave"]


def test_only_active_rms_can_be_co_rms(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    with pytest.raises(ValidationError) as raised:
        services.set_co_rms(actor=bank.alice, customer_id=customer.pk, version=1, users=[bank.lead])
    # then
    assert list(raised.value.message_dict) == ["co_rms"]
    assert not CustomerCoRM.objects.filter(customer=customer).exists()


# --- personal data in the audit trail -------------------------------------------------------------------------------

def test_a_key_persons_phone_and_id_number_never_enter_the_audit_trail_in_clear(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    id_number = _id_number()
    # when
    person = services.add_key_person(actor=bank.alice, customer_id=customer.pk, data={
        "role": "actual_controller", "name": "王建国", "phone": "+86 139-1234-5678", "id_number": id_number.lower(),
    })
    stored_at_creation = (person.phone, person.id_number)
    services.update_key_person(actor=bank.alice, key_person_id=person.pk, version=1,
                               data={"phone": "13700001111", "title": "董事长"})
    # then
    person.refresh_from_db()
    assert stored_at_creation == ("13912345678", id_number)
    assert (person.phone, person.id_number, person.version) == ("13700001111", id_number, 2)
    created, updated = AuditEvent.objects.filter(object_id=str(person.pk),
                                                 object_type="customers.keyperson").order_by("seq")
    assert created.action == "key_person.create"
    assert created.changes["phone"] == ["***", "***"]
    assert created.changes["id_number"] == ["***", "***"]
    assert updated.changes == {"phone": ["***", "***"], "title": ["", "董事长"]}
    trail = json.dumps(list(AuditEvent.objects.values_list("changes", "object_repr")), ensure_ascii=False)
    for secret in ("13912345678", "13700001111", id_number, id_number[6:14]):
        assert secret not in trail


def test_a_reveal_is_audited_without_the_value(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    person = KeyPerson.objects.create(customer=customer, role="finance_head", name="张三", phone="13912345678")
    # when
    value = services.reveal_key_person(actor=bank.alice, key_person_id=person.pk, field="phone")
    # then
    assert value == "13912345678"
    event = AuditEvent.objects.get(action="key_person.reveal")
    assert (event.actor_id, event.customer_id, event.changes) == (bank.alice.pk, customer.pk, {"field": "phone"})


# --- archiving --------------------------------------------------------------------------------------------------

def test_a_customer_is_archived_not_deleted(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    archived = services.archive_customer(actor=bank.alice, customer_id=customer.pk, version=1)
    # then
    row = Customer.objects.get(pk=customer.pk)
    assert row.archived_at is not None
    assert (row.version, row.name) == (2, customer.name)
    assert archived.is_archived
    assert list(AuditEvent.objects.filter(customer_id=customer.pk).values_list("action", flat=True)) == [
        "customer.archive"
    ]


def test_an_archived_customer_can_no_longer_be_changed(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    services.archive_customer(actor=bank.alice, customer_id=customer.pk, version=1)
    # when
    with pytest.raises(NotFoundError):
        services.update_customer(actor=bank.alice, customer_id=customer.pk, version=2, data={"tier": "key"})
    # then
    customer.refresh_from_db()
    assert (customer.tier, customer.version) == ("general", 2)


# --- relationships ------------------------------------------------------------------------------------------------

def test_a_relationship_to_a_customer_takes_its_name_and_code(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    guarantor = make_customer(bank.alice, name="宏达担保有限公司")
    # when
    relationship = services.add_relationship(actor=bank.alice, customer_id=customer.pk, data={
        "kind": "guarantee", "counterparty": guarantor, "counterparty_name": "别的名字", "amount": Decimal("5000000"),
    })
    # then
    relationship.refresh_from_db()
    assert (relationship.counterparty_id, relationship.counterparty_name, relationship.counterparty_credit_code) == (
        guarantor.pk, "宏达担保有限公司", guarantor.credit_code)
    event = AuditEvent.objects.get(action="relationship.create")
    assert event.changes["counterparty_name"] == [None, "宏达担保有限公司"]


def test_a_relationship_by_credit_code_finds_the_customer(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    supplier = make_customer(bank.alice, name="东方机械有限公司")
    # when
    relationship = services.add_relationship(actor=bank.alice, customer_id=customer.pk, data={
        "kind": "supply_chain", "counterparty_name": "东方机械",
        "counterparty_credit_code": supplier.credit_code.lower(),
    })
    # then
    relationship.refresh_from_db()
    assert (relationship.counterparty_id, relationship.counterparty_credit_code) == (supplier.pk, supplier.credit_code)


def test_a_customer_cannot_be_linked_to_itself(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    with pytest.raises(ValidationError) as raised:
        services.add_relationship(actor=bank.alice, customer_id=customer.pk,
                                  data={"kind": "affiliate", "counterparty": customer, "share_pct": Decimal("51")})
    # then
    assert list(raised.value.message_dict) == ["counterparty"]
    assert not customer.relationships.exists()
    assert not AuditEvent.objects.exists()


# --- documents ----------------------------------------------------------------------------------------------------

def test_a_document_of_a_refused_type_is_not_filed(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    upload = SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    # when
    with pytest.raises(ValidationError) as raised:
        services.upload_document(actor=bank.alice, customer_id=customer.pk, kind="other", title="", upload=upload)
    # then
    assert list(raised.value.message_dict) == ["file"]
    assert not Document.objects.exists()
    assert not AuditEvent.objects.exists()


@override_settings(DOCUMENT_MAX_BYTES=10)
def test_a_document_over_the_size_limit_is_not_filed(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    upload = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 01", content_type="application/pdf")  # 11 bytes
    # when
    with pytest.raises(ValidationError) as raised:
        services.upload_document(actor=bank.alice, customer_id=customer.pk, kind="business_licence",
                                 title="营业执照", upload=upload)
    # then
    assert list(raised.value.message_dict) == ["file"]
    assert not Document.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_pdf_is_stored_under_the_data_directory_by_its_sha256(bank: Bank) -> None:
    # given: content unique to this run, so no earlier run left a file of the same name
    customer = make_customer(bank.alice)
    content = b"%PDF-1.4\n" + uuid.uuid4().hex.encode() + b"\n%%EOF\n"
    digest = hashlib.sha256(content).hexdigest()
    upload = SimpleUploadedFile("../../营业执照.PDF", content, content_type="application/pdf")
    # when
    document = services.upload_document(actor=bank.alice, customer_id=customer.pk, kind="business_licence",
                                        title="", upload=upload)
    # then
    try:
        stored = Path(document.file.path)
        assert document.sha256 == digest
        assert document.file.name == f"customers/{customer.pk}/{digest[:2]}/{digest}"
        assert stored.resolve().is_relative_to(Path(settings.DATA_DIR).resolve())
        assert stored.read_bytes() == content
        assert (document.original_name, document.title, document.size) == ("营业执照.PDF", "营业执照.PDF", len(content))
        event = AuditEvent.objects.get(action="document.upload")
        assert event.changes == {"kind": "business_licence", "title": "营业执照.PDF", "size": len(content),
                                 "sha256": digest}
    finally:
        document.file.delete(save=False)


# --- who may be the primary RM ----------------------------------------------------------------------------------------

def test_an_rm_cannot_create_a_customer_with_another_rm_as_primary(bank: Bank) -> None:
    # when
    with pytest.raises(ValidationError) as raised:
        services.create_customer(actor=bank.alice, data={"name": "华兴科技有限公司", "credit_code": credit_code(),
                                                         "primary_rm": bank.dave})
    # then
    assert list(raised.value.message_dict) == ["primary_rm"]
    assert not Customer.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_lead_files_a_customer_under_an_rm_of_the_team(bank: Bank) -> None:
    # when
    customer = services.create_customer(actor=bank.lead, data={"name": "华兴科技有限公司",
                                                               "credit_code": credit_code(), "primary_rm": bank.dave})
    # then
    assert (customer.primary_rm_id, customer.owning_unit_id) == (bank.dave.pk, bank.team1.pk)


def test_a_lead_cannot_file_a_customer_under_an_rm_of_another_team(bank: Bank) -> None:
    # when
    with pytest.raises(ValidationError) as raised:
        services.create_customer(actor=bank.lead, data={"name": "华兴科技有限公司", "credit_code": credit_code(),
                                                        "primary_rm": bank.bob})
    # then
    assert set(raised.value.message_dict) == {"owning_unit", "primary_rm"}
    assert not Customer.objects.exists()
