"""Who sees a visit (everyone who sees its customer) and who reads its confidential notes (only the visiting RM, the
customer's RMs and the team leads of those people)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from rmdesk.access.policy import Action
from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from rmdesk.visits.confidential import may_read_confidential
from rmdesk.visits.models import Visit
from rmdesk.visits.queries import visit_for, visits_for
from tests.personas import Bank, make_customer, make_user
from tests.visits.factories import aware, make_visit

# --- confidential notes -----------------------------------------------------------------------------------------------


def _readers(visit: Visit, users: dict[str, User]) -> set[str]:
    return {name for name, user in users.items() if may_read_confidential(user, visit)}


def test_the_visit_and_the_customers_rms_and_their_team_lead_read_the_confidential_notes(bank: Bank) -> None:
    # given dave's visit to alice's customer, which carol (another branch) co-serves
    customer = make_customer(bank.alice, co_rms=(bank.carol,))
    visit = make_visit(bank.dave, customer, confidential_notes="董事长私下透露将更换主办行")
    lead2 = make_user("lead2", "team_lead", bank.team2)
    lead3 = make_user("lead3", "team_lead", bank.team3)
    users = {
        "alice": bank.alice,
        "bob": bank.bob,
        "carol": bank.carol,
        "dave": bank.dave,
        "lead": bank.lead,
        "lead2": lead2,
        "lead3": lead3,
        "head": bank.head,
        "risk": bank.risk,
        "auditor": bank.auditor,
        "officer": bank.officer,
        "admin": bank.admin,
    }
    # when / then: the visiting RM, the primary RM, the co-RM; alice's and dave's lead, and carol's
    assert _readers(visit, users) == {"dave", "alice", "carol", "lead", "lead3"}


def test_the_lead_of_another_team_reads_them_not_though_he_sees_the_visit(bank: Bank) -> None:
    # given bob's lead, whose team's RM is not on the visit; bob's own customer for contrast
    lead2 = make_user("lead2", "team_lead", bank.team2)
    alices = make_visit(bank.alice, make_customer(bank.alice))
    bobs = make_visit(bank.bob, make_customer(bank.bob))
    # when / then
    assert (may_read_confidential(lead2, alices), may_read_confidential(lead2, bobs)) == (False, True)
    assert (may_read_confidential(bank.lead, alices), may_read_confidential(bank.lead, bobs)) == (True, False)


def test_the_branch_head_the_risk_officer_and_the_auditor_see_the_visit_but_not_the_confidential_notes(
    bank: Bank,
) -> None:
    # given
    visit = make_visit(bank.alice, make_customer(bank.alice), confidential_notes="机密")
    # when / then
    for user in (bank.head, bank.risk, bank.auditor):
        assert visits_for(user).filter(pk=visit.pk).exists()
        assert may_read_confidential(user, visit) is False


def test_an_rm_handed_the_customer_reads_them_and_the_former_rm_no_longer_does(bank: Bank) -> None:
    # given dave's visit; then the customer passes from alice to bob
    customer = make_customer(bank.alice)
    visit = make_visit(bank.dave, customer)
    Customer.objects.filter(pk=customer.pk).update(primary_rm=bank.bob, owning_unit=bank.team2)
    visit = Visit.objects.select_related("customer").get(pk=visit.pk)
    # when / then: the visiting RM still does, and so does his lead
    readers = {u.username for u in (bank.alice, bank.bob, bank.dave, bank.lead) if may_read_confidential(u, visit)}
    assert readers == {"bob", "dave", "lead"}


def test_nobody_signed_out_or_gone_reads_them(bank: Bank) -> None:
    # given
    visit = make_visit(bank.alice, make_customer(bank.alice))
    User.objects.filter(pk=bank.alice.pk).update(is_active=False)
    gone = User.objects.get(pk=bank.alice.pk)
    # when / then
    assert (may_read_confidential(AnonymousUser(), visit), may_read_confidential(None, visit)) == (False, False)
    assert may_read_confidential(gone, visit) is False


def test_a_lead_without_a_team_reads_only_what_is_his_own(bank: Bank) -> None:
    # given a lead not placed in any unit
    loose = make_user("loose", "team_lead", None)
    visit = make_visit(bank.alice, make_customer(bank.alice))
    # then
    assert may_read_confidential(loose, visit) is False


# --- reading visits ---------------------------------------------------------------------------------------------------


def test_a_visit_is_seen_by_whoever_sees_its_customer(bank: Bank) -> None:
    # given
    alices = make_visit(bank.alice, make_customer(bank.alice))
    co_served = make_visit(bank.bob, make_customer(bank.bob, co_rms=(bank.alice,)))
    carols = make_visit(bank.carol, make_customer(bank.carol))
    # when
    seen = {
        user.username: set(visits_for(user).values_list("pk", flat=True))
        for user in (bank.alice, bank.bob, bank.carol, bank.dave, bank.lead, bank.head, bank.risk, bank.officer)
    }
    # then
    assert seen == {
        "alice": {alices.pk, co_served.pk},
        "bob": {co_served.pk},
        "carol": {carols.pk},
        "dave": set(),
        "lead": {alices.pk, co_served.pk},  # the co-RM in his team brings bob's customer in
        "head": {alices.pk, co_served.pk},
        "risk": {alices.pk, co_served.pk, carols.pk},
        "officer": set(),
    }


def test_read_only_roles_see_visits_but_may_not_change_them(bank: Bank) -> None:
    visit = make_visit(bank.alice, make_customer(bank.alice))
    for user in (bank.risk, bank.auditor):
        assert visit_for(user, visit.pk, Action.VIEW) == visit
        with pytest.raises(NotFoundError):
            visit_for(user, visit.pk, Action.CHANGE)


def test_one_visit_out_of_scope_missing_or_of_an_archived_customer_is_not_found(bank: Bank) -> None:
    # given
    visit = make_visit(bank.alice, make_customer(bank.alice))
    archived = make_visit(bank.alice, make_customer(bank.alice, archived_at=aware(2026, 1, 1)))
    # when / then
    assert visit_for(bank.alice, visit.pk) == visit
    assert visit_for(bank.alice, visit.pk, Action.CHANGE, lock=True) == visit
    for user, pk in ((bank.bob, visit.pk), (bank.alice, 987654), (bank.alice, archived.pk)):
        with pytest.raises(NotFoundError):
            visit_for(user, pk)
