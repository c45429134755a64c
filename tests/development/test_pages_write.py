"""The development pages that act: the pool and its claims, registering a prospect, moving it along the pipeline,
its panel (ratings, status, release, merge), the suggestions, the scorecard settings and the home page's notices.
Each page renders in both languages; each action works through its service, shows its errors beside the field,
and answers 404 out of scope (nothing changed); forms are CSRF-protected."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from rmdesk.core.errors import ConflictError
from rmdesk.customers.models import Customer, Relationship
from rmdesk.development import pool
from rmdesk.development.choices import ClaimStatus, RatingOrigin, Source, Stage
from rmdesk.development.models import Claim, ItemRating, PoolRule, Prospect, Scorecard, ScorecardItem
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Notice, Task
from rmdesk.tasks.services import notify
from tests.development.factories import make_prospect
from tests.personas import Bank, credit_code, make_customer, make_user

TODAY = timezone.localdate


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def said(response: Any) -> list[str]:
    """The messages the response left for the next page."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def held(rm: Any, **fields: Any) -> Prospect:
    return make_prospect(rm, found_on=TODAY(), **fields)


def in_pool(rm: Any, **fields: Any) -> Prospect:
    return make_prospect(rm, found_on=TODAY(), in_pool=True, **fields)


def fresh(prospect: Prospect) -> Prospect:
    return Prospect.objects.select_related("customer").get(pk=prospect.pk)


def head_office_head(bank: Bank) -> Any:
    return make_user("ho_head", "branch_head", bank.head_office)


# --- every page, both languages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_write_pages_render_in_both_languages(client: Client, bank: Bank, language: str) -> None:
    # given
    mine = held(bank.alice, name="西湖电子有限公司")
    in_pool(bank.dave, name="孤山文创有限公司")
    login(client, bank.alice, language)
    pages = [
        reverse("development:pool"),
        reverse("development:register"),
        reverse("development:suggestions"),
        reverse("development:scorecard"),
        reverse("development:prospect", args=[mine.customer_id]),
        reverse("development:panel", args=[mine.customer_id]),
        reverse("development:move", args=[mine.customer_id]) + "?to=won",
        reverse("development:release", args=[mine.customer_id]),
    ]
    for url in pages:
        # when
        response = client.get(url)
        # then
        assert response.status_code == 200, url
        html = response.content.decode()
        if "panel" not in url:
            assert f'<html lang="{language}">' in html
    board = client.get(reverse("development:board")).content.decode()
    assert reverse("development:register") in board and reverse("development:suggestions") in board


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_lead_sees_the_pool_with_assign_and_the_edit_page_is_head_offices(
    client: Client, bank: Bank, language: str
) -> None:
    # given
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    # when
    page = login(client, bank.lead, language).get(reverse("development:pool"))
    # then
    assert page.status_code == 200
    assert reverse("development:assign", args=[waiting.pk]) in page.content.decode()
    assert login(client, head_office_head(bank), language).get(reverse("development:scorecard_edit")).status_code == 200


@pytest.mark.parametrize("name", ["pool", "register", "suggestions", "scorecard", "scorecard_edit"])
def test_pages_need_a_login(client: Client, bank: Bank, name: str) -> None:
    response = client.get(reverse(f"development:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["auditor", "risk", "officer", "admin"])
def test_roles_that_cannot_claim_or_register_get_404(client: Client, bank: Bank, persona: str) -> None:
    login(client, getattr(bank, persona))
    for name in ("pool", "register", "suggestions", "scorecard_edit"):
        assert client.get(reverse(f"development:{name}")).status_code == 404, name


# --- the pool --------------------------------------------------------------------------------------------------------


def test_an_rm_claims_from_the_pool_and_is_told_the_first_contact_deadline(client: Client, bank: Bank) -> None:
    # given
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    # when
    response = login(client, bank.alice).post(
        reverse("development:claim", args=[waiting.pk]), {"version": waiting.version}
    )
    # then
    assert response.status_code == 302
    claimed = fresh(waiting)
    assert claimed.customer.primary_rm == bank.alice
    assert said(response) == [f"孤山文创有限公司 is yours now: make first contact by {claimed.contact_due}."]


def test_a_claim_someone_won_first_names_who_has_it(client: Client, bank: Bank) -> None:
    # given: dave was faster
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    pool.claim(actor=bank.dave, prospect_id=waiting.pk)
    # when
    response = login(client, bank.alice).post(reverse("development:claim", args=[waiting.pk]))
    # then
    assert said(response) == [f"{bank.dave.display_name} has already claimed this prospect."]
    assert fresh(waiting).customer.primary_rm == bank.dave


def test_with_approval_the_rm_applies_withdraws_and_the_lead_decides(client: Client, bank: Bank) -> None:
    # given
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    page = login(client, bank.alice).get(reverse("development:pool")).content.decode()
    assert "Apply to claim" in page
    # when: alice applies, then withdraws, then applies again
    client.post(reverse("development:claim", args=[waiting.pk]))
    first = Claim.objects.get(prospect=waiting, status=ClaimStatus.PENDING)
    assert "Withdraw" in client.get(reverse("development:pool")).content.decode()
    client.post(reverse("development:withdraw_claim", args=[first.pk]))
    client.post(reverse("development:claim", args=[waiting.pk]))
    second = Claim.objects.get(prospect=waiting, status=ClaimStatus.PENDING)
    # then: the lead sees it; a rejection needs a note; approval hands it over
    lead = login(Client(), bank.lead)
    assert "Claims awaiting your decision" in lead.get(reverse("development:pool")).content.decode()
    rejected = lead.post(reverse("development:reject_claim", args=[second.pk]), {"note": ""})
    assert said(rejected) == ["Say why the claim is rejected."]
    approved = lead.post(reverse("development:approve_claim", args=[second.pk]), {"note": "ok"})
    assert said(approved)[-1:] == [f"{bank.alice.display_name}'s claim on 孤山文创有限公司 is approved."]
    assert Claim.objects.get(pk=first.pk).status == ClaimStatus.WITHDRAWN
    assert fresh(waiting).customer.primary_rm == bank.alice


def test_a_lead_assigns_a_pool_prospect_to_an_rm_of_the_team(client: Client, bank: Bank) -> None:
    # given
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    # when
    response = login(client, bank.lead).post(
        reverse("development:assign", args=[waiting.pk]), {"rm": bank.dave.pk, "version": waiting.version}
    )
    # then
    assigned = fresh(waiting)
    assert assigned.customer.primary_rm == bank.dave
    assert said(response) == [f"孤山文创有限公司 is given to {bank.dave.display_name}; first contact is due by "
                              f"{assigned.contact_due}."]  # fmt: skip
    task = Task.objects.get(kind=TaskKind.FIRST_CONTACT, owner=bank.dave, customer=assigned.customer)
    assert task.due_date == assigned.contact_due
    assert Claim.objects.get(prospect=waiting).decided_by == bank.lead
    assert Notice.objects.filter(recipient=bank.dave, customer=assigned.customer).exists()


def test_assign_refuses_an_rm_outside_the_leads_team_and_an_rm_gets_404(client: Client, bank: Bank) -> None:
    # given
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    # when: carol is in another branch
    response = login(client, bank.lead).post(reverse("development:assign", args=[waiting.pk]), {"rm": bank.carol.pk})
    # then
    assert response.status_code == 302 and said(response)
    assert fresh(waiting).customer.primary_rm is None
    assert (
        login(Client(), bank.alice)
        .post(reverse("development:assign", args=[waiting.pk]), {"rm": bank.dave.pk})
        .status_code
        == 404
    )
    with pytest.raises(ValidationError, match="Choose an active RM"):
        pool.assign(actor=bank.lead, prospect_id=waiting.pk, rm_id=bank.carol.pk)


def test_assign_waits_for_a_pending_claim_and_checks_the_version(bank: Bank) -> None:
    # given
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    pool.claim(actor=bank.alice, prospect_id=waiting.pk)
    # when / then: alice's application is decided first
    with translation.override("en"), pytest.raises(ValidationError, match="approve or reject that claim first"):
        pool.assign(actor=bank.lead, prospect_id=waiting.pk, rm_id=bank.dave.pk)
    other = in_pool(bank.dave, name="孤山茶社有限公司")
    with pytest.raises(ConflictError):
        pool.assign(actor=bank.lead, prospect_id=other.pk, rm_id=bank.dave.pk, version=other.version + 1)
    assert fresh(waiting).customer.primary_rm is None and fresh(other).customer.primary_rm is None


def test_a_prospect_in_another_branchs_pool_is_404_to_claim(client: Client, bank: Bank) -> None:
    # given
    elsewhere = in_pool(bank.carol, name="宁波港务有限公司")
    # when
    response = login(client, bank.alice).post(reverse("development:claim", args=[elsewhere.pk]))
    # then
    assert response.status_code == 404
    assert fresh(elsewhere).customer.primary_rm is None


# --- registering -----------------------------------------------------------------------------------------------------


def register_data(**overrides: Any) -> dict[str, Any]:
    data = {"name": "灵峰科技有限公司", "credit_code": credit_code(), "source": Source.SEMINARS, "region": "330100"}
    data.update(overrides)
    return data


def test_an_rm_registers_a_prospect_into_their_book(client: Client, bank: Bank) -> None:
    # when
    response = login(client, bank.alice).post(
        reverse("development:register"), register_data(source_detail="2024 杭州数字经济论坛")
    )
    # then
    prospect = Prospect.objects.select_related("customer").get(customer__name="灵峰科技有限公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("development:prospect", args=[prospect.customer_id])
    assert (prospect.customer.primary_rm, prospect.source, prospect.source_detail) == (
        bank.alice, Source.SEMINARS, "2024 杭州数字经济论坛"
    )  # fmt: skip


def test_an_rm_puts_a_new_prospect_into_the_pool(client: Client, bank: Bank) -> None:
    response = login(client, bank.alice).post(reverse("development:register"), register_data(to_pool="on"))
    assert response["Location"] == reverse("development:pool")
    assert Customer.objects.get(name="灵峰科技有限公司").primary_rm is None


def test_a_credit_code_on_file_or_malformed_is_a_field_error(client: Client, bank: Bank) -> None:
    # given
    existing = make_customer(bank.alice, name="之江材料有限公司")
    login(client, bank.alice)
    # when
    taken = client.post(reverse("development:register"), register_data(credit_code=existing.credit_code))
    malformed = client.post(reverse("development:register"), register_data(credit_code="12345"))
    # then
    assert taken.status_code == 200
    assert taken.context["form"].errors["credit_code"] == [
        "This unified social credit code is already on file, as 之江材料有限公司."
    ]
    assert malformed.context["form"].errors["credit_code"]
    assert not Customer.objects.filter(name="灵峰科技有限公司").exists()


def test_sources_10_to_12_need_the_referring_customer(client: Client, bank: Bank) -> None:
    # given
    referrer = make_customer(bank.alice, name="华兴科技有限公司")
    login(client, bank.alice)
    # when
    missing = client.post(reverse("development:register"), register_data(source=Source.GUARANTORS))
    given = client.post(
        reverse("development:register"), register_data(source=Source.GUARANTORS, referring_customer=referrer.pk)
    )
    # then
    assert missing.context["form"].errors["referring_customer"] == [
        "Name the existing customer whose relationship led to this prospect."
    ]
    assert given.status_code == 302
    assert Prospect.objects.get(customer__name="灵峰科技有限公司").referring_customer == referrer
    # the 360 page opens the form with its customer chosen
    page = client.get(reverse("development:register") + f"?referring={referrer.pk}")
    assert page.context["form"].initial["referring_customer"] == referrer.pk


def test_a_similar_name_in_the_region_asks_for_confirmation(client: Client, bank: Bank) -> None:
    # given
    make_customer(bank.alice, name="西湖电子科技有限公司", region="330100")
    make_customer(bank.carol, name="西湖电子科技集团有限公司", region="330100")  # outside alice's view
    login(client, bank.alice)
    data = register_data(name="西湖电子科技股份有限公司")
    # when
    first = client.post(reverse("development:register"), data)
    # then
    assert first.status_code == 200
    html = first.content.decode()
    assert "西湖电子科技有限公司" in html and "and 1 more you cannot see." in html
    assert 'name="allow_similar" value="1"' in html
    assert not Customer.objects.filter(name="西湖电子科技股份有限公司").exists()
    # when: registered anyway
    second = client.post(reverse("development:register"), {**data, "allow_similar": "1"})
    # then
    assert second.status_code == 302
    assert Prospect.objects.filter(customer__name="西湖电子科技股份有限公司").exists()


def test_a_lead_chooses_the_rm_or_the_pool_unit(client: Client, bank: Bank) -> None:
    login(client, bank.lead)
    no_choice = client.post(reverse("development:register"), register_data())
    assert no_choice.context["form"].errors["primary_rm"]
    to_dave = client.post(
        reverse("development:register"), register_data(name="甲公司有限公司", primary_rm=bank.dave.pk)
    )
    assert to_dave.status_code == 302
    assert Customer.objects.get(name="甲公司有限公司").primary_rm == bank.dave
    pooled = client.post(
        reverse("development:register"), register_data(name="乙公司有限公司", to_pool="on", owning_unit=bank.team1.pk)
    )
    assert pooled.status_code == 302
    assert Customer.objects.get(name="乙公司有限公司").primary_rm is None


# --- the pipeline --------------------------------------------------------------------------------------------------


def move(client: Client, prospect: Prospect, **data: Any) -> Any:
    return client.post(reverse("development:move", args=[prospect.customer_id]), {"version": prospect.version, **data})


def test_the_board_offers_the_next_stages_and_a_move_returns_to_it(client: Client, bank: Bank) -> None:
    # given
    prospect = held(bank.alice, name="西湖电子有限公司")
    board = login(client, bank.alice).get(reverse("development:board")).content.decode()
    assert reverse("development:move", args=[prospect.customer_id]) in board
    assert 'name="won_evidence"' in board and 'name="drop_reason"' in board
    # when
    response = move(client, prospect, to_stage=Stage.CONTACTED, next=reverse("development:board"))
    # then
    assert response["Location"] == reverse("development:board")
    assert fresh(prospect).stage == Stage.CONTACTED
    assert said(response) == ["西湖电子有限公司 moved to Contacted."]


def test_won_without_evidence_and_dropped_without_reason_are_field_errors(client: Client, bank: Bank) -> None:
    # given
    prospect = held(bank.alice, name="西湖电子有限公司")
    login(client, bank.alice)
    # when
    won = move(client, prospect, to_stage=Stage.WON)
    dropped = move(client, prospect, to_stage=Stage.DROPPED)
    # then
    assert won.status_code == 200
    assert won.context["form"].errors["won_evidence"] == [
        "Give the account number opened or the signed product or contract reference."
    ]
    assert dropped.context["form"].errors["drop_reason"] == ["Say why the prospect is dropped."]
    assert 'class="invalid-feedback d-block"' in dropped.content.decode()
    assert fresh(prospect).stage == Stage.IDENTIFIED
    # when: with the evidence
    done = move(client, prospect, to_stage=Stage.WON, won_evidence="6222 0000 1234")
    # then
    assert done.status_code == 302
    assert fresh(prospect).customer.status == "customer"


def test_a_move_over_a_newer_version_is_a_conflict(client: Client, bank: Bank) -> None:
    # given: the page was opened at version 1, then someone moved it
    prospect = held(bank.alice, name="西湖电子有限公司")
    Prospect.objects.filter(pk=prospect.pk).update(version=2)
    # when
    response = login(client, bank.alice).post(
        reverse("development:move", args=[prospect.customer_id]), {"version": 1, "to_stage": Stage.CONTACTED}
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Someone else changed this record after you opened it. Review their changes and save again."
    ]
    assert fresh(prospect).stage == Stage.IDENTIFIED


def test_release_needs_a_reason_and_returns_the_prospect_to_the_pool(client: Client, bank: Bank) -> None:
    prospect = held(bank.alice, name="西湖电子有限公司")
    login(client, bank.alice)
    url = reverse("development:release", args=[prospect.customer_id])
    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 200 and empty.context["form"].errors["reason"]
    done = client.post(url, {"reason": "不在我行服务区域"})
    assert done.status_code == 302
    assert fresh(prospect).customer.primary_rm is None


# --- the panel -----------------------------------------------------------------------------------------------------


def test_the_panel_explains_the_source_the_history_and_the_score(client: Client, bank: Bank) -> None:
    # given: found through a guarantor link of one of alice's customers, in an encouraged industry
    Scorecard.objects.update(encouraged_industries=["39"], version=2)
    referrer = make_customer(bank.alice, name="华兴科技有限公司")
    relationship = Relationship.objects.create(
        customer=referrer, kind="guarantee", direction="inward", counterparty_name="灵峰担保有限公司",
        amount=Decimal(32_000_000),
    )  # fmt: skip
    prospect = held(bank.alice, name="灵峰担保有限公司", source=Source.GUARANTORS, steps=[("contacted", 0)],
                    industry="39", region="330100")  # fmt: skip
    Prospect.objects.filter(pk=prospect.pk).update(
        referring_customer=referrer, referring_relationship=relationship, source_detail="担保 3,200 万"
    )
    # when
    html = login(client, bank.alice).get(reverse("development:panel", args=[prospect.customer_id])).content.decode()
    # then
    assert "华兴科技有限公司" in html and reverse("customers:detail", args=[referrer.pk]) in html
    assert "3,200" in html  # the link that explains it
    assert 'id="stage-history"' in html and "Identified" in html and "Contacted" in html
    assert 'id="score-total"' in html and "threshold" in html
    assert "From the archive" in html and "is on the encouraged list" in html
    assert reverse("development:rate", args=[prospect.customer_id]) in html


def test_the_360_page_loads_the_panel_only_for_a_development_file(client: Client, bank: Bank) -> None:
    prospect = held(bank.alice, name="西湖电子有限公司")
    plain = make_customer(bank.alice, name="之江材料有限公司")
    login(client, bank.alice)
    panel_url = reverse("development:panel", args=[prospect.customer_id])
    assert panel_url in client.get(reverse("customers:detail", args=[prospect.customer_id])).content.decode()
    page = client.get(reverse("customers:detail", args=[plain.pk])).content.decode()
    assert reverse("development:panel", args=[plain.pk]) not in page


def test_an_rm_rates_an_item_and_an_out_of_range_rating_is_named(client: Client, bank: Bank) -> None:
    # given
    prospect = held(bank.alice, name="西湖电子有限公司")
    top = ScorecardItem.objects.get(characteristic=2).max_rating
    login(client, bank.alice)
    url = reverse("development:rate", args=[prospect.customer_id])
    # when
    too_high = client.post(url, {"characteristic": 2, "rating": top + 1, "reason": "行业龙头"})
    # then
    assert too_high.status_code == 200
    assert f"Give a whole number from 0 to {top}." in too_high.content.decode()
    assert not ItemRating.objects.filter(prospect=prospect, characteristic=2).exists()
    # when
    ok = client.post(url, {"characteristic": 2, "rating": top, "reason": "行业龙头"})
    # then
    assert ok.status_code == 302
    rating = ItemRating.objects.get(prospect=prospect, characteristic=2)
    assert (rating.rating, rating.origin, rating.rated_by) == (top, RatingOrigin.RM, bank.alice)
    page = client.get(reverse("development:prospect", args=[prospect.customer_id])).content.decode()
    assert "行业龙头" in page and "Rated by the RM" in page


def test_the_suggested_status_is_applied_from_the_panel(client: Client, bank: Bank) -> None:
    # given: a threshold of zero makes every prospect a target
    Scorecard.objects.update(threshold=Decimal(0), version=2)
    prospect = held(bank.alice, name="西湖电子有限公司")
    login(client, bank.alice)
    assert (
        "Apply the suggested status"
        in client.get(reverse("development:prospect", args=[prospect.customer_id])).content.decode()
    )
    # when
    response = client.post(reverse("development:apply_status", args=[prospect.customer_id]))
    # then
    assert response.status_code == 302
    assert fresh(prospect).customer.status == "target"


def test_a_lead_merges_two_files_of_the_same_firm(client: Client, bank: Bank) -> None:
    # given
    keep = held(bank.alice, name="西湖电子有限公司")
    other = held(bank.dave, name="西湖电子有限公司杭州")
    login(client, bank.lead)
    url = reverse("development:merge", args=[keep.customer_id])
    # when
    unknown = client.post(url, {"other": "不存在的公司", "reason": "同一家"})
    no_reason = client.post(url, {"other": other.customer.credit_code, "reason": ""})
    done = client.post(url, {"other": other.customer.credit_code, "reason": "同一家企业,重复登记"})
    # then
    assert unknown.context["merge_form"].errors["other"] == ["No prospect file of yours has this credit code or name."]
    assert no_reason.context["merge_form"].errors["reason"]
    assert done.status_code == 302
    assert fresh(other).merged_into_id == keep.customer_id


def test_an_rm_cannot_merge_a_file_outside_their_book(client: Client, bank: Bank) -> None:
    keep = held(bank.alice, name="西湖电子有限公司")
    login(client, bank.alice)
    other = held(bank.alice, name="之江材料有限公司")
    Customer.objects.filter(pk=other.customer_id).update(primary_rm=bank.dave)
    # dave's file is outside alice's CHANGE scope: it is not found by her
    response = client.post(
        reverse("development:merge", args=[keep.customer_id]), {"other": other.customer.credit_code, "reason": "重复"}
    )
    assert response.context["merge_form"].errors["other"]
    assert fresh(other).merged_into_id is None


# --- out of scope -----------------------------------------------------------------------------------------------------


def test_another_branchs_prospect_is_404_on_every_page_and_action(client: Client, bank: Bank) -> None:
    # given
    prospect = held(bank.alice, name="西湖电子有限公司")
    login(client, bank.carol)
    cid = prospect.customer_id
    # when / then
    for name in ("prospect", "panel", "move", "release"):
        assert client.get(reverse(f"development:{name}", args=[cid])).status_code == 404, name
    posts = {
        "move": {"version": prospect.version, "to_stage": Stage.CONTACTED},
        "release": {"reason": "x"},
        "rate": {"characteristic": 2, "rating": 1, "reason": "x"},
        "apply_status": {},
        "merge": {"other": "x", "reason": "x"},
    }
    for name, data in posts.items():
        assert client.post(reverse(f"development:{name}", args=[cid]), data).status_code == 404, name
    after = fresh(prospect)
    assert (after.stage, after.customer.primary_rm, after.version) == (Stage.IDENTIFIED, bank.alice, prospect.version)
    assert not ItemRating.objects.filter(prospect=prospect).exists()


def test_a_read_only_role_sees_the_panel_without_actions(client: Client, bank: Bank) -> None:
    prospect = held(bank.alice, name="西湖电子有限公司")
    html = login(client, bank.auditor).get(reverse("development:prospect", args=[prospect.customer_id])).content
    assert reverse("development:move", args=[prospect.customer_id]) not in html.decode()
    assert reverse("development:rate", args=[prospect.customer_id]) not in html.decode()


def test_only_the_claimant_withdraws_and_only_a_lead_decides(client: Client, bank: Bank) -> None:
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    request = pool.claim(actor=bank.alice, prospect_id=waiting.pk)
    login(client, bank.dave)
    assert client.post(reverse("development:withdraw_claim", args=[request.pk])).status_code == 404
    assert client.post(reverse("development:approve_claim", args=[request.pk])).status_code == 404
    assert Claim.objects.get(pk=request.pk).status == ClaimStatus.PENDING


# --- suggestions ----------------------------------------------------------------------------------------------------


def guarantor_of(customer: Customer, name: str, code: str = "") -> Relationship:
    return Relationship.objects.create(
        customer=customer, kind="guarantee", direction="inward", counterparty_name=name,
        counterparty_credit_code=code, amount=Decimal(32_000_000),
    )  # fmt: skip


def test_suggestions_are_listed_with_their_link_and_accepted_into_the_pool(client: Client, bank: Bank) -> None:
    # given
    referrer = make_customer(bank.alice, name="华兴科技有限公司")
    code = credit_code()
    link = guarantor_of(referrer, "灵峰担保有限公司", code)
    login(client, bank.alice)
    page = client.get(reverse("development:suggestions")).content.decode()
    assert "灵峰担保有限公司" in page and "华兴科技有限公司" in page and "Accept and claim" in page
    # when
    response = client.post(
        reverse("development:accept_suggestion"),
        {"relationship_id": link.pk, "name": "灵峰担保有限公司", "credit_code": code},
    )
    # then
    assert response["Location"] == reverse("development:suggestions")
    prospect = Prospect.objects.select_related("customer").get(customer__credit_code=code)
    assert (prospect.source, prospect.customer.primary_rm, prospect.referring_customer) == (
        Source.GUARANTORS, None, referrer
    )  # fmt: skip


def test_a_suggestion_without_a_code_asks_for_one_and_can_be_claimed(client: Client, bank: Bank) -> None:
    # given
    referrer = make_customer(bank.alice, name="华兴科技有限公司")
    link = guarantor_of(referrer, "灵峰担保有限公司")
    login(client, bank.alice)
    data = {"relationship_id": link.pk, "name": "灵峰担保有限公司", "claim": "1"}
    # when
    missing = client.post(reverse("development:accept_suggestion"), data)
    # then
    assert missing.status_code == 200
    assert "No unified social credit code is on file for this firm: enter it to register it." in (
        missing.content.decode()
    )
    row = next(r for r in missing.context["rows"] if r["form"] is not None)
    assert row["form"].errors["credit_code"]
    # when
    code = credit_code()
    claimed = client.post(reverse("development:accept_suggestion"), {**data, "credit_code": code})
    # then
    customer = Customer.objects.get(credit_code=code)
    assert claimed["Location"] == reverse("development:prospect", args=[customer.pk])
    assert customer.primary_rm == bank.alice


def test_a_dismissed_suggestion_is_not_shown_again(client: Client, bank: Bank) -> None:
    referrer = make_customer(bank.alice, name="华兴科技有限公司")
    code = credit_code()
    link = guarantor_of(referrer, "灵峰担保有限公司", code)
    login(client, bank.alice)
    assert f'id="suggestion-{link.pk}"' in client.get(reverse("development:suggestions")).content.decode()
    response = client.post(reverse("development:dismiss_suggestion"), {"name": "灵峰担保有限公司", "credit_code": code})
    assert said(response) == ["灵峰担保有限公司 will not be suggested to you again."]
    assert f'id="suggestion-{link.pk}"' not in client.get(reverse("development:suggestions")).content.decode()


# --- the scorecard ---------------------------------------------------------------------------------------------------


def scorecard_data(**overrides: Any) -> dict[str, Any]:
    card = Scorecard.objects.get()
    data: dict[str, Any] = {"version": card.version, "threshold": "60", "encouraged_industries": ["39"],
                            "promising_regions": ["33", "320100"]}  # fmt: skip
    for item in ScorecardItem.objects.all():
        data[f"weight_{item.characteristic}"] = str(item.weight)
        data[f"max_{item.characteristic}"] = str(item.max_rating)
    data.update(overrides)
    return data


def test_head_office_changes_the_scorecard(client: Client, bank: Bank) -> None:
    # given
    login(client, head_office_head(bank))
    before = Scorecard.objects.get().version
    # when
    response = client.post(reverse("development:scorecard_edit"), scorecard_data(weight_2="12.50"))
    # then
    assert response.status_code == 302
    card = Scorecard.objects.get()
    assert card.version == before + 1
    assert (card.encouraged_industries, card.promising_regions) == (["39"], ["320100", "33"])
    assert ScorecardItem.objects.get(characteristic=2).weight == Decimal("12.50")
    page = client.get(reverse("development:scorecard")).content.decode()
    assert "12.50" in page


def test_bad_scorecard_input_is_named_and_nothing_changes(client: Client, bank: Bank) -> None:
    login(client, head_office_head(bank))
    zeros = {f"weight_{c}": "0" for c in range(1, 15)}
    url = reverse("development:scorecard_edit")
    all_zero = client.post(url, scorecard_data(**zeros))
    assert all_zero.context["form"].non_field_errors() == [
        "The weights add up to zero: give at least one item a weight."
    ]
    bad = client.post(url, scorecard_data(threshold="120", max_3="11", weight_4="-1"))
    errors = bad.context["form"].errors
    assert {"threshold", "max_3", "weight_4"} <= set(errors)
    assert Scorecard.objects.get().version == 1


def test_others_read_the_scorecard_but_cannot_edit_it(client: Client, bank: Bank) -> None:
    for persona in ("alice", "lead", "head"):
        login(client, getattr(bank, persona))
        page = client.get(reverse("development:scorecard"))
        assert page.status_code == 200
        assert reverse("development:scorecard_edit") not in page.content.decode()
        assert client.get(reverse("development:scorecard_edit")).status_code == 404
        assert client.post(reverse("development:scorecard_edit"), scorecard_data()).status_code == 404
    assert Scorecard.objects.get().version == 1


# --- home: notices and first-contact tasks ---------------------------------------------------------------------------


def test_notices_are_marked_read_one_or_all(client: Client, bank: Bank) -> None:
    first = notify(recipient=bank.alice, text="甲")
    notify(recipient=bank.alice, text="乙")
    notify(recipient=bank.dave, text="丙")
    login(client, bank.alice)
    assert "Mark all read" in client.get(reverse("home")).content.decode()
    one = client.post(reverse("tasks:notices_read"), {"notice": first.pk}, HTTP_HX_REQUEST="true")
    assert one.status_code == 200 and one.content == b""
    assert set(Notice.objects.filter(read_at__isnull=True).values_list("text", flat=True)) == {"乙", "丙"}
    client.post(reverse("tasks:notices_read"))
    assert set(Notice.objects.filter(read_at__isnull=True).values_list("text", flat=True)) == {"丙"}


def test_a_first_contact_task_on_the_home_page_links_to_the_prospect(client: Client, bank: Bank) -> None:
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    pool.claim(actor=bank.alice, prospect_id=waiting.pk)
    Task.objects.filter(kind=TaskKind.FIRST_CONTACT).update(due_date=TODAY(), status=TaskStatus.OPEN)
    html = login(client, bank.alice).get(reverse("home")).content.decode()
    assert reverse("development:prospect", args=[waiting.customer_id]) in html


# --- CSRF ---------------------------------------------------------------------------------------------------------


def test_the_forms_are_csrf_protected(bank: Bank) -> None:
    # given
    client = Client(enforce_csrf_checks=True)
    prospect = held(bank.alice, name="西湖电子有限公司")
    waiting = in_pool(bank.dave, name="孤山文创有限公司")
    login(client, bank.alice)
    # then: the pages carry the token, and a post without it is refused and changes nothing
    for url in (reverse("development:pool"), reverse("development:register"), reverse("development:board")):
        assert "csrfmiddlewaretoken" in client.get(url).content.decode(), url
    assert client.post(reverse("development:claim", args=[waiting.pk])).status_code == 403
    assert move(client, prospect, to_stage=Stage.CONTACTED).status_code == 403
    assert client.post(reverse("development:register"), register_data()).status_code == 403
    assert fresh(waiting).customer.primary_rm is None
    assert fresh(prospect).stage == Stage.IDENTIFIED
