"""Visits in calendars: the iCalendar writer (RFC 5545 line folding, escaping, UTC times), one visit's .ics, the user's
feed by session, and the private feed address (token kept hashed, shown once, replaced, 404 when unknown). A small
unfolding parser here reads back what the writer wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.models import Customer
from rmdesk.org.models import User, hash_token
from rmdesk.visits import ics
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import CalendarFeed, Visit, VisitBankAttendee
from tests.personas import Bank, make_customer
from tests.visits.factories import make_key_person, make_visit

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- a reader for what the writer writes --------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    """The content lines of an iCalendar text, checking the physical lines: CRLF, at most 75 octets each."""
    assert text.endswith("\r\n")
    physical = text.split("\r\n")[:-1]
    for line in physical:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode("utf-8")) <= 75, line
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


def events_of(text: str) -> list[dict[str, str]]:
    """Each VEVENT as {property: value, unescaped} (our writer uses no property parameters)."""
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    for line in lines:
        name, _colon, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            current[name] = value if name in ("DTSTART", "DTEND", "DTSTAMP", "URL") else unescape(value)
    return found


def event(**fields: Any) -> ics.Event:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    values: dict[str, Any] = {
        "uid": "visit-7@rmdesk",
        "start": start,
        "end": start + timedelta(hours=1),
        "stamp": datetime(2026, 2, 1, 8, 30, 15, tzinfo=UTC),
        "summary": "拜访",
    }
    values.update(fields)
    return ics.Event(**values)


# --- the writer ---------------------------------------------------------------------------------------------------


def test_times_are_written_in_utc() -> None:
    text = ics.calendar([event()])
    (written,) = events_of(text)
    assert (written["DTSTART"], written["DTEND"], written["DTSTAMP"]) == (
        "20260302T020000Z",
        "20260302T030000Z",
        "20260201T083015Z",
    )
    assert written["UID"] == "visit-7@rmdesk"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ics.utc(datetime(2026, 3, 2, 10, 0))


def test_text_is_escaped_and_reads_back_as_written() -> None:
    # given
    description = "第一行, 含逗号; 含分号 \\ 反斜杠\n第二行\r\n第三行"
    # when
    text = ics.calendar([event(summary="A,B;C\\D", location="杭州市, 西湖区; 文三路", description=description)])
    # then
    assert "SUMMARY:A\\,B\\;C\\\\D\r\n" in text
    (written,) = events_of(text)
    assert written["SUMMARY"] == "A,B;C\\D"
    assert written["LOCATION"] == "杭州市, 西湖区; 文三路"
    assert written["DESCRIPTION"] == "第一行, 含逗号; 含分号 \\ 反斜杠\n第二行\n第三行"


def test_long_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    # given: 60 Chinese characters of 3 octets, and a long ASCII line
    summary = "华兴科技有限公司年度授信方案沟通" * 4
    location = "Room " + "x" * 200
    # when
    text = ics.calendar([event(summary=summary, location=location)])
    # then: every physical line is at most 75 octets and decodes on its own (unfold checks both)
    for line in text.split("\r\n"):
        line.encode("utf-8").decode("utf-8")
    (written,) = events_of(text)
    assert written["SUMMARY"] == summary and written["LOCATION"] == location
    assert max(len(line.encode()) for line in text.split("\r\n")) == 75


def test_fold_leaves_a_short_line_alone() -> None:
    assert ics.fold("SUMMARY:拜访") == "SUMMARY:拜访"


def test_the_calendar_names_the_feed_and_its_version() -> None:
    lines = unfold(ics.calendar([], name="Visits of Alice"))
    assert lines == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{ics.PRODID}",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Visits of Alice",
        "END:VCALENDAR",
    ]


# --- one visit's file ---------------------------------------------------------------------------------------------


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def local(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def planned(rm: User, customer: Customer, days: int, **fields: Any) -> Visit:
    return make_visit(rm, customer, planned_start=local(days, 10), planned_end=local(days, 11), **fields)


def test_a_visits_file_holds_the_visit_and_nothing_confidential(client: Client, bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="华兴科技有限公司")
    person = make_key_person(customer, name="王芳", phone="13800138000", preferences="重数据")
    visit = planned(
        bank.alice,
        customer,
        3,
        place="杭州市西湖区文三路90号, 3楼",
        purpose_detail="授信方案; 结算",
        confidential_notes="董事长有意更换主办行",
        strategy="先谈结算",
    )
    visit.customer_attendees.add(person)
    VisitBankAttendee.objects.create(visit=visit, user=bank.dave)
    # when
    response = login(client, bank.alice).get(reverse("visits:ics", args=[visit.pk]))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="visit-{visit.pk}.ics"'
    text = response.content.decode("utf-8")
    (written,) = events_of(text)
    assert written["UID"] == f"visit-{visit.pk}@rmdesk"
    assert written["DTSTART"] == visit.planned_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert written["DTEND"] == visit.planned_end.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert written["SUMMARY"] == "Visit 华兴科技有限公司: Relationship upkeep"
    assert written["LOCATION"] == "杭州市西湖区文三路90号, 3楼"
    assert written["STATUS"] == "CONFIRMED"
    assert written["URL"] == f"http://testserver{reverse('visits:detail', args=[visit.pk])}"
    assert written["DESCRIPTION"].splitlines() == [
        "Relationship upkeep: 授信方案; 结算",
        "How: At the customer",
        "From the bank: Alice、Dave",
        "From the customer: 王芳",
        written["URL"],
    ]
    for secret in ("董事长有意更换主办行", "13800138000", "重数据", "先谈结算"):
        assert secret not in text


def test_a_cancelled_visits_file_says_it_is_cancelled(client: Client, bank: Bank) -> None:
    visit = planned(bank.alice, make_customer(bank.alice), 3, status=VisitStatus.CANCELLED)
    text = login(client, bank.alice).get(reverse("visits:ics", args=[visit.pk])).content.decode()
    assert events_of(text)[0]["STATUS"] == "CANCELLED"


def test_a_visits_file_out_of_scope_is_404(client: Client, bank: Bank) -> None:
    visit = planned(bank.alice, make_customer(bank.alice), 3)
    assert login(client, bank.carol).get(reverse("visits:ics", args=[visit.pk])).status_code == 404


# --- the feed -----------------------------------------------------------------------------------------------------


def test_the_feed_holds_the_users_planned_visits_as_rm_or_attendee_within_its_window(
    client: Client, bank: Bank
) -> None:
    # given
    mine = make_customer(bank.alice, name="华兴科技有限公司")
    shared = make_customer(bank.dave, name="西湖电子有限公司", co_rms=(bank.alice,))
    own = planned(bank.alice, mine, 5)
    recent_past = planned(bank.alice, mine, -20)
    attending = planned(bank.dave, shared, 6)
    VisitBankAttendee.objects.create(visit=attending, user=bank.alice)
    not_mine = planned(bank.dave, shared, 7)  # dave's visit without alice
    too_old = planned(bank.alice, mine, -40)
    too_far = planned(bank.alice, mine, 400)
    cancelled = planned(bank.alice, mine, 8, status=VisitStatus.CANCELLED)
    done = make_visit(bank.alice, mine, status=VisitStatus.DONE, planned_start=local(-3, 10))
    # when
    response = login(client, bank.alice).get(reverse("visits:feed"))
    # then
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    uids = [written["UID"] for written in events_of(response.content.decode())]
    assert uids == [f"visit-{v.pk}@rmdesk" for v in (recent_past, own, attending)]
    for left_out in (not_mine, too_old, too_far, cancelled, done):
        assert f"visit-{left_out.pk}@rmdesk" not in uids


def test_the_private_address_is_shown_once_kept_hashed_and_serves_the_feed_without_a_login(
    client: Client, bank: Bank
) -> None:
    # given
    visit = planned(bank.alice, make_customer(bank.alice), 5)
    login(client, bank.alice)
    before = AuditEvent.objects.count()
    # when
    made = client.post(reverse("visits:feed_token_reset"))
    # then
    assert made["Location"] == reverse("visits:list")
    page = client.get(reverse("visits:list"))
    url = page.context["new_feed_url"]
    assert url.startswith("http://testserver/visits/calendar/") and url.endswith(".ics")
    assert url in page.content.decode()
    assert client.get(reverse("visits:list")).context["new_feed_url"] is None  # shown once
    token = url.removeprefix("http://testserver/visits/calendar/").removesuffix(".ics")
    feed = CalendarFeed.objects.get(user=bank.alice)
    assert feed.token_hash == hash_token(token) and token not in feed.token_hash
    assert AuditEvent.objects.count() == before + 1
    # when a calendar app asks, with no session
    anonymous = Client().get(url.removeprefix("http://testserver"))
    # then
    assert anonymous.status_code == 200
    assert [e["UID"] for e in events_of(anonymous.content.decode())] == [f"visit-{visit.pk}@rmdesk"]


def test_replacing_the_private_address_stops_the_old_one(client: Client, bank: Bank) -> None:
    login(client, bank.alice)
    client.post(reverse("visits:feed_token_reset"))
    first = client.get(reverse("visits:list")).context["new_feed_url"].removeprefix("http://testserver")
    client.post(reverse("visits:feed_token_reset"))
    second = client.get(reverse("visits:list")).context["new_feed_url"].removeprefix("http://testserver")
    assert first != second
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    assert CalendarFeed.objects.filter(user=bank.alice).count() == 1


def test_an_unknown_token_or_a_deactivated_user_is_404(client: Client, bank: Bank) -> None:
    assert Client().get(reverse("visits:feed_token", args=["no-such-token"])).status_code == 404
    login(client, bank.alice)
    client.post(reverse("visits:feed_token_reset"))
    url = client.get(reverse("visits:list")).context["new_feed_url"].removeprefix("http://testserver")
    User.objects.filter(pk=bank.alice.pk).update(is_active=False)
    assert Client().get(url).status_code == 404


def test_making_a_private_address_needs_a_login_and_a_post(client: Client, bank: Bank) -> None:
    assert client.post(reverse("visits:feed_token_reset"))["Location"].startswith(reverse("login"))
    assert login(client, bank.alice).get(reverse("visits:feed_token_reset")).status_code == 405
    assert not CalendarFeed.objects.exists()
