"""Registering prospects (book or pool, sources, duplicates caught at entry) and merging two files of one firm."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import NotFoundError
from rmdesk.customers import services as customer_services
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.development.choices import Characteristic, ClaimStatus, RatingOrigin, Source, Stage
from rmdesk.development.duplicates import core_name, similarity
from rmdesk.development.models import ItemRating, PoolRule, Prospect, StageChange
from rmdesk.development.pipeline import move_stage
from rmdesk.development.pool import claim
from rmdesk.development.prospects import SimilarProspects, merge_prospects, register_prospect
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Notice, Task
from rmdesk.tasks.services import create_task
from tests.personas import Bank, credit_code, make_customer

HANGZHOU, NINGBO = "330100", "330200"
_numbers = itertools.count(1)
# Names spelled from these by a number, so that no two test names look alike to the duplicate check.
_CHARS = "安邦昌达丰富光和恒宏华佳嘉金锦凯隆茂明鹏荣瑞盛泰通伟祥信兴宇源"


def new_prospect(
    actor: User,
    *,
    name: str | None = None,
    region: str = HANGZHOU,
    to_pool: bool = False,
    source: int = Source.MEDIA,
    allow_similar: bool = False,
    **data: Any,
) -> Prospect:
    """A prospect registered through the service, with a fresh credit code and a name unlike any other's."""
    n = next(_numbers)
    customer_data = {
        "name": name or "".join(_CHARS[(n * k) % len(_CHARS)] for k in (1, 7, 11, 13)) + f"{n}号有限公司",
        "credit_code": credit_code(),
        "region": region,
        **data,
    }
    return register_prospect(
        actor=actor, customer_data=customer_data, source=source, to_pool=to_pool, allow_similar=allow_similar
    )


# --- registering ------------------------------------------------------------------------------------------------


def test_an_rm_registers_a_prospect_into_their_own_book(bank: Bank) -> None:
    # when
    prospect = register_prospect(
        actor=bank.alice,
        customer_data={"name": "杭州华兴科技有限公司", "credit_code": credit_code(), "region": HANGZHOU},
        source=Source.SEMINARS,
        source_detail="  2026 年杭州数字经济论坛 ",
    )
    # then
    customer = prospect.customer
    assert (customer.primary_rm, customer.owning_unit, customer.status) == (bank.alice, bank.team1, "prospect")
    assert (prospect.source, prospect.source_detail) == (Source.SEMINARS, "2026 年杭州数字经济论坛")
    assert (prospect.found_by, prospect.found_on, prospect.stage) == (bank.alice, timezone.localdate(), "identified")
    steps = list(StageChange.objects.filter(prospect=prospect).values_list("from_stage", "to_stage", "changed_by"))
    assert steps == [("", "identified", bank.alice.pk)]
    actions = list(AuditEvent.objects.filter(customer_id=customer.pk).order_by("seq").values_list("action", flat=True))
    assert actions == ["customer.create", "prospect.register"]


def test_an_rm_registers_a_prospect_into_their_own_units_pool(bank: Bank) -> None:
    # when
    prospect = new_prospect(bank.alice, to_pool=True)
    # then
    assert prospect.customer.primary_rm is None
    assert prospect.customer.owning_unit == bank.team1
    event = AuditEvent.objects.get(action="prospect.register", customer_id=prospect.customer_id)
    assert event.changes["pool"] is True


def test_an_rm_cannot_register_a_prospect_into_another_rms_book_or_unit(bank: Bank) -> None:
    # when / then
    with pytest.raises(ValidationError) as rm_error:
        new_prospect(bank.alice, primary_rm=bank.dave)
    with pytest.raises(ValidationError) as unit_error:
        new_prospect(bank.alice, to_pool=True, owning_unit=bank.team2)
    assert "primary_rm" in rm_error.value.message_dict
    assert "owning_unit" in unit_error.value.message_dict
    assert not Prospect.objects.exists()


def test_a_lead_registers_into_a_pool_of_their_unit_or_to_one_of_their_rms(bank: Bank) -> None:
    # when
    pooled = new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1)
    assigned = new_prospect(bank.lead, primary_rm=bank.dave)
    branch_pool = new_prospect(bank.head, to_pool=True, owning_unit=bank.branch1)
    # then
    assert (pooled.customer.primary_rm, pooled.customer.owning_unit) == (None, bank.team1)
    assert (assigned.customer.primary_rm, assigned.customer.owning_unit) == (bank.dave, bank.team1)
    assert (branch_pool.customer.primary_rm, branch_pool.customer.owning_unit) == (None, bank.branch1)
    assert pooled.found_by == bank.lead


def test_a_lead_cannot_register_into_a_pool_outside_their_unit(bank: Bank) -> None:
    # when
    with pytest.raises(ValidationError) as error:
        new_prospect(bank.lead, to_pool=True, owning_unit=bank.team2)
    # then
    assert "owning_unit" in error.value.message_dict
    assert not Customer.objects.exists()


def test_a_lead_must_choose_an_rm_or_a_pool(bank: Bank) -> None:
    # when / then
    with pytest.raises(ValidationError) as no_rm:
        new_prospect(bank.lead, owning_unit=bank.team1)
    with pytest.raises(ValidationError) as no_unit:
        new_prospect(bank.lead, to_pool=True)
    with pytest.raises(ValidationError) as rm_in_pool:
        new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1, primary_rm=bank.alice)
    assert "primary_rm" in no_rm.value.message_dict
    assert "owning_unit" in no_unit.value.message_dict
    assert "primary_rm" in rm_in_pool.value.message_dict


def test_a_new_prospect_cannot_start_as_a_real_customer(bank: Bank) -> None:
    with pytest.raises(ValidationError) as error:
        new_prospect(bank.alice, status="customer")
    assert "status" in error.value.message_dict


def test_a_role_without_customers_cannot_register_prospects(bank: Bank) -> None:
    for user in (bank.auditor, bank.risk, bank.admin):
        with pytest.raises(NotFoundError):
            new_prospect(user)
    assert not Customer.objects.exists()


def test_bad_master_data_is_refused_naming_the_field(bank: Bank) -> None:
    with pytest.raises(ValidationError) as no_name:
        register_prospect(actor=bank.alice, customer_data={"name": "", "credit_code": credit_code()}, source=1)
    with pytest.raises(ValidationError) as bad_code:
        register_prospect(actor=bank.alice, customer_data={"name": "某某公司", "credit_code": "123"}, source=1)
    assert "name" in no_name.value.message_dict
    assert "credit_code" in bad_code.value.message_dict
    assert not Prospect.objects.exists()


# --- sources ----------------------------------------------------------------------------------------------------


def test_a_source_outside_the_twelve_is_refused(bank: Bank) -> None:
    for source in (0, 13):
        with pytest.raises(ValidationError) as error:
            new_prospect(bank.alice, source=source)
        assert "source" in error.value.message_dict


def test_sources_10_to_12_name_the_referring_customer_and_its_relationship(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="华兴科技有限公司")
    link = customer_services.add_relationship(
        actor=bank.alice,
        customer_id=customer.pk,
        data={"kind": "guarantee", "counterparty_name": "杭州担保有限公司", "amount": "5000000"},
    )
    # when
    prospect = register_prospect(
        actor=bank.alice,
        customer_data={"name": "杭州担保有限公司", "credit_code": credit_code()},
        source=Source.GUARANTORS,
        referring_customer=customer,
        referring_relationship=link,
    )
    # then
    assert (prospect.referring_customer, prospect.referring_relationship) == (customer, link)


def test_a_referred_source_needs_the_referring_customer(bank: Bank) -> None:
    with pytest.raises(ValidationError) as error:
        new_prospect(bank.alice, source=Source.SUPPLY_CHAIN)
    assert "referring_customer" in error.value.message_dict


def test_a_referring_customer_outside_the_actors_view_is_not_found(bank: Bank) -> None:
    # given
    carols = make_customer(bank.carol)
    # when
    with pytest.raises(NotFoundError):
        register_prospect(
            actor=bank.alice,
            customer_data={"name": "宁波某某有限公司", "credit_code": credit_code()},
            source=Source.AFFILIATES,
            referring_customer=carols,
        )
    # then
    assert not Prospect.objects.exists()


def test_other_sources_take_no_referring_customer(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    with pytest.raises(ValidationError) as error:
        register_prospect(
            actor=bank.alice,
            customer_data={"name": "某某有限公司", "credit_code": credit_code()},
            source=Source.MEDIA,
            referring_customer=customer,
        )
    assert "referring_customer" in error.value.message_dict


def test_the_referring_relationship_must_be_the_referring_customers(bank: Bank) -> None:
    first, second = make_customer(bank.alice), make_customer(bank.alice)
    link = customer_services.add_relationship(
        actor=bank.alice, customer_id=second.pk, data={"kind": "supply_chain", "counterparty_name": "某供应商"}
    )
    with pytest.raises(ValidationError) as error:
        register_prospect(
            actor=bank.alice,
            customer_data={"name": "某供应商有限公司", "credit_code": credit_code()},
            source=Source.SUPPLY_CHAIN,
            referring_customer=first,
            referring_relationship=link,
        )
    assert "referring_relationship" in error.value.message_dict


# --- duplicates -------------------------------------------------------------------------------------------------


def test_names_are_compared_without_their_legal_form() -> None:
    assert core_name("杭州华兴科技有限公司") == core_name("杭州华兴科技股份有限公司") == "杭州华兴科技"
    assert core_name("华兴集团有限公司") == "华兴"
    assert core_name("ＡＢＣ 科技 有限公司") == "abc科技"
    assert similarity("杭州华兴科技有限公司", "杭州华兴科技集团有限公司") == 1.0
    assert similarity("杭州华兴科技有限公司", "杭州华星电子有限公司") < 0.8
    assert similarity("浙江华兴精密机械制造有限公司", "浙江华兴精密机械制造厂") >= 0.8


def test_the_same_credit_code_is_refused_naming_the_customer_the_actor_sees(bank: Bank) -> None:
    # given
    existing = make_customer(bank.alice, name="华兴科技有限公司")
    # when
    with pytest.raises(ValidationError) as error:
        register_prospect(
            actor=bank.alice, customer_data={"name": "另一个名字公司", "credit_code": existing.credit_code}, source=1
        )
    # then
    message = error.value.message_dict["credit_code"][0]
    assert "华兴科技有限公司" in message


def test_the_same_credit_code_outside_the_actors_view_is_refused_without_its_name(bank: Bank) -> None:
    # given
    existing = make_customer(bank.carol, name="宁波港务有限公司")
    # when
    with pytest.raises(ValidationError) as error:
        register_prospect(
            actor=bank.alice,
            customer_data={"name": "另一个名字公司", "credit_code": existing.credit_code.lower()},
            source=1,
        )
    # then
    message = error.value.message_dict["credit_code"][0]
    assert "宁波港务" not in message
    assert Customer.objects.count() == 1


def test_a_very_similar_name_in_the_same_region_is_caught(bank: Bank) -> None:
    # given
    existing = new_prospect(bank.alice, name="杭州华兴科技有限公司").customer
    # when
    with pytest.raises(SimilarProspects) as error:
        new_prospect(bank.alice, name="杭州华兴科技股份有限公司")
    # then
    assert (error.value.code, error.value.status) == ("similar", 409)
    assert error.value.similar == [existing]
    assert error.value.hidden == 0
    assert "杭州华兴科技有限公司" in str(error.value.message)
    assert Customer.objects.count() == 1


def test_a_similar_customer_outside_the_actors_view_is_counted_not_named(bank: Bank) -> None:
    # given
    new_prospect(bank.alice, name="杭州华兴科技有限公司")
    # when
    with pytest.raises(SimilarProspects) as error:
        new_prospect(bank.carol, name="杭州华兴科技集团有限公司")
    # then
    assert (error.value.similar, error.value.hidden) == ([], 1)
    assert "华兴" not in str(error.value.message)


def test_a_similar_name_in_another_region_or_a_different_name_passes(bank: Bank) -> None:
    # given
    new_prospect(bank.alice, name="杭州华兴科技有限公司", region=HANGZHOU)
    # when
    elsewhere = new_prospect(bank.alice, name="杭州华兴科技股份有限公司", region=NINGBO)
    different = new_prospect(bank.alice, name="杭州华星电子有限公司", region=HANGZHOU)
    # then
    assert elsewhere.pk and different.pk


def test_a_similar_name_can_be_registered_on_purpose(bank: Bank) -> None:
    new_prospect(bank.alice, name="杭州华兴科技有限公司")
    prospect = new_prospect(bank.alice, name="杭州华兴科技股份有限公司", allow_similar=True)
    event = AuditEvent.objects.get(action="prospect.register", customer_id=prospect.customer_id)
    assert event.changes["similar_allowed"] is True


def test_an_archived_file_is_not_a_similar_duplicate(bank: Bank) -> None:
    existing = new_prospect(bank.alice, name="杭州华兴科技有限公司").customer
    customer_services.archive_customer(actor=bank.alice, customer_id=existing.pk, version=existing.version)
    assert new_prospect(bank.alice, name="杭州华兴科技股份有限公司").pk


# --- merging ----------------------------------------------------------------------------------------------------


def _rate(prospect: Prospect, characteristic: int, rating: int) -> ItemRating:
    return ItemRating.objects.create(
        prospect=prospect,
        characteristic=characteristic,
        rating=rating,
        reason="走访所见",
        origin=RatingOrigin.RM,
        rated_by=prospect.found_by,
        rated_at=timezone.now(),
    )


def test_merging_moves_the_merged_files_history_and_records_and_archives_it(bank: Bank) -> None:
    # given two files of one firm in alice's book, each with its own history
    keep = new_prospect(bank.alice, name="杭州华兴科技有限公司")
    gone = new_prospect(bank.alice, name="华兴科技(杭州)有限公司", allow_similar=True)
    gone = move_stage(actor=bank.alice, prospect_id=gone.pk, version=gone.version, to_stage=Stage.CONTACTED)
    person = customer_services.add_key_person(
        actor=bank.alice, customer_id=gone.customer_id, data={"role": "finance_head", "name": "王芳"}
    )
    task = create_task(
        actor=bank.alice, owner=bank.alice, title="送资料", due_date=timezone.localdate(), customer=gone.customer
    )
    _rate(keep, Characteristic.CREDIT_STANDING, 3)
    same_item = _rate(gone, Characteristic.CREDIT_STANDING, 1)
    new_item = _rate(gone, Characteristic.OPERATING_WELL, 4)
    # when
    merge_prospects(actor=bank.alice, keep_id=keep.pk, merge_id=gone.pk, reason="同一家企业,名称录入不同")
    # then the merged file is archived and points at the kept one
    gone.refresh_from_db()
    gone.customer.refresh_from_db()
    assert gone.merged_into == keep.customer
    assert gone.customer.archived_at is not None
    # and its records moved; a rating the kept file already has stays readable on the merged one
    assert KeyPerson.objects.get(pk=person.pk).customer == keep.customer
    assert Task.objects.get(pk=task.pk).customer == keep.customer
    assert ItemRating.objects.get(pk=new_item.pk).prospect == keep
    assert ItemRating.objects.get(pk=same_item.pk).prospect == gone
    history = StageChange.objects.filter(prospect=keep).values_list("to_stage", flat=True)
    assert sorted(history) == ["contacted", "identified", "identified"]
    # and both files have their audit event
    assert AuditEvent.objects.filter(action="prospect.merge", customer_id=keep.customer_id).count() == 1
    assert AuditEvent.objects.filter(action="prospect.merged_into", customer_id=gone.customer_id).count() == 1
    # and the merged file's open first-contact work went with it, not duplicated
    assert not Task.objects.filter(customer=gone.customer).exists()


def test_an_rm_cannot_merge_prospects_held_by_different_rms_but_the_lead_can(bank: Bank) -> None:
    # given alice's prospect and dave's, on which alice is a co-RM (so she sees both)
    keep = new_prospect(bank.alice, name="杭州华兴科技有限公司")
    gone = new_prospect(bank.dave, name="杭州华兴科技股份有限公司", allow_similar=True)
    customer_services.set_co_rms(
        actor=bank.lead, customer_id=gone.customer_id, version=gone.customer.version, users=[bank.alice]
    )
    # when
    with pytest.raises(ValidationError) as error:
        merge_prospects(actor=bank.alice, keep_id=keep.pk, merge_id=gone.pk, reason="同一家企业")
    # then
    assert "team lead" in error.value.message_dict["merge_id"][0] or "团队长" in error.value.message_dict["merge_id"][0]
    assert Prospect.objects.get(pk=gone.pk).merged_into is None
    # and the lead merges them; dave hears of it
    merge_prospects(actor=bank.lead, keep_id=keep.pk, merge_id=gone.pk, reason="同一家企业")
    assert Prospect.objects.get(pk=gone.pk).merged_into == keep.customer
    assert Notice.objects.filter(recipient=bank.dave, customer=keep.customer).count() == 1


def test_a_merge_out_of_the_actors_scope_is_not_found_and_changes_nothing(bank: Bank) -> None:
    keep = new_prospect(bank.alice, name="杭州华兴科技有限公司")
    gone = new_prospect(bank.carol, name="杭州华兴科技股份有限公司", allow_similar=True)
    for actor in (bank.alice, bank.lead, bank.auditor):
        with pytest.raises(NotFoundError):
            merge_prospects(actor=actor, keep_id=keep.pk, merge_id=gone.pk, reason="同一家企业")
    assert not Prospect.objects.filter(merged_into__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__startswith="prospect.merge").exists()


def test_a_won_prospect_cannot_be_merged(bank: Bank) -> None:
    keep = new_prospect(bank.alice, name="杭州华兴科技有限公司")
    won = new_prospect(bank.alice, name="杭州华兴科技股份有限公司", allow_similar=True)
    move_stage(actor=bank.alice, prospect_id=won.pk, version=won.version, to_stage=Stage.WON, won_evidence="账户 1001")
    with pytest.raises(ValidationError) as error:
        merge_prospects(actor=bank.alice, keep_id=keep.pk, merge_id=won.pk, reason="同一家企业")
    assert "merge_id" in error.value.message_dict


def test_a_merge_needs_two_files_and_a_reason(bank: Bank) -> None:
    keep = new_prospect(bank.alice)
    gone = new_prospect(bank.alice)
    with pytest.raises(ValidationError) as same:
        merge_prospects(actor=bank.alice, keep_id=keep.pk, merge_id=keep.pk, reason="重复")
    with pytest.raises(ValidationError) as no_reason:
        merge_prospects(actor=bank.alice, keep_id=keep.pk, merge_id=gone.pk, reason="  ")
    assert "merge_id" in same.value.message_dict
    assert "reason" in no_reason.value.message_dict


def test_a_merged_file_cannot_be_merged_again(bank: Bank) -> None:
    keep, gone, third = new_prospect(bank.alice), new_prospect(bank.alice), new_prospect(bank.alice)
    merge_prospects(actor=bank.alice, keep_id=keep.pk, merge_id=gone.pk, reason="重复")
    with pytest.raises(NotFoundError):
        merge_prospects(actor=bank.alice, keep_id=third.pk, merge_id=gone.pk, reason="重复")


def test_a_pending_claim_on_the_merged_file_is_withdrawn_with_its_approval_task(bank: Bank) -> None:
    # given two pool files of one firm; alice has applied for the second
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    keep = new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1, name="杭州华兴科技有限公司")
    gone = new_prospect(
        bank.lead, to_pool=True, owning_unit=bank.team1, name="杭州华兴科技股份有限公司", allow_similar=True
    )
    pending = claim(actor=bank.alice, prospect_id=gone.pk)
    # when
    merge_prospects(actor=bank.lead, keep_id=keep.pk, merge_id=gone.pk, reason="同一家企业")
    # then
    pending.refresh_from_db()
    assert (pending.status, pending.prospect_id) == (ClaimStatus.WITHDRAWN, keep.pk)
    assert Task.objects.get(kind=TaskKind.CLAIM_APPROVAL).status == TaskStatus.CANCELLED
    # and alice may now apply for the kept file
    assert claim(actor=bank.alice, prospect_id=keep.pk).status == ClaimStatus.PENDING


def test_moved_ratings_make_the_kept_files_score_stale(bank: Bank) -> None:
    keep, gone = new_prospect(bank.alice), new_prospect(bank.alice)
    Prospect.objects.filter(pk=keep.pk).update(scorecard_version=1)
    _rate(gone, Characteristic.GOVERNANCE, 2)
    merge_prospects(actor=bank.alice, keep_id=keep.pk, merge_id=gone.pk, reason="重复录入")
    assert Prospect.objects.get(pk=keep.pk).scorecard_version == 0
