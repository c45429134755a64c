"""The demo bank's visits: two years of history ending today for every current customer, the visits planned for the
next two weeks, and the occasions RMs logged.

Each current customer (现实客户) is visited about as often as its tier's cadence asks and then some: 战略 every few
weeks, 一般 every three to five months, about five visits a year on average. A few percent have let their cadence
lapse, so the daily cadence job finds work. Visits fall on working days in office hours; a few were cancelled, a
few moved once before they happened. The last visit done of each customer carries a full record (the six needs of
§4.3, proposals, products presented, other banks' credit, the self-check, a check-in for recent ones); older ones are
lean, most of their text left blank, so a million-customer bank still loads in minutes. About one customer in fifty
has a visit planned (a few already overdue), with its preparation and a task for the RM; about one in a hundred an
occasion logged, with the task it raised (closed when a visit answered it).

The named RMs (org.NAMED_USERS) get a showcase on their first current customers (SHOWCASE): a visit done on the last
working day with everything recorded, visits planned for the coming days, one overdue and one postponed, lapsed
customers, and occasions with and without a visit planned.

Rows are made a chunk at a time in the book maker's process (pipeline.py), from the chunk's own random stream;
visits and occasions are numbered here so tasks, records and contacts can point at them. Customer attendees, bank
attendees and follow-ups need the key persons' and tasks' ids, so the builder adds them once the chunks are written
(`Contact`, `Showcase`).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from rmdesk.core.workdays import is_working_day
from rmdesk.customers.choices import KeyPersonRole, LifecycleStatus, Tier
from rmdesk.demo.customers import CUSTOMER_FIELDS
from rmdesk.demo.org import Rm
from rmdesk.demo.prospects import PROSPECT_FIELDS
from rmdesk.demo.visit_words import (
    CANCEL_REASONS,
    CITY_CENTRES,
    CONFIDENTIAL_NOTES,
    COUNTER_OFFERS,
    CREDIT_WAN,
    DURATIONS,
    EVENT_KINDS,
    EVENT_TITLES,
    EVENT_WORDS,
    FACILITIES,
    GENERAL_PROPOSAL,
    GOALS_LONG,
    GOALS_SHORT,
    INTERESTS,
    LATE,
    MATERIALS,
    MODES,
    NEED_DETAILS,
    NEED_ORDER,
    NEEDS,
    OPERATIONS,
    OTHER_BANKS,
    PLACES_AT_BANK,
    PLACES_ON_SITE,
    PLACES_REMOTE,
    POSTPONE_REASONS,
    PREP_ORDER,
    PRODUCT_NOTES,
    PRODUCTS,
    PROPOSALS,
    PURPOSE_DETAILS,
    PURPOSE_WORDS,
    PURPOSES,
    REACTIONS,
    RESCHEDULED_REASONS,
    RESPONSES,
    RICH_NOTES,
    SATISFACTION,
    SELF_CHECK_NOTES,
    SELF_CHECK_ORDER,
    SHORT_NOTES,
    SLOTS,
    STRATEGIES,
    E,
)
from rmdesk.demo.vocabulary import pick, skewed
from rmdesk.demo.writer import Row
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus
from rmdesk.visits.choices import CheckinStatus, EventOrigin, ProposalResponse, VisitMode, VisitPurpose, VisitStatus
from rmdesk.visits.services import EVENT_SOURCE, VISIT_SOURCE

# The order of the values in each kind of row (every column of a visit: the writer adds nothing to 7 million rows).
VISIT_FIELDS = ("id", "customer_id", "rm_id", "created_by_id", "purpose", "purpose_detail", "mode", "place",
                "event_id", "planned_start", "planned_end", "status", "status_reason", "postponed_count",
                "actual_start", "actual_end", "visited_on", "recorded_at", "preparation", "strategy", "materials",
                "other_attendees", "checkin_status", "checkin_at", "checkin_latitude", "checkin_longitude",
                "checkin_accuracy_m", "goals_short", "goals_long", "need_tags", "needs_detail", "operations",
                "product_reaction", "notes", "confidential_notes", "self_check", "self_check_note", "created_at",
                "updated_at", "version", "archived_at")  # fmt: skip
EVENT_FIELDS = ("id", "customer_id", "kind", "title", "occurred_on", "origin", "detection_key", "logged_by_id",
                "created_at", "updated_at")  # fmt: skip
PROPOSAL_FIELDS = ("visit_id", "position", "content", "response", "counter_offer")
PRODUCT_FIELDS = ("visit_id", "position", "product", "interest", "note")
OTHER_BANK_FIELDS = ("visit_id", "bank_name", "facility", "amount", "satisfaction")
CONTACT_FIELDS = ("visit_id", "key_person_id")
ATTENDEE_FIELDS = ("visit_id", "user_id")

HISTORY_DAYS = 730  # two years of visits, ending today
AHEAD_WORKING_DAYS = 10  # visits are planned up to two weeks ahead
# Days between two visits done, by tier: about 20, 10, 6.7 and 4 visits a year, ≈5 on the bank's mix of tiers.
GAPS: dict[str, tuple[int, int]] = {
    Tier.STRATEGIC: (7, 29),
    Tier.CORE: (14, 58),
    Tier.KEY: (22, 86),
    Tier.GENERAL: (36, 144),
}
LAPSED_SHARE = 0.04  # of current customers: past their cadence, for the cadence job to find
PLANNED_SHARE = 0.02  # of current customers: a visit planned (about four per RM)
OVERDUE_PLAN_SHARE = 0.12  # of those: its day passed and it is not recorded yet
EVENT_SHARE = 0.01  # of current customers: an occasion logged in the last three months
CO_RM_VISITS = 1 / 16  # of a shared customer's visits: made by the co-RM
CHECKIN_DAYS = 90  # visits recorded this recently were checked in from the phone
PLANNED_AT = 16 * 60 + 30  # local time of day a visit was put in the calendar (Clock.planned_on)
# Who of the customer's people attends a planned visit, first choice first.
ATTENDING_ROLES = (KeyPersonRole.FINANCE_HEAD, KeyPersonRole.LEGAL_REPRESENTATIVE, KeyPersonRole.ACTUAL_CONTROLLER,
                   KeyPersonRole.DECISION_MAKER, KeyPersonRole.FINANCE_STAFF)  # fmt: skip

C_ID, C_NAME, C_REGION, C_TIER, C_STATUS, C_RM = (CUSTOMER_FIELDS.index(name) for name in (
    "id", "name", "region", "tier", "status", "primary_rm_id"))  # fmt: skip
P_CUSTOMER, P_STAGE, P_CHANGED = (PROSPECT_FIELDS.index(name) for name in ("customer_id", "stage", "stage_changed_at"))
CUSTOMER = LifecycleStatus.CUSTOMER.value
DONE, PLANNED, POSTPONED, CANCELLED = (VisitStatus.DONE.value, VisitStatus.PLANNED.value,
                                       VisitStatus.POSTPONED.value, VisitStatus.CANCELLED.value)  # fmt: skip
ON_SITE, AT_BANK = VisitMode.ON_SITE.value, VisitMode.AT_BANK.value
TIMING = VisitPurpose.TIMING.value
OPEN_TASK, DONE_TASK, CANCELLED_TASK = TaskStatus.OPEN.value, TaskStatus.DONE.value, TaskStatus.CANCELLED.value
NO_CHECKIN = CheckinStatus.NONE.value
COUNTERED, PENDING = ProposalResponse.COUNTERED.value, ProposalResponse.PENDING.value
LOGGED = EventOrigin.LOGGED.value
EMPTY_LIST = "[]"


def json_list(values: Sequence[str]) -> str:
    """A JSON array of plain words (choice values), as the JSON columns store it; faster than json.dumps."""
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


# The whole checklist ticked, as the last visit's record has it (older, lean ones have none).
PREP_FULL = json_list(PREP_ORDER)


class Show(enum.Enum):
    """What a named RM's current customer is made to show, in the order they are handed out."""

    YESTERDAY = "visited on the last working day, everything recorded"
    UPCOMING = "a visit planned for the coming days"
    OVERDUE_PLAN = "a visit planned two working days ago, not recorded"
    LAPSED = "last visited longer ago than its cadence"
    OCCASION_PLANNED = "an occasion two days ago, a visit planned for it"
    OCCASION_OPEN = "an occasion three days ago, no visit planned yet"
    POSTPONED = "a visit postponed until a new time is agreed"


# The most telling first: a small bank's named RMs have only a few current customers.
SHOWCASE = (Show.YESTERDAY, Show.UPCOMING, Show.OVERDUE_PLAN, Show.OCCASION_OPEN, Show.LAPSED, Show.OCCASION_PLANNED,
            Show.UPCOMING, Show.POSTPONED, Show.LAPSED, Show.UPCOMING, Show.UPCOMING)  # fmt: skip
# When a named RM's planned visits are: (working days from today, local minutes); today's only on a working day.
SHOW_TIMES = ((0, 15 * 60), (1, 10 * 60), (2, 14 * 60 + 30), (3, 9 * 60 + 30), (5, 15 * 60))


@dataclass(frozen=True)
class VisitPlan:
    """What the visit rows need besides the chunk: the clock, the cadence, the RMs, where numbering starts."""

    seed: int
    today: date
    zone: str
    text_times: bool  # SQLite takes timestamps as naive UTC text; PostgreSQL's COPY gets the same with "+00"
    intervals: dict[str, int]  # months between visits by tier (visits.CadenceRule)
    rms: tuple[Rm, ...]
    first_visit_id: int
    first_event_id: int
    stamp: Any  # created_at / updated_at of occasions and tasks, as the rest of the load writes them


class Contact(NamedTuple):
    """A visit whose customer attendees the builder adds: `people` of the customer's key persons (ATTENDING_ROLES)."""

    visit_id: int
    customer_id: int
    people: int


class Showcase(NamedTuple):
    """A named RM's showcase visit, for the builder to add bank attendees and follow-ups to."""

    show: Show
    visit_id: int
    rm_id: int


@dataclass
class VisitChunk:
    """The visit rows of one chunk's customers, table by table, each in its insert order."""

    events: list[Row] = field(default_factory=list)  # EVENT_FIELDS
    visits: list[Row] = field(default_factory=list)  # VISIT_FIELDS
    proposals: list[Row] = field(default_factory=list)
    products: list[Row] = field(default_factory=list)
    other_banks: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)  # customers.TASK_FIELDS
    contacts: list[Contact] = field(default_factory=list)
    showcase: list[Showcase] = field(default_factory=list)


class Clock:
    """Days as indexes from two years (and a little) ago, and timestamps as the database takes them, precomputed:
    a million customers' visits need some thirty million of them."""

    def __init__(self, today: date, zone: str, *, text_times: bool) -> None:
        self.base = today - timedelta(days=HISTORY_DAYS + 20)
        self.today = HISTORY_DAYS + 20
        days = self.today + 3 * AHEAD_WORKING_DAYS
        tz = ZoneInfo(zone)
        self.dates = [(self.base + timedelta(days=d)).isoformat() for d in range(days)]
        working = [is_working_day(self.base + timedelta(days=d)) for d in range(days)]
        # Minutes from the base day's UTC midnight to each day's local midnight (the zone's offset at noon).
        self.midnight = []
        for d in range(days):
            offset = datetime.combine(self.base + timedelta(days=d), time(12), tzinfo=tz).utcoffset()
            self.midnight.append(d * 1440 - int(offset.total_seconds() // 60 if offset else 0))
        # UTC dates from the day before the base on (a zone east of UTC starts the day on the previous UTC date).
        self.utc_dates = [(self.base + timedelta(days=d)).isoformat() for d in range(-1, days + 1)]
        suffix = "" if text_times else "+00"
        self.times = [f" {minute // 60:02d}:{minute % 60:02d}:00{suffix}" for minute in range(1440)]
        # The working day on or before each day, and on or after it.
        self.before, self.after = list(range(days)), list(range(days))
        for d in range(1, days):
            if not working[d]:
                self.before[d] = self.before[d - 1]
        for d in range(days - 2, -1, -1):
            if not working[d]:
                self.after[d] = self.after[d + 1]
        self.working_today = working[self.today]
        self.ahead = [d for d in range(self.today + 1, days) if working[d]][:AHEAD_WORKING_DAYS]
        self.behind = [d for d in range(self.today - 1, self.today - 30, -1) if working[d]][:5]

        # Each day's moments every five minutes, made when the day is first asked for: shared string objects,
        # which the rows sent from the worker process pickle once each.
        self.moments: list[list[str] | None] = [None] * days

    def day(self, day: int) -> list[str]:
        """The moments of `day`, every five minutes from local midnight, in UTC text: `day(d)[minute // 5]`."""
        moments = self.moments[day]
        if moments is None:
            midnight, dates, times = self.midnight[day], self.utc_dates, self.times
            moments = [dates[(midnight + m) // 1440 + 1] + times[(midnight + m) % 1440] for m in range(0, 1440, 5)]
            self.moments[day] = moments
        return moments

    def at(self, day: int, minute: int) -> str:
        """The moment `minute` (a multiple of five) minutes after local midnight of `day`, in UTC text."""
        return self.day(day)[minute // 5]

    def planned_on(self, day: int) -> str:
        """When a visit on `day` was planned: late afternoon three days before (never today or later)."""
        return self.day(min(self.before[max(0, day - 3)], self.before[self.today - 1]))[PLANNED_AT // 5]

    def day_of(self, iso: str) -> int:
        return (date.fromisoformat(iso[:10]) - self.base).days

    def working_days_ahead(self, n: int) -> int:
        """Today (n = 0, on a working day) or the nth working day after it."""
        if n == 0 and self.working_today:
            return self.today
        return self.ahead[max(0, n - 1) if self.working_today else n]


@dataclass(slots=True)
class _Customer:
    pk: int
    name: str
    region: str
    tier: str
    rm: int
    co_rm: int | None
    places: list[str | None] = field(default_factory=lambda: [None] * len(PLACES_ON_SITE))


class VisitBook:
    """Makes the visit rows of the book's chunks, in order: ids and the named RMs' showcase run across chunks."""

    def __init__(self, plan: VisitPlan) -> None:
        self.plan = plan
        self.clock = Clock(plan.today, plan.zone, text_times=plan.text_times)
        self.stamp = plan.stamp
        self.next_visit_id, self.next_event_id = plan.first_visit_id, plan.first_event_id
        self.showcase = {rm.user_id: list(SHOWCASE) for rm in plan.rms if rm.named}
        self.shown_times: dict[int, int] = {}  # named RM → how many of SHOW_TIMES are taken
        self.rng = random.Random()
        self.out = VisitChunk()

    def chunk(
        self, index: int, customers: Sequence[Row], co_rms: Sequence[Row], prospects: Sequence[Row]
    ) -> VisitChunk:
        """The visits, occasions, records and tasks of a chunk's current customers."""
        self.rng = random.Random(f"rmdesk-demo:{self.plan.seed}:visits:{index}")
        self.out = VisitChunk()
        shared = {row[0]: row[1] for row in co_rms}
        won = {row[P_CUSTOMER]: str(row[P_CHANGED]) for row in prospects if row[P_STAGE] == "won"}
        for row in customers:
            if row[C_STATUS] != CUSTOMER or row[C_RM] is None:
                continue
            pk = row[C_ID]
            customer = _Customer(pk, row[C_NAME], row[C_REGION], row[C_TIER], row[C_RM], shared.get(pk))
            # History starts two years ago, or the day a customer won through the pipeline became one.
            start = self.clock.today - HISTORY_DAYS
            if pk in won:
                start = max(start, self.clock.day_of(won[pk]))
            queue = self.showcase.get(customer.rm)
            self._customer(customer, start, queue.pop(0) if queue else None, named=queue is not None)
        return self.out

    # --- one customer ------------------------------------------------------------------------------------------------

    def _customer(self, customer: _Customer, start: int, show: Show | None, *, named: bool) -> None:
        """One current customer's visits from `start` (a day index) on: what is planned and the occasion first,
        then the history around them, and the tasks they raised. `named`: a named RM's, curated, no random extras."""
        clock, random_ = self.clock, self.rng.random
        today = clock.today
        months = self.plan.intervals.get(customer.tier, 6)
        # Within 28 days a month the visit is in time however months are counted; past 31 a month it lapsed.
        in_time, lapsed_from = months * 28 - 1, months * 31 + 1
        low, high = GAPS.get(customer.tier, GAPS[Tier.GENERAL])

        # What is planned, and what happened lately: decided first, as the history has to fit around it.
        planned_day, planned_minute, planned_status = None, 0, PLANNED
        event: tuple[int, str, str] | None = None  # day, kind, title
        event_task_open = True
        not_since = 0  # no visit done on or after this many days ago
        lapsed = show is Show.LAPSED or (show is None and random_() < LAPSED_SHARE)
        if show is Show.YESTERDAY:
            since = today - clock.behind[0]
        else:
            since = lapsed_from + int(random_() * 45) if lapsed else 1 + int(random_() * min(in_time, high))
            if show in (Show.UPCOMING, Show.OCCASION_PLANNED):
                planned_day, planned_minute = self._show_time(customer.rm)
            elif show is Show.OVERDUE_PLAN:
                planned_day, planned_minute = clock.behind[1], 10 * 60
            elif show is Show.POSTPONED:
                planned_day, planned_minute, planned_status = clock.behind[2], 14 * 60, POSTPONED
            elif show is None and not named and random_() < PLANNED_SHARE:
                if random_() < OVERDUE_PLAN_SHARE:
                    planned_day = clock.behind[int(random_() * len(clock.behind))]
                else:
                    planned_day = clock.ahead[int(random_() * len(clock.ahead))]
                planned_minute = SLOTS[int(random_() * len(SLOTS))]
            if show is Show.OCCASION_PLANNED:
                event = (today - 2, E.HAPPY_EVENT.value, EVENT_TITLES[E.HAPPY_EVENT][0])
            elif show is Show.OCCASION_OPEN:
                event = (today - 3, E.DISSATISFIED.value, EVENT_TITLES[E.DISSATISFIED][0])
                not_since = 3
            elif show is None and not named and random_() < EVENT_SHARE:
                kind = EVENT_KINDS[int(random_() * len(EVENT_KINDS))]
                event = (today - 1 - int(random_() * 90), kind, pick(self.rng, EVENT_TITLES[kind]))
            if planned_day is not None and planned_day < today:
                not_since = max(not_since, today - planned_day + 1)
            since = max(since, not_since)

        # The visits done, newest first: the last one `since` days ago (on a working day), then back by the gaps.
        last = clock.before[today - since]
        if not lapsed and today - last > in_time:
            last = clock.after[today - since]  # the working day after, rather than let it lapse
        last = min(last, clock.before[today - max(1, not_since)])
        if last < start:  # won through the pipeline only days ago
            last = clock.after[start] if clock.after[start] < today else clock.before[today - 1]
        days = [last]
        day = last
        while True:
            day -= low + int(random_() * (high - low + 1))
            if day < start:
                break
            if clock.before[day] < days[-1]:  # a long holiday can swallow a gap: no visit then
                days.append(clock.before[day])

        event_id = None
        if event is not None:
            event_id = self.next_event_id
            self.next_event_id += 1
            self.out.events.append((event_id, customer.pk, event[1], event[2], clock.dates[event[0]], LOGGED, "",
                                    customer.rm, self.stamp, self.stamp))  # fmt: skip
        # The occasion is answered by the visit planned for it, else by the first visit done after it.
        answering = None
        if event is not None and planned_day is None:
            answering = next((d for d in reversed(days) if d > event[0]), None)
        rich = show is Show.YESTERDAY
        recorded_at = None
        for day in reversed(days):
            linked = event_id if day == answering else None
            visit_id, recorded = self._done(customer, day, last=day == last, rich=rich, event_id=linked)
            if linked is not None:
                event_task_open, recorded_at = False, recorded
            if rich and day == last:
                self.out.showcase.append(Showcase(Show.YESTERDAY, visit_id, customer.rm))
                self.out.contacts.append(Contact(visit_id, customer.pk, 3))
        if planned_day is not None:
            linked = event_id if show is not Show.OCCASION_OPEN else None
            visit_id = self._planned(customer, planned_day, planned_minute, planned_status, event_id=linked,
                                     showcase=show is not None)  # fmt: skip
            if linked is not None:
                event_task_open = False
            if show is not None:
                self.out.showcase.append(Showcase(show, visit_id, customer.rm))
        if event is not None and event_id is not None:
            due = clock.dates[min(event[0] + 7, len(clock.dates) - 1)]
            completed = None if event_task_open else (recorded_at or self.stamp)
            # As visits.events.log_event words it, due a week after it was logged (the day it happened).
            title = f"把握拜访时机：{EVENT_WORDS[event[1]]}——{event[2]}"
            self.out.tasks.append((TaskKind.VISIT_OCCASION.value, title, customer.pk, customer.rm, due,
                                   OPEN_TASK if event_task_open else DONE_TASK, Priority.NORMAL.value, completed,
                                   self.stamp, self.stamp, EVENT_SOURCE, str(event_id)))  # fmt: skip

    def _show_time(self, rm: int) -> tuple[int, int]:
        n = self.shown_times.get(rm, 0)
        self.shown_times[rm] = n + 1
        ahead, minute = SHOW_TIMES[min(n, len(SHOW_TIMES) - 1)]
        return self.clock.working_days_ahead(ahead), minute

    # --- the rows ----------------------------------------------------------------------------------------------------

    def _new_visit_id(self) -> int:
        self.next_visit_id += 1
        return self.next_visit_id - 1

    def _place(self, customer: _Customer, mode: str, bits: int) -> str:
        if mode == ON_SITE:
            n = bits % len(PLACES_ON_SITE)
            if customer.places[n] is None:  # one string per place and customer, pickled once
                customer.places[n] = customer.name + PLACES_ON_SITE[n]
            return customer.places[n] or ""
        if mode == AT_BANK:
            return PLACES_AT_BANK[bits % len(PLACES_AT_BANK)]
        return PLACES_REMOTE[bits % len(PLACES_REMOTE)]

    def _done(self, customer: _Customer, day: int, *, last: bool, rich: bool, event_id: int | None) -> tuple[int, str]:
        """A visit done on `day` (perhaps after a cancelled attempt): its id and when it was recorded."""
        clock = self.clock
        bits = self.rng.getrandbits(48)
        purpose = TIMING if event_id is not None else PURPOSES[bits & 63]
        # A showcase visit was made in person, so it has a check-in to show.
        mode = ON_SITE if rich and last else MODES[(bits >> 6) & 15]
        start = SLOTS[(bits >> 10) & 15]
        end = start + DURATIONS[(bits >> 14) & 7]
        late = LATE[(bits >> 17) & 7]
        roll = (bits >> 20) & 63
        rm = customer.rm
        if customer.co_rm is not None and (bits >> 43) & 15 == 0:
            rm = customer.co_rm
        place = self._place(customer, mode, bits >> 32)
        if roll == 0:  # an attempt a few days before was called off
            cancelled = clock.before[max(0, day - 2 - (bits >> 26) % 6)]
            planned_on = clock.planned_on(cancelled)
            self.out.visits.append((self._new_visit_id(), customer.pk, rm, rm, purpose, "", mode, place, None,
                                    clock.at(cancelled, start), clock.at(cancelled, end), CANCELLED,
                                    CANCEL_REASONS[(bits >> 36) & 3], 0, None, None, None, None, EMPTY_LIST, "", "",
                                    "", NO_CHECKIN, None, None, None, None, "", "", EMPTY_LIST, "", "", "", "", "",
                                    EMPTY_LIST, "", planned_on, planned_on, 2, None))  # fmt: skip
        moved = roll == 1  # put off once, then done
        note_roll = (bits >> 26) & 63
        moments = clock.day(day)
        recorded = moments[(end + late) // 5 + 6 + 4 * ((bits >> 40) & 7)]  # 30 minutes to 2h50 after it ended
        visit_id = self._new_visit_id()
        row: Row = (visit_id, customer.pk, rm, rm, purpose, "", mode, place, event_id, moments[start // 5],
                    moments[end // 5], DONE, RESCHEDULED_REASONS[note_roll & 1] if moved else "", 1 if moved else 0,
                    moments[(start + late) // 5], moments[(end + late) // 5], clock.dates[day], recorded,
                    EMPTY_LIST, "", "", "", NO_CHECKIN, None, None, None, None, "", "", EMPTY_LIST,
                    "", "", "", SHORT_NOTES[note_roll % 12] if note_roll < 24 else "", "", EMPTY_LIST, "",
                    clock.planned_on(day), recorded, 3 if moved else 2, None)  # fmt: skip
        if last:
            row = self._record(row, customer, day, start + late, full=rich)
        self.out.visits.append(row)
        return visit_id, recorded

    def _record(self, row: Row, customer: _Customer, day: int, started: int, *, full: bool) -> Row:
        """The last visit's full record: needs, goals, operations, reaction, notes, self-check, check-in, and its
        proposals, products presented and other banks' credit. `full`: everything, for a named RM's showcase."""
        rng, random_ = self.rng, self.rng.random
        visit_id = row[0]
        tags: list[str] = []
        wanted = 3 if full else 1 + int(random_() * 3)
        for _ in range(wanted if not full else 50):  # a full record draws until it has three
            tag = NEEDS[int(random_() * len(NEEDS))]
            if tag not in tags:
                tags.append(tag)
            if len(tags) == wanted:
                break
        tags.sort(key=NEED_ORDER.__getitem__)
        amount = skewed(rng, *CREDIT_WAN.get(customer.tier, CREDIT_WAN[Tier.GENERAL])) // 100 * 100
        people = 50 + int(random_() * 950)
        details = "".join(NEED_DETAILS[tag].format(amount=amount, people=people) for tag in tags)
        checks = list(SELF_CHECK_ORDER)
        check_note = ""
        if full or random_() < 0.3:
            missed = pick(rng, tuple(SELF_CHECK_NOTES))
            checks.remove(missed)
            check_note = SELF_CHECK_NOTES[missed]
        checkin: tuple[Any, ...] = (NO_CHECKIN, None, None, None, None)
        if row[6] != VisitMode.REMOTE and self.clock.today - day <= CHECKIN_DAYS and customer.region in CITY_CENTRES:
            roll = random_()
            if full or roll < 0.75:
                latitude, longitude = CITY_CENTRES[customer.region]
                latitude += int((random_() - 0.5) * 60_000)
                longitude += int((random_() - 0.5) * 60_000)
                checkin = (CheckinStatus.LOCATED.value, self.clock.at(day, started - 5), _degrees(latitude),
                           _degrees(longitude), 8 + int(random_() * 70))  # fmt: skip
            elif roll < 0.85:
                checkin = (CheckinStatus.DENIED.value, self.clock.at(day, started - 5), None, None, None)
        confidential = pick(rng, CONFIDENTIAL_NOTES) if full or random_() < 0.1 else ""
        purpose = row[4]
        record = (
            pick(rng, PURPOSE_DETAILS[purpose]),
            *row[6:18],
            PREP_FULL,
            pick(rng, STRATEGIES) if full else "",
            pick(rng, MATERIALS) if full else "",
            "",
            *checkin,
            pick(rng, GOALS_SHORT),
            pick(rng, GOALS_LONG),
            json_list(tags),
            details,
            pick(rng, OPERATIONS).format(people=people),
            pick(rng, REACTIONS),
            pick(rng, RICH_NOTES),
            confidential,
            json_list(checks),
            check_note,
        )
        # Products in the order presented: what the customer asked about first.
        products = [product for tag in tags for product in PRODUCTS[tag][:1]]
        for position, product in enumerate(products[: 3 if full else 1 + int(random_() * 2)], start=1):
            interest = INTERESTS[int(random_() * len(INTERESTS))]
            self.out.products.append((visit_id, position, product, interest, pick(rng, PRODUCT_NOTES)))
        if full or random_() < 0.5:
            offered = [PROPOSALS[tag] for tag in tags if tag in PROPOSALS] or [GENERAL_PROPOSAL]
            for position, content in enumerate(offered[: 2 if full else 1], start=1):
                response = RESPONSES[int(random_() * len(RESPONSES))]
                if full:  # the showcase: one countered, one still considered
                    response = (COUNTERED, PENDING)[(position - 1) % 2]
                counter = pick(rng, COUNTER_OFFERS) if response == COUNTERED else ""
                self.out.proposals.append((visit_id, position, content.format(amount=amount), response, counter))
        if full or random_() < 0.4:
            for n in range(2 if full else 1 + int(random_() * 2)):
                lent = skewed(rng, *CREDIT_WAN.get(customer.tier, CREDIT_WAN[Tier.GENERAL]))
                satisfaction = SATISFACTION[int(random_() * len(SATISFACTION))]
                if full and n == 0:
                    satisfaction = "dissatisfied"
                self.out.other_banks.append((visit_id, pick(rng, OTHER_BANKS), pick(rng, FACILITIES),
                                             f"{lent * 10_000}.00", satisfaction))  # fmt: skip
        return (*row[:5], *record, *row[37:])

    def _planned(
        self, customer: _Customer, day: int, minute: int, status: str, *, event_id: int | None, showcase: bool
    ) -> int:
        """A visit planned for `day` (postponed: it was, and waits for a new time), with its task and attendees."""
        clock, rng, stamp = self.clock, self.rng, self.stamp
        bits = rng.getrandbits(32)
        purpose = TIMING if event_id is not None else PURPOSES[bits & 63]
        mode = ON_SITE if showcase or (bits >> 6) & 3 else AT_BANK
        end = minute + DURATIONS[(bits >> 14) & 7]
        # The checklist is worked through in order as the day comes closer.
        ticked = PREP_ORDER[: 6 if showcase and day < clock.today else 2 + (bits >> 17) % 5]
        postponed = status == POSTPONED
        planned_on = clock.planned_on(day)
        visit_id = self._new_visit_id()
        self.out.visits.append((visit_id, customer.pk, customer.rm, customer.rm, purpose,
                                pick(rng, PURPOSE_DETAILS[purpose]), mode, self._place(customer, mode, bits >> 20),
                                event_id, clock.at(day, minute), clock.at(day, end), status,
                                pick(rng, POSTPONE_REASONS) if postponed else "", 1 if postponed else 0, None, None,
                                None, None, json_list(ticked), pick(rng, STRATEGIES), pick(rng, MATERIALS), "",
                                NO_CHECKIN, None, None, None, None, "", "", EMPTY_LIST, "", "", "", "", "",
                                EMPTY_LIST, "", planned_on, planned_on, 2 if postponed else 1, None))  # fmt: skip
        # A postponed visit's task was cancelled with it (visits.services.postpone_visit).
        self.out.tasks.append((TaskKind.VISIT.value, f"拜访{customer.name}：{PURPOSE_WORDS[purpose]}", customer.pk,
                               customer.rm, clock.dates[day], CANCELLED_TASK if postponed else OPEN_TASK,
                               Priority.NORMAL.value, None, stamp, stamp, VISIT_SOURCE, str(visit_id)))  # fmt: skip
        self.out.contacts.append(Contact(visit_id, customer.pk, 2 if showcase else 1 + (bits >> 25) % 2))
        return visit_id


def _degrees(millionths: int) -> str:
    """Millionths of a degree as the decimal text of a coordinate column: 30274100 → "30.274100"."""
    sign = "-" if millionths < 0 else ""
    whole, part = divmod(abs(millionths), 1_000_000)
    return f"{sign}{whole}.{part:06d}"


def choose_attendees(candidates: Sequence[tuple[int, str]], count: int) -> list[int]:
    """`count` of a customer's key persons (id, role) to attend, by ATTENDING_ROLES, the oldest file first."""
    rank = {role.value: n for n, role in enumerate(ATTENDING_ROLES)}
    ordered = sorted(candidates, key=lambda person: (rank.get(person[1], len(rank)), person[0]))
    return [pk for pk, _role in ordered[:count]]
