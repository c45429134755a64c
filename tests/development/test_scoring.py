"""The target scorecard on the archive: RM ratings, data-decided items, head office's settings, lazy and bulk
re-scoring, and the status a score suggests."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone, translation

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer, FinancialStatement, Relationship
from rmdesk.development import scoring
from rmdesk.development.choices import RatingOrigin, Source, Stage
from rmdesk.development.models import ItemRating, Prospect, Scorecard, ScorecardItem
from rmdesk.org.models import User
from tests.personas import Bank, make_customer, make_user

# The migration's default scorecard: weights sum to 100, every item 0–5, threshold 60.
CREDIT, FINANCE, INDUSTRY, REGION, PARTNERS = 3, 5, 1, 11, 12


def prospect_of(rm: User, *, status: str = "prospect", **fields: Any) -> Prospect:
    """A prospect in `rm`'s book (its customer in lifecycle `status`), written directly."""
    customer = make_customer(rm, **fields)
    Customer.objects.filter(pk=customer.pk).update(status=status)
    return Prospect.objects.create(
        customer=customer,
        source=Source.PERSONAL_CONTACTS,
        found_by=rm,
        found_on=date(2025, 3, 1),
        stage=Stage.IDENTIFIED,
        stage_changed_at=timezone.now(),
    )


def add_statement(prospect: Prospect, year: int, *, assets: str, liabilities: str, revenue: str) -> None:
    FinancialStatement.objects.create(
        customer=prospect.customer,
        year=year,
        total_assets=Decimal(assets),
        total_liabilities=Decimal(liabilities),
        revenue=Decimal(revenue),
        net_profit=Decimal(0),
        operating_cash_flow=Decimal(0),
    )


def add_partners(prospect: Prospect, *, suppliers: int, buyers: int) -> None:
    for n in range(suppliers):
        Relationship.objects.create(
            customer=prospect.customer, kind="supply_chain", direction="inward", counterparty_name=f"供应商{n}有限公司"
        )
    for n in range(buyers):
        Relationship.objects.create(
            customer=prospect.customer, kind="supply_chain", direction="outward", counterparty_name=f"客户{n}有限公司"
        )


def set_lists(industries: list[str], regions: list[str]) -> None:
    Scorecard.objects.update(encouraged_industries=industries, promising_regions=regions)


def head_office_head(bank: Bank) -> User:
    return make_user("ho_head", "branch_head", bank.head_office)


def rate(actor: User, prospect: Prospect, characteristic: int, rating: Any, reason: Any = "见过董事长") -> ItemRating:
    return scoring.rate_item(
        actor=actor, prospect_id=prospect.pk, characteristic=characteristic, rating=rating, reason=reason
    )


def weights_of() -> dict[int, Decimal]:
    return dict(ScorecardItem.objects.values_list("characteristic", "weight"))


@pytest.fixture
def rich(bank: Bank) -> Prospect:
    """A prospect of alice's whose file decides all five data items."""
    prospect = prospect_of(bank.alice, credit_rating="AA", industry="39", region="330100")
    add_statement(prospect, 2023, assets="10000.00", liabilities="4000.00", revenue="1000.00")
    add_statement(prospect, 2024, assets="10000.00", liabilities="4520.00", revenue="1120.00")
    add_partners(prospect, suppliers=3, buyers=2)
    set_lists(["39"], ["33"])
    return prospect


# --- data-decided items --------------------------------------------------------------------------------------------


def test_the_archive_rates_the_five_data_items_and_says_why(rich: Prospect) -> None:
    # when
    with translation.override("en"):
        result = scoring.score_of(rich)
    # then
    lines = {line.characteristic: line for line in result.lines}
    assert {c: (lines[c].rating, lines[c].origin) for c in (INDUSTRY, CREDIT, FINANCE, REGION, PARTNERS)} == {
        INDUSTRY: (5, "data"),
        CREDIT: (4, "data"),
        FINANCE: (5, "data"),
        REGION: (5, "data"),
        PARTNERS: (4, "data"),  # 3 + 2 of 6 → 4.17
    }
    assert lines[CREDIT].reason == "Internal credit rating AA"
    assert lines[FINANCE].reason == "Debt ratio 45.2% (good), revenue growth 12.0% (good) in 2024"
    assert lines[INDUSTRY].reason.startswith("Industry 39 ") and lines[INDUSTRY].reason.endswith(
        "on the encouraged list"
    )
    assert lines[REGION].reason == "Region Hangzhou, Zhejiang is on the promising list (Zhejiang)"
    assert lines[PARTNERS].reason == "3 suppliers and 2 buyers on record"
    # weights 8 + 10·4/5 + 10 + 5 + 8·4/5 = 37.4 of 100
    assert result.total == Decimal("37.40")
    assert sum(line.points for line in result.lines) == result.total
    assert result.suggested_status == "prospect"
    assert lines[2].rating is None and not lines[2].data_item


def test_the_score_is_stored_with_the_scorecard_version(rich: Prospect) -> None:
    # when
    scoring.score_of(rich)
    # then
    stored = Prospect.objects.get(pk=rich.pk)
    assert (stored.score, stored.scorecard_version) == (Decimal("37.40"), 1)
    assert ItemRating.objects.filter(prospect=rich, origin=RatingOrigin.DATA).count() == 5
    assert not AuditEvent.objects.filter(action__startswith="prospect.").exists()  # derived data


def test_reading_an_up_to_date_score_writes_nothing(rich: Prospect, django_assert_max_num_queries: Any) -> None:
    # given
    scoring.score_of(rich)
    stamps = list(ItemRating.objects.order_by("pk").values_list("rated_at", flat=True))
    # when: read again, with the queries of reading only (scorecard, items, prospect, statements, links, ratings)
    fresh = Prospect.objects.get(pk=rich.pk)
    with django_assert_max_num_queries(6):
        again = scoring.score_of(fresh)
    # then
    assert again.total == Decimal("37.40")
    assert list(ItemRating.objects.order_by("pk").values_list("rated_at", flat=True)) == stamps


def test_a_change_in_the_file_is_picked_up_on_the_next_read(rich: Prospect) -> None:
    # given
    scoring.score_of(rich)
    # when: the credit rating drops to B and the statements are archived
    Customer.objects.filter(pk=rich.customer_id).update(credit_rating="B")
    FinancialStatement.objects.filter(customer_id=rich.customer_id).update(archived_at=timezone.now())
    result = scoring.score_of(rich)
    # then: item 3 follows the file, item 5 is left to the RM
    lines = {line.characteristic: line for line in result.lines}
    assert lines[CREDIT].rating == 2
    assert lines[FINANCE].rating is None and lines[FINANCE].origin == ""
    assert not ItemRating.objects.filter(prospect=rich, characteristic=FINANCE).exists()
    assert Prospect.objects.get(pk=rich.pk).score == result.total == Decimal("23.40")


def test_empty_lists_leave_items_1_and_11_to_the_rm(bank: Bank) -> None:
    # given: head office lists nothing (the default)
    prospect = prospect_of(bank.alice, industry="39", region="330100")
    # when
    with translation.override("en"):
        result = scoring.score_of(prospect)
    # then
    lines = {line.characteristic: line for line in result.lines}
    assert (lines[INDUSTRY].rating, lines[REGION].rating) == (None, None)
    assert lines[INDUSTRY].reason == "Head office lists no encouraged industries: rate it yourself."
    assert lines[CREDIT].reason == "The customer has no internal credit rating: rate it yourself."
    assert result.total == Decimal("0.00")


# --- the RM's ratings --------------------------------------------------------------------------------------------


def test_the_rm_rates_an_item_with_a_reason(bank: Bank, rich: Prospect) -> None:
    # when
    row = rate(bank.alice, rich, 2, 4, "  行业龙头,市占率第二  ")
    # then
    assert (row.rating, row.reason, row.origin, row.rated_by) == (4, "行业龙头,市占率第二", "rm", bank.alice)
    event = AuditEvent.objects.get(action="prospect.rate")
    assert (event.actor_id, event.customer_id) == (bank.alice.pk, rich.customer_id)
    assert event.changes == {"characteristic": 2, "rating": [None, 4], "reason": [None, "行业龙头,市占率第二"]}
    # 37.4 + 8·4/5
    assert Prospect.objects.get(pk=rich.pk).score == Decimal("43.80")
    line = next(line for line in scoring.score_of(rich).lines if line.characteristic == 2)
    assert (line.rating, line.reason, line.rated_by_id) == (4, "行业龙头,市占率第二", bank.alice.pk)


def test_rating_again_replaces_the_rating(bank: Bank, rich: Prospect) -> None:
    # given
    rate(bank.alice, rich, 2, 4)
    # when
    rate(bank.lead, rich, 2, 1, "竞争加剧")
    # then
    assert list(ItemRating.objects.filter(prospect=rich, characteristic=2).values_list("rating", "rated_by")) == [
        (1, bank.lead.pk)
    ]
    event = AuditEvent.objects.filter(action="prospect.rate").latest("seq")
    assert event.changes == {"characteristic": 2, "rating": [4, 1], "reason": ["见过董事长", "竞争加剧"]}


@pytest.mark.parametrize("who", ["bob", "carol", "risk", "auditor", "officer", "admin"])
def test_outside_the_change_scope_a_prospect_is_not_found(bank: Bank, rich: Prospect, who: str) -> None:
    # when / then
    with pytest.raises(NotFoundError):
        rate(getattr(bank, who), rich, 2, 4)
    assert not ItemRating.objects.filter(characteristic=2).exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("rating", [6, -1, "3", True, None, 2.0])
def test_a_rating_outside_the_items_scale_is_refused(bank: Bank, rich: Prospect, rating: Any) -> None:
    # when
    with translation.override("en"), pytest.raises(ValidationError) as error:
        rate(bank.alice, rich, 2, rating)
    # then
    assert error.value.message_dict == {"rating": ["Give a whole number from 0 to 5."]}
    assert not ItemRating.objects.filter(characteristic=2).exists()


@pytest.mark.parametrize("reason", ["", "   ", None, "长" * 201, "a\x00b"])
def test_a_rating_needs_a_short_reason(bank: Bank, rich: Prospect, reason: Any) -> None:
    with pytest.raises(ValidationError) as error:
        rate(bank.alice, rich, 2, 3, reason)
    assert list(error.value.message_dict) == ["reason"]
    assert not ItemRating.objects.filter(characteristic=2).exists()


@pytest.mark.parametrize("characteristic", [0, 15, True])
def test_an_unknown_characteristic_is_refused(bank: Bank, rich: Prospect, characteristic: Any) -> None:
    with pytest.raises(ValidationError) as error:
        rate(bank.alice, rich, characteristic, 3)
    assert list(error.value.message_dict) == ["characteristic"]


def test_an_item_the_file_decides_cannot_be_rated_by_hand(bank: Bank, rich: Prospect) -> None:
    # when
    with translation.override("en"), pytest.raises(ValidationError) as error:
        rate(bank.alice, rich, CREDIT, 5)
    # then
    assert error.value.message_dict["characteristic"][0].startswith(
        "The customer's file decides this item (Internal credit rating AA): correct the file"
    )
    assert not AuditEvent.objects.exists()


def test_a_data_item_is_the_rms_while_the_file_is_silent_and_the_files_once_it_speaks(bank: Bank) -> None:
    # given: no credit rating on file
    prospect = prospect_of(bank.alice)
    # when: the RM rates item 3
    rate(bank.alice, prospect, CREDIT, 2, "他行评级一般")
    # then
    assert scoring.score_of(prospect).total == Decimal("4.00")
    # when: the bank rates the customer AAA
    Customer.objects.filter(pk=prospect.customer_id).update(credit_rating="AAA")
    result = scoring.score_of(prospect)
    # then: the data decides from now on
    line = next(line for line in result.lines if line.characteristic == CREDIT)
    assert (line.rating, line.origin, line.rated_by_id) == (5, "data", None)
    assert result.total == Decimal("10.00")


# --- head office's settings ---------------------------------------------------------------------------------------


def edit(actor: User, **changes: Any) -> Scorecard:
    arguments: dict[str, Any] = {
        "weights": {},
        "max_ratings": None,
        "threshold": Decimal(60),
        "encouraged_industries": [],
        "promising_regions": [],
    }
    arguments.update(changes)
    return scoring.update_scorecard(actor=actor, **arguments)


def test_head_office_changes_the_scorecard_and_its_version_rises(bank: Bank) -> None:
    # given
    editor = head_office_head(bank)
    # when
    card = edit(
        editor,
        weights={2: Decimal("12.5"), 13: 0},
        threshold="70",
        encouraged_industries=["39", " 65 ", "39"],
        promising_regions=["33", "3201", "440300"],
    )
    # then
    assert (card.version, card.threshold, card.updated_by) == (2, Decimal("70.00"), editor)
    assert (card.encouraged_industries, card.promising_regions) == (["39", "65"], ["3201", "33", "440300"])
    assert (weights_of()[2], weights_of()[13]) == (Decimal("12.50"), Decimal("0.00"))
    event = AuditEvent.objects.get(action="scorecard.update")
    assert event.actor_id == editor.pk and event.customer_id is None
    assert event.changes == {
        "version": [1, 2],
        "threshold": ["60.00", "70.00"],
        "weights": {"2": ["8.00", "12.50"], "13": ["4.00", "0.00"]},
        "encouraged_industries": [[], ["39", "65"]],
        "promising_regions": [[], ["3201", "33", "440300"]],
    }


def test_saving_the_scorecard_unchanged_changes_nothing(bank: Bank) -> None:
    card = edit(head_office_head(bank), weights={2: Decimal(8)})
    assert card.version == 1
    assert not AuditEvent.objects.exists()


def test_the_lead_of_a_head_office_department_changes_the_scorecard(bank: Bank) -> None:
    # given: the lead of 总行公司业务部, who sees no customers
    editor = make_user("ho_corp_lead", "team_lead", bank.department)
    # when
    edit(editor, threshold=Decimal(55))
    # then
    assert Scorecard.objects.get().threshold == Decimal(55)


@pytest.mark.parametrize("who", ["head", "lead", "alice", "risk", "auditor", "officer", "admin"])
def test_only_head_office_changes_the_scorecard(bank: Bank, who: str) -> None:
    # when
    with translation.override("en"), pytest.raises(scoring.HeadOfficeOnly) as error:
        edit(getattr(bank, who), threshold=Decimal(50))
    # then
    with translation.override("en"):
        assert str(error.value.message) == "Only head office can change the target scorecard."
    assert Scorecard.objects.get().version == 1
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weights": dict.fromkeys(range(1, 15), 0)}, "weights"),
        ({"weights": {2: Decimal(-1)}}, "weights"),
        ({"weights": {2: "1.234"}}, "weights"),
        ({"weights": {2: "abc"}}, "weights"),
        ({"weights": {15: 3}}, "weights"),
        ({"max_ratings": {2: 0}}, "max_ratings"),
        ({"max_ratings": {2: 11}}, "max_ratings"),
        ({"threshold": Decimal("100.01")}, "threshold"),
        ({"threshold": -1}, "threshold"),
        ({"encouraged_industries": ["39", "00"]}, "encouraged_industries"),
        ({"encouraged_industries": "39"}, "encouraged_industries"),
        ({"promising_regions": ["99"]}, "promising_regions"),
        ({"promising_regions": ["330199"]}, "promising_regions"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(bank: Bank, changes: dict[str, Any], field: str) -> None:
    # given
    before = weights_of()
    # when
    with pytest.raises(ValidationError) as error:
        edit(head_office_head(bank), **changes)
    # then
    assert list(error.value.message_dict) == [field]
    assert Scorecard.objects.get().version == 1
    assert weights_of() == before


def test_weights_summing_to_zero_say_so(bank: Bank) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as error:
        edit(head_office_head(bank), weights=dict.fromkeys(range(1, 15), Decimal(0)))
    assert error.value.message_dict == {"weights": ["The weights add up to zero: give at least one item a weight."]}


def test_an_unknown_industry_code_is_named(bank: Bank) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as error:
        edit(head_office_head(bank), encouraged_industries=["39", "00"])
    assert error.value.message_dict == {
        "encouraged_industries": ["Unknown industry division: 00 (use the 2-digit GB/T 4754 codes)."]
    }


def test_a_scores_goes_stale_on_a_weight_change_and_is_recomputed_when_read(bank: Bank, rich: Prospect) -> None:
    # given: scored at version 1
    scoring.score_of(rich)
    # when: head office doubles item 3's weight
    edit(head_office_head(bank), weights={CREDIT: Decimal(20)}, encouraged_industries=["39"], promising_regions=["33"])
    # then: the stored score is stale until read
    assert Prospect.objects.get(pk=rich.pk).scorecard_version == 1
    result = scoring.score_of(Prospect.objects.get(pk=rich.pk))
    # (8 + 20·4/5 + 10 + 5 + 8·4/5) / 110
    assert result.total == Decimal("41.27") and result.scorecard_version == 2
    assert Prospect.objects.values_list("score", "scorecard_version").get(pk=rich.pk) == (Decimal("41.27"), 2)


def test_a_new_scale_keeps_what_ratings_meant(bank: Bank, rich: Prospect) -> None:
    # given: the RM rated item 2 four of five
    rate(bank.alice, rich, 2, 4)
    # when: head office rates item 2 and item 3 out of 10
    edit(head_office_head(bank), max_ratings={2: 10, 3: 10}, encouraged_industries=["39"], promising_regions=["33"])
    result = scoring.score_of(rich)
    # then
    lines = {line.characteristic: line for line in result.lines}
    assert (lines[2].rating, lines[2].max_rating, lines[2].origin) == (8, 10, "rm")
    assert (lines[CREDIT].rating, lines[CREDIT].max_rating) == (9, 10)  # AA on a 0–10 scale: 10 × 7/8
    assert result.total == Decimal("44.80")  # 37.4 + 1 (item 3) + 8 × 8/10


# --- the status a score suggests -------------------------------------------------------------------------------------


def test_a_score_at_the_threshold_makes_a_prospect_a_target(bank: Bank, rich: Prospect) -> None:
    # given: 37.40 and a threshold lowered to 37.4
    Scorecard.objects.update(threshold=Decimal("37.40"))
    # when
    customer = scoring.apply_suggested_status(actor=bank.alice, prospect_id=rich.pk)
    # then
    assert customer.status == Customer.objects.get(pk=rich.customer_id).status == "target"
    event = AuditEvent.objects.get(action="prospect.status_from_score")
    assert event.changes == {
        "status": ["prospect", "target"],
        "score": "37.40",
        "threshold": "37.40",
        "scorecard_version": 1,
    }
    assert AuditEvent.objects.filter(action="customer.update", customer_id=rich.customer_id).exists()


def test_a_target_below_the_threshold_goes_back_to_prospect(bank: Bank) -> None:
    prospect = prospect_of(bank.alice, status="target")
    customer = scoring.apply_suggested_status(actor=bank.lead, prospect_id=prospect.pk)
    assert customer.status == "prospect"


def test_a_status_already_as_suggested_is_left_alone(bank: Bank, rich: Prospect) -> None:
    customer = scoring.apply_suggested_status(actor=bank.alice, prospect_id=rich.pk)
    assert customer.status == "prospect"
    assert not AuditEvent.objects.exists()


def test_a_real_customer_is_never_moved_by_its_score(bank: Bank, rich: Prospect) -> None:
    # given: won
    Customer.objects.filter(pk=rich.customer_id).update(status="customer")
    # when
    with pytest.raises(ValidationError) as error:
        scoring.apply_suggested_status(actor=bank.alice, prospect_id=rich.pk)
    # then
    assert list(error.value.message_dict) == ["status"]
    assert Customer.objects.get(pk=rich.customer_id).status == "customer"


def test_another_rms_prospect_cannot_be_moved(bank: Bank, rich: Prospect) -> None:
    Scorecard.objects.update(threshold=Decimal(0))
    with pytest.raises(NotFoundError):
        scoring.apply_suggested_status(actor=bank.carol, prospect_id=rich.pk)
    assert Customer.objects.get(pk=rich.customer_id).status == "prospect"


# --- bulk re-scoring -------------------------------------------------------------------------------------------------


def test_rescore_all_scores_every_stale_open_prospect_and_is_idempotent(bank: Bank, rich: Prospect) -> None:
    # given: three more prospects, one dropped; nothing scored yet
    plain = prospect_of(bank.bob, credit_rating="BBB")
    pooled = prospect_of(bank.carol, status="target")
    Customer.objects.filter(pk=pooled.customer_id).update(primary_rm=None)
    dropped = prospect_of(bank.alice)
    Prospect.objects.filter(pk=dropped.pk).update(stage=Stage.DROPPED, drop_reason="无需求")
    Scorecard.objects.update(version=F("version") + 1)
    progress: list[tuple[str, int, int]] = []
    # when
    count = scoring.rescore_all(batch=2, progress=lambda *step: progress.append(step))
    # then
    assert count == 3
    assert progress == [("rescoring", 0, 3), ("rescoring", 2, 3), ("rescoring", 3, 3)]
    scores = dict(Prospect.objects.values_list("pk", "score"))
    assert scores == {
        rich.pk: Decimal("37.40"),
        plain.pk: Decimal("6.00"),
        pooled.pk: Decimal("0.00"),
        dropped.pk: None,
    }
    assert set(Prospect.objects.exclude(pk=dropped.pk).values_list("scorecard_version", flat=True)) == {2}
    # when: again, and again for every prospect
    ratings = list(ItemRating.objects.order_by("pk").values())
    assert scoring.rescore_all() == 0
    assert scoring.rescore_all(everything=True) == 3
    # then: nothing changed
    assert list(ItemRating.objects.order_by("pk").values()) == ratings
    assert dict(Prospect.objects.values_list("pk", "score")) == scores
    assert not AuditEvent.objects.exists()


def test_rescore_all_agrees_with_score_of(bank: Bank, rich: Prospect) -> None:
    # given: an RM rating, then a weight change
    rate(bank.alice, rich, 2, 4)
    edit(head_office_head(bank), weights={2: Decimal(30)}, encouraged_industries=["39"], promising_regions=["33"])
    # when
    scoring.rescore_all()
    # then
    stored = Prospect.objects.get(pk=rich.pk).score
    assert stored == scoring.score_of(rich).total == Decimal("50.33")  # (37.4 + 30 × 4/5) / 122 × 100


def test_the_command_rescores_with_a_progress_bar(bank: Bank, rich: Prospect) -> None:
    # given
    out, err = io.StringIO(), io.StringIO()
    # when
    call_command("rescore-prospects", "--batch", "10", stdout=out, stderr=err)
    # then
    assert out.getvalue().startswith("rescore-prospects: 1 prospects scored in ")
    assert "rescoring" in err.getvalue() and "1/1" in err.getvalue()
    assert Prospect.objects.get(pk=rich.pk).score == Decimal("37.40")
    # when: nothing is stale, unless --all
    call_command("rescore-prospects", stdout=out, stderr=err)
    call_command("rescore-prospects", "--all", stdout=out, stderr=err)
    assert out.getvalue().splitlines()[1].startswith("rescore-prospects: 0 prospects")
    assert out.getvalue().splitlines()[2].startswith("rescore-prospects: 1 prospects")


def test_the_command_refuses_a_bad_batch(db: Any) -> None:
    with pytest.raises(CommandError, match="--batch must be from 1 to 20,000"):
        call_command("rescore-prospects", "--batch", "0")
