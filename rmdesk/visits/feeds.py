"""Visits as calendar events: one visit's .ics, and a user's feed (by session, or by a private address for calendar
apps that cannot log in).

A feed carries what a calendar needs — when, where, with whom (names only), why — and never the record, the
confidential notes or any key person's personal data beyond a name. The private address is a random token of which
only the SHA-256 is stored (`CalendarFeed`), like the API's tokens; making a new one replaces the old one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core.errors import NotFoundError
from rmdesk.org.models import User, hash_token
from rmdesk.visits import ics
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import CalendarFeed, Visit, VisitBankAttendee
from rmdesk.visits.queries import visits_for

FEED_BACK = timedelta(days=30)
FEED_AHEAD = timedelta(days=366)
FEED_LIMIT = 2000  # events in one feed: far more than an RM's year of visits
UID_DOMAIN = "rmdesk"


def involving(visits: QuerySet[Visit], user: User) -> QuerySet[Visit]:
    """The visits `user` makes or goes on as a bank attendee."""
    attending = VisitBankAttendee.objects.filter(user=user).values("visit_id")
    return visits.filter(Q(rm=user) | Q(pk__in=attending))


def feed_visits(user: User, *, now: datetime | None = None) -> QuerySet[Visit]:
    """The user's planned visits (as visiting RM or attendee) from 30 days back to a year ahead, in their scope, of
    customers not archived."""
    now = now or timezone.now()
    visits = involving(visits_for(user), user).filter(
        status=VisitStatus.PLANNED,
        planned_start__gte=now - FEED_BACK,
        planned_start__lt=now + FEED_AHEAD,
        customer__archived_at__isnull=True,
    )
    return (
        visits.select_related("customer", "rm")
        .prefetch_related("bank_attendees", "customer_attendees")
        .order_by("planned_start", "pk")
    )


def visit_uid(visit: Visit) -> str:
    return f"visit-{visit.pk}@{UID_DOMAIN}"


def visit_event(visit: Visit, url: str) -> ics.Event:
    """A visit as a calendar event: a cancelled one stays in calendars that had it, marked cancelled."""
    lines = [visit.get_purpose_display() + (f": {visit.purpose_detail}" if visit.purpose_detail else "")]
    lines.append(_("How: %(mode)s") % {"mode": visit.get_mode_display()})
    bank = [
        visit.rm.display_name,
        *(user.display_name for user in visit.bank_attendees.all() if user.pk != visit.rm_id),
    ]
    lines.append(_("From the bank: %(names)s") % {"names": "、".join(bank)})
    people = [person.name for person in visit.customer_attendees.all()]
    if visit.other_attendees:
        people.append(visit.other_attendees)
    if people:
        lines.append(_("From the customer: %(names)s") % {"names": "、".join(people)})
    lines.append(url)
    status = "CANCELLED" if visit.status == VisitStatus.CANCELLED else "CONFIRMED"
    return ics.Event(
        uid=visit_uid(visit),
        start=visit.planned_start,
        end=visit.planned_end,
        stamp=visit.updated_at,
        summary=_("Visit %(name)s: %(purpose)s")
        % {"name": visit.customer.name, "purpose": visit.get_purpose_display()},
        location=visit.place,
        description="\n".join(lines),
        url=url,
        status=status,
        sequence=visit.version,
    )


def calendar_of(visits: Iterable[Visit], url_of: Callable[[Visit], str], *, name: str = "") -> str:
    """The .ics text of some visits; `url_of` gives each visit's page address."""
    return ics.calendar((visit_event(visit, url_of(visit)) for visit in visits), name=name)


# --- the private address ---------------------------------------------------------------------------------------------


@transaction.atomic
def reset_calendar_feed(*, actor: User) -> str:
    """Make (or replace) the user's private feed address and return its token: shown once, only its hash kept."""
    if not may(actor, Action.VIEW):
        raise NotFoundError()
    raw = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.update_or_create(user=actor, defaults={"token_hash": hash_token(raw)})
    record(actor=actor, action="visit.calendar_feed", obj=feed, changes={"replaced": not created})
    return raw


def feed_owner(raw: str) -> User | None:
    """The active user whose private feed address holds this token, or None."""
    if not raw:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=hash_token(raw)).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def has_feed(user: User) -> bool:
    return CalendarFeed.objects.filter(user=user).exists()
