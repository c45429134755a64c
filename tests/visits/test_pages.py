"""The visit pages: the list, planning and changing a plan, the visit page and its actions (check-in, postpone,
cancel, follow-ups), the record form, the 360 page's panel and the home page's card. Each page needs a login, answers
404 out of scope with nothing changed, renders in both languages, and shows the services' refusals beside the field
with nothing saved."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits import services
from rmdesk.visits.choices import CheckinStatus, VisitStatus
from rmdesk.visits.forms import colleague_choices
from rmdesk.visits.models import FollowUp, OtherBankCredit, ProductPresented, Proposal, Visit
from tests.development.factories import make_prospect
from tests.personas import Bank, make_customer
from tests.visits.factories import make_key_person, make_visit

HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def said(response: Any) -> list[str]:
    """The messages the response left for the next page."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def local(days: int, hour: int, minute: int = 0) -> datetime:
    """A moment `days` from today at hour:minute in the bank's time zone."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def plan_post(customer: Customer, *, days: int = 3, start: str = "10:00", end: str = "11:00", **fields: Any) -> dict:
    day = timezone.localdate() + timedelta(days=days)
    data: dict[str, Any] = {
        "customer": customer.pk,
        "purpose": "needs",
        "mode": "on_site",
        "day": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "place": "客户总部三楼会议室",
    }
    data.update(fields)
    return data


def planned(rm: User, customer: Customer, days: int = 3, hour: int = 10, **fields: Any) -> Visit:
    return make_visit(rm, customer, planned_start=local(days, hour), planned_end=local(days, hour + 1), **fields)


def events() -> int:
    return AuditEvent.objects.count()


@pytest.fixture
def huaxing(bank: Bank) -> Customer:
    return make_customer(bank.alice, name="华兴科技有限公司")


@pytest.fixture
def finance_head(huaxing: Customer) -> KeyPerson:
    return make_key_person(
        huaxing, name="王芳", decision_role="decider", title="财务总监", preferences="重数据，不喜寒暄；周五下午不约"
    )


# --- login, scope, languages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, args",
    [
        ("visits:list", []),
        ("visits:plan", []),
        ("visits:home_card", []),
        ("visits:feed", []),
        ("visits:detail", [1]),
        ("visits:edit", [1]),
        ("visits:record", [1]),
        ("visits:report", [1]),
        ("visits:ics", [1]),
        ("visits:panel", [1]),
    ],
)
def test_pages_need_a_login(client: Client, bank: Bank, name: str, args: list[int]) -> None:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["checkin", "postpone", "cancel", "follow_up"])
def test_actions_need_a_login_and_change_nothing(client: Client, bank: Bank, huaxing: Customer, name: str) -> None:
    # given
    visit = planned(bank.alice, huaxing)
    before = events()
    # when
    response = client.post(reverse(f"visits:{name}", args=[visit.pk]), {"reason": "x", "status": "unavailable"})
    # then
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Visit.objects.get(pk=visit.pk).version == visit.version
    assert events() == before


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_renders_in_both_languages(
    client: Client, bank: Bank, huaxing: Customer, finance_head: KeyPerson, language: str
) -> None:
    # given
    upcoming = planned(bank.alice, huaxing)
    upcoming.customer_attendees.add(finance_head)
    done = make_visit(bank.alice, huaxing, status="done", confidential_notes="董事长有意换行", need_tags=["deposits"])
    login(client, bank.alice, language)
    pages = [
        (reverse("visits:list"), {}),
        (reverse("visits:list"), {"show": "done"}),
        (reverse("visits:plan"), {}),
        (reverse("visits:plan"), {"q": "华兴"}),
        (reverse("visits:plan"), {"customer": huaxing.pk}),
        (reverse("visits:detail", args=[upcoming.pk]), {}),
        (reverse("visits:detail", args=[done.pk]), {}),
        (reverse("visits:edit", args=[upcoming.pk]), {}),
        (reverse("visits:record", args=[upcoming.pk]), {}),
        (reverse("visits:record", args=[done.pk]), {}),
        (reverse("visits:report", args=[done.pk]), {}),
        (reverse("customers:detail", args=[huaxing.pk]), {}),
        (reverse("home"), {}),
    ]
    for url, query in pages:
        # when
        response = client.get(url, query)
        # then
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.content.decode(), url
    for url in (reverse("visits:panel", args=[huaxing.pk]), reverse("visits:home_card")):
        assert client.get(url, **HTMX).status_code == 200, url


def test_the_navigation_and_the_360_page_lead_to_the_visits(client: Client, bank: Bank, huaxing: Customer) -> None:
    # when
    page = login(client, bank.alice).get(reverse("customers:detail", args=[huaxing.pk])).content.decode()
    lead_page = login(client, bank.lead).get(reverse("home")).content.decode()
    # then
    assert f'href="{reverse("visits:list")}"' in page
    assert f'hx-get="{reverse("visits:panel", args=[huaxing.pk])}"' in page
    assert f'href="{reverse("visits:coverage")}"' in lead_page and f'href="{reverse("visits:cadence")}"' in lead_page
    assert f'hx-get="{reverse("visits:home_card")}"' in lead_page


@pytest.mark.parametrize("persona", ["carol", "bob"])
def test_a_visit_out_of_scope_is_404_on_every_page_and_nothing_changes(
    client: Client, bank: Bank, huaxing: Customer, persona: str
) -> None:
    # given: alice's customer; carol is in another branch, bob in another team of the same branch
    visit = planned(bank.alice, huaxing)
    done = make_visit(bank.alice, huaxing, status="done")
    login(client, getattr(bank, persona))
    before = events()
    # when / then
    for name in ("detail", "edit", "record", "report", "ics"):
        for target in (visit, done):
            assert client.get(reverse(f"visits:{name}", args=[target.pk])).status_code == 404, name
    assert client.get(reverse("visits:panel", args=[huaxing.pk]), **HTMX).status_code == 404
    assert client.get(reverse("visits:plan") + f"?customer={huaxing.pk}").status_code == 404
    posts = {
        "edit": plan_post(huaxing, version=visit.version),
        "record": {"version": visit.version, "day": "2026-03-02", "start_time": "10:00", "end_time": "11:00"},
        "checkin": {"status": "unavailable"},
        "postpone": {"reason": "客户临时出差"},
        "cancel": {"reason": "客户取消"},
        "follow_up": {"kind": "task", "description": "报送授信方案", "owner": bank.alice.pk, "due_date": "2030-01-01"},
    }
    for name, data in posts.items():
        target = done if name == "follow_up" else visit
        assert client.post(reverse(f"visits:{name}", args=[target.pk]), data).status_code == 404, name
    assert client.post(reverse("visits:plan"), plan_post(huaxing)).status_code == 404
    assert Visit.objects.count() == 2
    assert Visit.objects.get(pk=visit.pk).version == visit.version
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED
    assert not FollowUp.objects.exists()
    assert events() == before


@pytest.mark.parametrize("persona", ["risk", "auditor"])
def test_read_only_roles_see_a_visit_but_cannot_act_on_it(
    client: Client, bank: Bank, huaxing: Customer, persona: str
) -> None:
    # given
    visit = planned(bank.alice, huaxing)
    login(client, getattr(bank, persona))
    # when
    page = client.get(reverse("visits:detail", args=[visit.pk]))
    # then
    assert page.status_code == 200
    assert reverse("visits:edit", args=[visit.pk]) not in page.content.decode()
    assert client.get(reverse("visits:edit", args=[visit.pk])).status_code == 404
    assert client.post(reverse("visits:cancel", args=[visit.pk]), {"reason": "x"}).status_code == 404
    assert client.get(reverse("visits:plan")).status_code == 404
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED


@pytest.mark.parametrize("persona", ["officer", "admin"])
def test_roles_without_customer_access_get_404(client: Client, bank: Bank, persona: str) -> None:
    login(client, getattr(bank, persona))
    for name in ("visits:list", "visits:plan", "visits:feed"):
        assert client.get(reverse(name)).status_code == 404, name


# --- the list -----------------------------------------------------------------------------------------------------


def test_the_list_groups_an_rms_visits_by_what_they_need(client: Client, bank: Bank, huaxing: Customer) -> None:
    # given
    xihu = make_customer(bank.alice, name="西湖电子有限公司", co_rms=(bank.dave,))
    past = make_visit(bank.alice, huaxing, planned_start=local(-2, 9), planned_end=local(-2, 10))
    later = planned(bank.alice, huaxing, days=20)
    waiting = make_visit(bank.alice, xihu, status=VisitStatus.POSTPONED, planned_start=local(-5, 9))
    done = make_visit(bank.alice, xihu, status=VisitStatus.DONE, planned_start=local(-9, 9))
    cancelled = make_visit(bank.alice, xihu, status=VisitStatus.CANCELLED)
    daves = planned(bank.dave, xihu, days=4)  # dave's visit of a customer alice shares: not hers
    # when
    page = login(client, bank.alice).get(reverse("visits:list"))
    # then
    sections = page.context["sections"]
    shown = {section["key"]: [v.pk for v in section["visits"]] for section in sections}
    assert shown["to_record"] == [past.pk]
    assert later.pk in shown["later"]
    assert shown["postponed"] == [waiting.pk]
    assert shown["done"] == [done.pk]
    assert "cancelled" not in shown
    assert all(daves.pk not in pks and cancelled.pk not in pks for pks in shown.values())
    assert reverse("visits:record", args=[past.pk]) in page.content.decode()
    assert reverse("visits:plan") in page.content.decode() and reverse("visits:feed") in page.content.decode()


def test_the_list_filters_by_part_customer_and_dates_and_answers_htmx_with_the_rows(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    xihu = make_customer(bank.alice, name="西湖电子有限公司")
    in_week = planned(bank.alice, huaxing, days=1)
    other = planned(bank.alice, xihu, days=1, hour=14)
    far = planned(bank.alice, huaxing, days=40)
    login(client, bank.alice)
    # when
    by_name = client.get(reverse("visits:list"), {"q": "华兴", "show": "upcoming"}, **HTMX)
    by_pinyin = client.get(reverse("visits:list"), {"q": "hxkj", "show": "upcoming"})
    by_date = client.get(
        reverse("visits:list"), {"show": "upcoming", "date_to": (timezone.localdate() + timedelta(days=2)).isoformat()}
    )
    bad = client.get(reverse("visits:list"), {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    # then
    assert "<html" not in by_name.content.decode()  # the rows alone
    assert [v.pk for v in by_name.context["page_obj"].object_list] == [in_week.pk, far.pk]
    assert [v.pk for v in by_pinyin.context["page_obj"].object_list] == [in_week.pk, far.pk]
    assert [v.pk for v in by_date.context["page_obj"].object_list] == [in_week.pk, other.pk]
    assert bad.status_code == 200
    assert "The end of the period cannot be before its start." in bad.content.decode()
    assert all(not section["visits"] for section in bad.context["sections"])


def test_a_lead_lists_the_teams_visits_and_may_pick_an_rm(client: Client, bank: Bank, huaxing: Customer) -> None:
    # given
    daves = planned(bank.dave, make_customer(bank.dave), days=2)
    alices = planned(bank.alice, huaxing, days=2, hour=14)
    bobs = planned(bank.bob, make_customer(bank.bob), days=2)
    login(client, bank.lead)
    # when
    everyone = client.get(reverse("visits:list"), {"show": "upcoming"})
    only_dave = client.get(reverse("visits:list"), {"show": "upcoming", "rm": bank.dave.pk})
    # then
    assert [v.pk for v in everyone.context["page_obj"].object_list] == [daves.pk, alices.pk]
    assert bobs.pk not in [v.pk for v in everyone.context["page_obj"].object_list]
    assert [v.pk for v in only_dave.context["page_obj"].object_list] == [daves.pk]


# --- planning -----------------------------------------------------------------------------------------------------


def test_the_plan_page_without_a_customer_searches_the_customers_to_visit(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    make_customer(bank.carol, name="华兴物流有限公司")  # carol's: never offered to alice
    # when
    page = login(client, bank.alice).get(reverse("visits:plan"), {"q": "华兴"})
    # then
    assert [c.pk for c in page.context["found"]] == [huaxing.pk]
    assert f'href="{reverse("visits:plan")}?customer={huaxing.pk}"' in page.content.decode()


def test_the_plan_form_shows_each_key_persons_role_decision_role_and_preferences(
    client: Client, bank: Bank, huaxing: Customer, finance_head: KeyPerson
) -> None:
    # when
    page = login(client, bank.alice).get(reverse("visits:plan"), {"customer": huaxing.pk})
    # then
    html = page.content.decode()
    assert f'id="key-person-{finance_head.pk}"' in html
    for text in ("王芳", "Finance head", "财务总监", "Decides", "重数据，不喜寒暄；周五下午不约"):
        assert text in html, text
    assert f'name="key_persons" value="{finance_head.pk}"' in html
    for item in ("research", "plan", "key_people", "appointment", "image", "materials"):
        assert f'name="preparation" value="{item}"' in html


def test_an_rm_plans_a_visit_with_the_checklist_and_gets_a_task(
    client: Client, bank: Bank, huaxing: Customer, finance_head: KeyPerson
) -> None:
    # given dave, the customer's co-RM, who goes along
    huaxing.co_rms.add(bank.dave)
    login(client, bank.alice)
    data = plan_post(
        huaxing,
        key_persons=[finance_head.pk],
        bank_attendees=[bank.dave.pk],
        preparation=["research", "appointment"],
        strategy="先谈结算，再提流贷",
        materials="现金管理产品手册",
    )
    # when
    response = client.post(reverse("visits:plan"), data)
    # then
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("visits:detail", args=[visit.pk])
    assert visit.rm == bank.alice and visit.purpose == "needs" and visit.place == "客户总部三楼会议室"
    assert visit.preparation == ["research", "appointment"]
    assert list(visit.customer_attendees.all()) == [finance_head]
    assert list(visit.bank_attendees.all()) == [bank.dave]
    assert timezone.localtime(visit.planned_start).strftime("%H:%M") == "10:00"
    assert visit.planned_start.date() == (timezone.localdate() + timedelta(days=3))
    task = Task.objects.get(kind=TaskKind.VISIT, source_id=str(visit.pk))
    assert task.owner == bank.alice and task.status == TaskStatus.OPEN
    assert said(response) == ["Visit planned; it is on your task list."]


def test_the_plan_form_offers_as_attendees_only_colleagues_who_see_the_customer(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given bob (another team) as co-RM; dave, alice's teammate, has a book of his own
    huaxing.co_rms.add(bank.bob)
    # when
    page = login(client, bank.alice).get(reverse("visits:plan"), {"customer": huaxing.pk})
    # then: her team lead and the co-RM; not alice, who leads the visit, nor dave
    offered = [pk for pk, _label in page.context["form"].fields["bank_attendees"].choices]
    assert offered == [bank.lead.pk, bank.bob.pk]
    assert f'name="bank_attendees" value="{bank.dave.pk}"' not in page.content.decode()


def test_colleague_choices_are_the_lead_and_the_co_rms_not_a_teammate_with_a_book_of_his_own(
    bank: Bank, huaxing: Customer
) -> None:
    # given carol (another branch) as co-RM
    huaxing.co_rms.add(bank.carol)
    # when
    offered = colleague_choices(bank.alice, huaxing)
    kept = colleague_choices(bank.alice, huaxing, chosen=[bank.dave.pk])
    # then: the units of alice and of the customer's RMs, less those who cannot see the customer (dave) — unless
    # already chosen, so an old plan shows who was going
    assert offered == [bank.alice, bank.lead, bank.carol]
    assert kept == [bank.alice, bank.dave, bank.lead, bank.carol]


def test_a_colleague_who_cannot_see_the_customer_is_refused_beside_the_attendees_and_nothing_is_saved(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    login(client, bank.alice)
    before = events()
    # when: dave's id is posted although he was not offered
    response = client.post(reverse("visits:plan"), plan_post(huaxing, bank_attendees=[bank.lead.pk, bank.dave.pk]))
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["bank_attendees"] == [
        "Dave cannot see this customer: name them under other attendees instead."
    ]
    assert not Visit.objects.exists() and not Task.objects.exists()
    assert events() == before


def test_a_time_in_the_past_planned_as_future_is_refused_and_nothing_is_saved(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    login(client, bank.alice)
    before = events()
    # when
    response = client.post(reverse("visits:plan"), plan_post(huaxing, days=-1))
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["start_time"] == [
        "This time has passed. Choose a future time, or say the visit already took place to record it."
    ]
    assert 'value="客户总部三楼会议室"' in response.content.decode()  # the input is kept
    assert not Visit.objects.exists() and not Task.objects.exists()
    assert events() == before


def test_an_attendee_from_another_customer_is_refused_and_nothing_is_saved(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    stranger = make_key_person(make_customer(bank.carol), name="李四")
    login(client, bank.alice)
    # when
    response = client.post(reverse("visits:plan"), plan_post(huaxing, key_persons=[stranger.pk]))
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["key_persons"] == [
        "Customer attendees must be key persons of this customer."
    ]
    assert "李四" not in response.content.decode()
    assert not Visit.objects.exists()


def test_an_overlapping_visit_is_saved_with_a_warning_naming_the_other(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    xihu = make_customer(bank.alice, name="西湖电子有限公司")
    other = planned(bank.alice, xihu, days=3, hour=10)
    login(client, bank.alice)
    # when
    response = client.post(reverse("visits:plan"), plan_post(huaxing, start="10:30", end="11:30"))
    # then
    assert response.status_code == 302
    assert Visit.objects.count() == 2
    start = timezone.localtime(other.planned_start)
    assert said(response) == [
        "Visit planned; it is on your task list.",
        f"This visit overlaps with other planned visits of the RM: 西湖电子有限公司 {start:%Y-%m-%d} 10:00–11:00.",
    ]


def test_a_visit_that_already_took_place_is_filed_without_a_task_and_opens_the_record(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    login(client, bank.alice)
    # when
    response = client.post(reverse("visits:plan"), plan_post(huaxing, days=-1, took_place="on"))
    # then
    visit = Visit.objects.get()
    assert response["Location"] == reverse("visits:record", args=[visit.pk])
    assert not Task.objects.filter(kind=TaskKind.VISIT).exists()
    assert visit.status == VisitStatus.PLANNED


def test_a_plan_change_on_a_stale_version_says_so_and_keeps_the_input(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given: the team lead changed the plan after alice opened it
    visit = planned(bank.alice, huaxing)
    services.update_plan(actor=bank.lead, visit_id=visit.pk, version=visit.version, place="银行贵宾室")
    login(client, bank.alice)
    # when
    response = client.post(
        reverse("visits:edit", args=[visit.pk]), plan_post(huaxing, version=visit.version, place="客户新厂区")
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Someone else changed this record after you opened it. Review their changes and save again."
    ]
    html = response.content.decode()
    assert 'value="客户新厂区"' in html
    assert f'name="version" value="{visit.version + 1}"' in html  # the next save applies over the newer version
    assert Visit.objects.get(pk=visit.pk).place == "银行贵宾室"
    # when saved again
    again = client.post(
        reverse("visits:edit", args=[visit.pk]), plan_post(huaxing, version=visit.version + 1, place="客户新厂区")
    )
    # then
    assert again.status_code == 302
    assert Visit.objects.get(pk=visit.pk).place == "客户新厂区"


def test_a_done_visit_cannot_be_replanned(client: Client, bank: Bank, huaxing: Customer) -> None:
    done = make_visit(bank.alice, huaxing, status="done")
    response = login(client, bank.alice).get(reverse("visits:edit", args=[done.pk]))
    assert response["Location"] == reverse("visits:detail", args=[done.pk])
    assert said(response) == ["Only a visit still to happen can be changed."]


# --- the visit page and its actions -------------------------------------------------------------------------------


def test_checking_in_without_location_permission_still_checks_in_and_says_so(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    visit = planned(bank.alice, huaxing, days=1)
    login(client, bank.alice)
    page = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert f'action="{reverse("visits:checkin", args=[visit.pk])}" data-checkin' in page
    assert 'name="status" value="unavailable"' in page  # without JavaScript
    # when
    response = client.post(reverse("visits:checkin", args=[visit.pk]), {"status": "denied"})
    # then
    assert response["Location"] == reverse("visits:detail", args=[visit.pk])
    assert said(response) == ["Location permission refused: checked in without location."]
    saved = Visit.objects.get(pk=visit.pk)
    assert saved.checkin_status == CheckinStatus.DENIED and saved.checkin_latitude is None


def test_checking_in_with_a_location_keeps_it(client: Client, bank: Bank, huaxing: Customer) -> None:
    visit = planned(bank.alice, huaxing)
    login(client, bank.alice)
    data = {"status": "located", "latitude": "30.274085", "longitude": "120.155070", "accuracy_m": "24.6"}
    response = client.post(reverse("visits:checkin", args=[visit.pk]), data)
    saved = Visit.objects.get(pk=visit.pk)
    assert said(response) == ["Checked in with your location."]
    assert (str(saved.checkin_latitude), str(saved.checkin_longitude), saved.checkin_accuracy_m) == (
        "30.274085",
        "120.155070",
        25,
    )


def test_only_the_visiting_rm_or_an_attendee_checks_in(client: Client, bank: Bank, huaxing: Customer) -> None:
    # given: the lead may change alice's visit but is not on it
    visit = planned(bank.alice, huaxing)
    login(client, bank.lead)
    # when
    response = client.post(reverse("visits:checkin", args=[visit.pk]), {"status": "unavailable"})
    # then
    assert said(response) == ["Only the visiting RM or a bank attendee can check in."]
    assert Visit.objects.get(pk=visit.pk).checkin_status == CheckinStatus.NONE


def test_a_bank_attendee_checks_in_from_the_visit_page(client: Client, bank: Bank, huaxing: Customer) -> None:
    # given alice's visit, which her team lead attends
    visit = planned(bank.alice, huaxing)
    visit.bank_attendee_links.create(user=bank.lead)
    login(client, bank.lead)
    page = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert f'action="{reverse("visits:checkin", args=[visit.pk])}" data-checkin' in page
    # when
    response = client.post(reverse("visits:checkin", args=[visit.pk]), {"status": "unavailable"})
    # then
    assert response["Location"] == reverse("visits:detail", args=[visit.pk])
    assert Visit.objects.get(pk=visit.pk).checkin_status == CheckinStatus.UNAVAILABLE
    assert AuditEvent.objects.get(action="visit.check_in").actor == bank.lead


def test_postponing_to_a_new_time_and_until_one_is_agreed(client: Client, bank: Bank, huaxing: Customer) -> None:
    # given
    visit = planned(bank.alice, huaxing)
    login(client, bank.alice)
    new_day = (timezone.localdate() + timedelta(days=5)).isoformat()
    # when
    moved = client.post(
        reverse("visits:postpone", args=[visit.pk]),
        {"reason": "客户临时出差", "day": new_day, "start_time": "15:00", "end_time": "16:00"},
    )
    # then
    saved = Visit.objects.get(pk=visit.pk)
    assert said(moved) == ["The visit is moved to the new time."]
    assert saved.status == VisitStatus.PLANNED and timezone.localtime(saved.planned_start).hour == 15
    # when
    waiting = client.post(reverse("visits:postpone", args=[visit.pk]), {"reason": "等客户确认时间"})
    # then
    assert said(waiting)[-1] == "The visit is postponed until a new time is agreed."
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.POSTPONED


def test_postponing_without_a_reason_or_with_half_a_time_is_refused_beside_the_field(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    visit = planned(bank.alice, huaxing)
    login(client, bank.alice)
    response = client.post(reverse("visits:postpone", args=[visit.pk]), {"reason": "", "start_time": "15:00"})
    form = response.context["postpone_form"]
    assert response.status_code == 200 and response.context["open_form"] == "postpone"
    assert form.errors == {
        "reason": ["This field is required."],
        "day": ["Give the new date with both times, or leave all three empty."],
    }
    assert Visit.objects.get(pk=visit.pk).version == visit.version


def test_cancelling_says_why_and_closes_the_task(client: Client, bank: Bank, huaxing: Customer) -> None:
    # given
    login(client, bank.alice)
    client.post(reverse("visits:plan"), plan_post(huaxing))
    visit = Visit.objects.get()
    # when
    response = client.post(reverse("visits:cancel", args=[visit.pk]), {"reason": "客户取消了会谈"})
    # then
    assert said(response)[-1] == "The visit is cancelled."
    saved = Visit.objects.get(pk=visit.pk)
    assert (saved.status, saved.status_reason) == (VisitStatus.CANCELLED, "客户取消了会谈")
    assert Task.objects.get(kind=TaskKind.VISIT).status == TaskStatus.CANCELLED
    assert "客户取消了会谈" in client.get(reverse("visits:detail", args=[visit.pk])).content.decode()


def test_a_need_becomes_a_follow_up_task_for_its_owner(client: Client, bank: Bank, huaxing: Customer) -> None:
    # given
    huaxing.co_rms.add(bank.dave)
    visit = make_visit(bank.alice, huaxing, status="done", need_tags=["working_capital"])
    login(client, bank.alice)
    page = client.get(reverse("visits:detail", args=[visit.pk]), {"need": "working_capital"})
    form = page.context["task_form"]
    assert page.context["open_form"] == "follow_up_task"
    assert form.initial["description"] == "Follow up the need: Working capital loan"
    assert {pk for pk, _label in form.fields["owner"].choices} == {bank.alice.pk, bank.dave.pk}
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    # when
    response = client.post(
        reverse("visits:follow_up", args=[visit.pk]),
        {"kind": "task", "description": "报送流动资金贷款方案", "owner": bank.dave.pk, "due_date": due},
    )
    # then
    assert said(response) == ["The next step is on its owner's task list."]
    follow_up = FollowUp.objects.get(visit=visit)
    assert follow_up.task is not None
    assert (follow_up.task.owner, follow_up.task.title, follow_up.task.due_date.isoformat()) == (
        bank.dave,
        "报送流动资金贷款方案",
        due,
    )
    page = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert "报送流动资金贷款方案" in page and f"#task-{follow_up.task_id}" in page


def test_a_follow_up_for_someone_who_cannot_see_the_customer_is_refused(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    visit = make_visit(bank.alice, huaxing, status="done")
    login(client, bank.alice)
    response = client.post(
        reverse("visits:follow_up", args=[visit.pk]),
        {"kind": "task", "description": "报价", "owner": bank.carol.pk, "due_date": "2030-01-01"},
    )
    assert response.status_code == 200
    assert response.context["task_form"].errors["owner"] == ["The owner must be a colleague who can see this customer."]
    assert not FollowUp.objects.exists()


def test_a_stated_need_moves_the_prospect_on(client: Client, bank: Bank) -> None:
    # given
    prospect = make_prospect(bank.alice, found_on=timezone.localdate() - timedelta(days=10), steps=[("contacted", 1)])
    visit = make_visit(bank.alice, prospect.customer, status="done")
    login(client, bank.alice)
    assert "stage_form" in client.get(reverse("visits:detail", args=[visit.pk])).context
    # when
    response = client.post(
        reverse("visits:follow_up", args=[visit.pk]),
        {"kind": "stage", "to_stage": "proposal", "description": "客户提出流贷需求"},
    )
    # then
    assert said(response) == ["The prospect is moved on."]
    prospect.refresh_from_db()
    assert prospect.stage == "proposal"
    assert FollowUp.objects.get(visit=visit).stage_change is not None


# --- the record ---------------------------------------------------------------------------------------------------


def record_post(visit: Visit, **fields: Any) -> dict[str, Any]:
    start = timezone.localtime(visit.planned_start)
    data: dict[str, Any] = {
        "version": visit.version,
        "day": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "end_time": (start + timedelta(hours=1)).strftime("%H:%M"),
    }
    for prefix in ("banks", "proposals", "products"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(fields)
    return data


def test_recording_saves_the_needs_rows_self_check_and_preferences(
    client: Client, bank: Bank, huaxing: Customer, finance_head: KeyPerson
) -> None:
    # given
    visit = make_visit(bank.alice, huaxing, planned_start=local(-1, 9), planned_end=local(-1, 10))
    visit.customer_attendees.add(finance_head)
    login(client, bank.alice)
    form_page = client.get(reverse("visits:record", args=[visit.pk]))
    assert f'id="preference-{finance_head.pk}"' in form_page.content.decode()
    data = record_post(
        visit,
        goals_short="年内新增一条产线",
        goals_long="三年内上市",
        need_tags=["working_capital", "cash_management"],
        needs_detail="旺季流动资金缺口约三千万",
        operations="订单饱满",
        product_reaction="对现金管理有兴趣",
        self_check=["attentive", "dress"],
        notes="气氛良好",
        confidential_notes="董事长有意更换主办行",
        **{f"pref_{finance_head.pk}": "重数据；喜欢书面方案"},
        **{"banks-TOTAL_FORMS": "2", "banks-0-bank_name": "工商银行", "banks-0-amount": "30000000.00"},
        **{"banks-0-satisfaction": "dissatisfied", "banks-0-facility": "流动资金贷款"},
        **{"proposals-TOTAL_FORMS": "1", "proposals-0-content": "三千万流贷", "proposals-0-response": "countered"},
        **{"proposals-0-counter_offer": "利率下浮20BP"},
        **{"products-TOTAL_FORMS": "2", "products-0-product": "现金管理", "products-0-interest": "high"},
        **{"products-1-product": "票据池", "products-1-interest": "medium", "products-1-note": "下月再谈"},
    )
    # when
    response = client.post(reverse("visits:record", args=[visit.pk]), data)
    # then
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    assert said(response) == ["The visit is recorded."]
    saved = Visit.objects.get(pk=visit.pk)
    assert saved.status == VisitStatus.DONE and saved.visited_on == timezone.localdate() - timedelta(days=1)
    assert saved.need_tags == ["working_capital", "cash_management"] and saved.self_check == ["attentive", "dress"]
    assert saved.confidential_notes == "董事长有意更换主办行"
    assert list(OtherBankCredit.objects.filter(visit=visit).values_list("bank_name", "amount", "satisfaction")) == [
        ("工商银行", Decimal("30000000.00"), "dissatisfied")
    ]
    assert list(Proposal.objects.filter(visit=visit).values_list("content", "response", "counter_offer")) == [
        ("三千万流贷", "countered", "利率下浮20BP")
    ]
    assert list(ProductPresented.objects.filter(visit=visit).values_list("position", "product", "interest")) == [
        (1, "现金管理", "high"),
        (2, "票据池", "medium"),
    ]
    assert KeyPerson.objects.get(pk=finance_head.pk).preferences == "重数据；喜欢书面方案"


def test_add_a_row_shows_one_more_blank_row_and_saves_nothing(client: Client, bank: Bank, huaxing: Customer) -> None:
    visit = make_visit(bank.alice, huaxing, planned_start=local(-1, 9), planned_end=local(-1, 10))
    login(client, bank.alice)
    data = record_post(visit, **{"products-TOTAL_FORMS": "1", "products-0-product": "现金管理", "add_row": "products"})
    response = client.post(reverse("visits:record", args=[visit.pk]), data)
    assert response.status_code == 200
    assert len(response.context["formsets"]["products"].forms) == 2
    assert 'value="现金管理"' in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED


def test_a_row_the_service_refuses_is_named_in_its_section_and_nothing_is_saved(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    visit = make_visit(bank.alice, huaxing, planned_start=local(-1, 9), planned_end=local(-1, 10))
    login(client, bank.alice)
    data = record_post(
        visit,
        **{"proposals-TOTAL_FORMS": "1", "proposals-0-content": "三千万流贷", "proposals-0-response": "countered"},
    )
    response = client.post(reverse("visits:record", args=[visit.pk]), data)
    assert response.status_code == 200
    assert response.context["row_errors"] == {"proposals": ["Proposal 1: write down the counter-offer."]}
    assert response.context["form"].non_field_errors() == ["The record was not saved: see the rows marked below."]
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED and not Proposal.objects.exists()


def test_a_row_with_a_bad_amount_is_named_beside_the_cell_and_nothing_is_saved(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    visit = make_visit(bank.alice, huaxing, planned_start=local(-1, 9), planned_end=local(-1, 10))
    login(client, bank.alice)
    rows = {"banks-TOTAL_FORMS": "1", "banks-0-bank_name": "工商银行", "banks-0-amount": "三千万"}
    response = client.post(reverse("visits:record", args=[visit.pk]), record_post(visit, **rows))
    assert response.status_code == 200
    assert response.context["formsets"]["banks"].forms[0].errors == {"amount": ["Enter a number."]}
    assert response.context["form"].non_field_errors() == ["The record was not saved: see the rows marked below."]
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED and not OtherBankCredit.objects.exists()


def test_a_cancelled_visit_shows_the_services_message_instead_of_a_record_form(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    visit = make_visit(bank.alice, huaxing, status=VisitStatus.CANCELLED, status_reason="客户取消")
    login(client, bank.alice)
    before = events()
    # when
    page = client.get(reverse("visits:record", args=[visit.pk]))
    posted = client.post(reverse("visits:record", args=[visit.pk]), record_post(visit))
    # then
    message = "This visit was cancelled, so there is nothing to record. Plan a new visit instead."
    for response in (page, posted):
        assert response.status_code == 200
        assert response.context["refusal"] == message
        assert 'id="record-form"' not in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED
    assert events() == before


def test_a_record_on_a_stale_version_says_so_and_keeps_the_input(client: Client, bank: Bank, huaxing: Customer) -> None:
    visit = make_visit(bank.alice, huaxing, planned_start=local(-1, 9), planned_end=local(-1, 10))
    Visit.objects.filter(pk=visit.pk).update(version=visit.version + 1)  # saved by someone else meanwhile
    login(client, bank.alice)
    response = client.post(reverse("visits:record", args=[visit.pk]), record_post(visit, notes="客户很满意"))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Someone else changed this record after you opened it. Review their changes and save again."
    ]
    assert "客户很满意" in response.content.decode()
    assert f'name="version" value="{visit.version + 1}"' in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.PLANNED


# --- confidential notes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, reads", [("alice", True), ("lead", True), ("head", False), ("risk", False), ("auditor", False)]
)
def test_confidential_notes_are_shown_only_to_the_rms_and_their_team_leads(
    client: Client, bank: Bank, huaxing: Customer, persona: str, reads: bool
) -> None:
    # given
    visit = make_visit(bank.alice, huaxing, status="done", confidential_notes="董事长有意更换主办行")
    # when
    html = login(client, getattr(bank, persona)).get(reverse("visits:detail", args=[visit.pk])).content.decode()
    # then
    assert ("董事长有意更换主办行" in html) is reads
    if not reads:
        assert "Confidential notes exist. Only Alice and their team leads may read them." in html


# --- the 360 panel and the home card ------------------------------------------------------------------------------


def test_the_panel_shows_the_last_visit_the_next_due_the_occasions_and_plan_a_visit(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    # given
    done = make_visit(bank.alice, huaxing, status="done", planned_start=local(-10, 9), planned_end=local(-10, 10))
    coming = planned(bank.alice, huaxing, days=2)
    login(client, bank.alice)
    # when
    response = client.get(reverse("visits:panel", args=[huaxing.pk]), **HTMX)
    # then
    html = response.content.decode()
    assert "<html" not in html
    assert response.context["cadence"].last_visited_on == done.visited_on
    assert f'href="{reverse("visits:detail", args=[coming.pk])}"' in html
    assert f'href="{reverse("visits:detail", args=[done.pk])}"' in html
    assert f'href="{reverse("visits:plan")}?customer={huaxing.pk}"' in html
    assert f'hx-get="{reverse("visits:events", args=[huaxing.pk])}"' in html


def test_the_panel_offers_no_actions_to_read_only_roles(client: Client, bank: Bank, huaxing: Customer) -> None:
    html = login(client, bank.auditor).get(reverse("visits:panel", args=[huaxing.pk]), **HTMX).content.decode()
    assert reverse("visits:plan") not in html


def test_an_archived_customers_panel_lists_no_visits_to_open_and_offers_nothing_to_do(
    client: Client, bank: Bank, huaxing: Customer
) -> None:
    make_visit(bank.alice, huaxing, status="done")
    Customer.objects.filter(pk=huaxing.pk).update(archived_at=timezone.now())
    response = login(client, bank.alice).get(reverse("visits:panel", args=[huaxing.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["recent"]) == [] and reverse("visits:plan") not in html
    assert reverse("visits:events", args=[huaxing.pk]) not in html


def test_the_home_card_lists_visits_to_record_and_this_weeks(client: Client, bank: Bank, huaxing: Customer) -> None:
    past = make_visit(bank.alice, huaxing, planned_start=local(-1, 9), planned_end=local(-1, 10))
    start = timezone.now() + timedelta(minutes=1)
    soon = make_visit(bank.alice, huaxing, planned_start=start, planned_end=start + timedelta(hours=1))
    response = login(client, bank.alice).get(reverse("visits:home_card"), **HTMX)
    assert [v.pk for v in response.context["to_record"]] == [past.pk]
    assert [v.pk for v in response.context["this_week"]] == [soon.pk]
    assert reverse("visits:record", args=[past.pk]) in response.content.decode()
