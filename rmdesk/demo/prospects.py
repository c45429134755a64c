"""Customer development in the demo bank: each prospect's file, its pipeline history, the pools and claims.

Every prospect and target gets a development file: its source (10–12 naming a current customer of the chunk
and the relationship that led there), who found it and when, its stage and the stage changes that led there.
Some current customers were won through the pipeline in the last two years, and some prospects were dropped,
so the funnel has conversions and times to convert. About a tenth of the prospects wait unassigned in a
team's, sub-branch's or branch's pool; some held ones were claimed from it and owe a first contact, a few of
them past the deadline. Everything is dated from today backwards (a deadline may lie ahead), drawn from the
chunk's own random stream. Whatever the bank's size, each named RM holds a prospect in every open stage, one
past its first-contact deadline, and finds prospects in their team's pool (SHOWCASE).
"""

from __future__ import annotations

import enum
import functools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rmdesk.core.workdays import add_working_days
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.demo.vocabulary import (
    DROP_REASONS,
    DROPPED_AFTER,
    FUNNELS,
    OWN_SOURCES,
    REFERRAL_DETAILS,
    REFERRAL_KINDS,
    RM_RATED_REASONS,
    SOURCE_DETAILS,
    SOURCES,
    STAGE_NOTES,
    WON_CONTRACTS,
    cities,
    pick,
)
from rmdesk.demo.writer import Row
from rmdesk.development.choices import OPEN_STAGES, ClaimStatus, RatingOrigin, Stage
from rmdesk.development.pool import PROSPECT_SOURCE
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus

if TYPE_CHECKING:
    from rmdesk.demo.customers import Book, Firm
    from rmdesk.demo.links import Links
    from rmdesk.demo.org import Rm

PROSPECT_FIELDS = ("id", "customer_id", "source", "source_detail", "found_by_id", "found_on", "referring_customer_id",
                   "referring_relationship_id", "stage", "stage_changed_at", "drop_reason", "won_evidence",
                   "claimed_at", "contact_due", "created_at", "updated_at", "version")  # fmt: skip
STAGE_CHANGE_FIELDS = ("prospect_id", "from_stage", "to_stage", "changed_at", "changed_by_id", "note")
CLAIM_FIELDS = ("prospect_id", "rm_id", "status", "decided_at", "created_at", "updated_at")
ITEM_RATING_FIELDS = ("prospect_id", "characteristic", "rating", "reason", "origin", "rated_by_id", "rated_at")

# Pool rules of the demo: the first branch's team leads approve claims; the others take them at once.
POOL_RULES = (("BR1", True, 10), ("BR2", False, 15), ("BR3", False, 7))  # branch, approval, working days
DEFAULT_CONTACT_DAYS = 10  # a unit without a rule: PoolRule's default

CUSTOMER, PROSPECT, TARGET = (LifecycleStatus.CUSTOMER.value, LifecycleStatus.PROSPECT.value,
                              LifecycleStatus.TARGET.value)  # fmt: skip
IDENTIFIED, CONTACTED, VISITED, PROPOSAL = (stage.value for stage in OPEN_STAGES)
WON, DROPPED = Stage.WON.value, Stage.DROPPED.value
POOL_SHARE = 0.10  # of prospects and targets, waiting unassigned
POOL_LEVELS = ((0, 60), (1, 25), (2, 15))  # team, sub-branch, branch, in percent
CLAIMED_SHARE = 0.4  # of held prospects at 识别: taken from a pool, so they owe a first contact
PENDING_SHARE = 0.15  # of pool prospects where claims need approval: an RM has applied
WON_SHARE = 0.12  # of current customers: won through the pipeline in the last two years
TEAMMATE_FOUND = 0.15  # a held prospect found by a teammate of its RM
MAX_AGE_DAYS = 730  # found within the last two years
ACCOUNT_SHARE = 0.7  # won by opening an account (else by a signed contract)


class Show(enum.Enum):
    """What a named RM's customer is made to show, in the order they are handed out."""

    OVERDUE = "claimed, first contact overdue"
    POOL_TEAM = "in the team's pool"
    CONTACTED = CONTACTED
    VISITED = VISITED
    PROPOSAL = PROPOSAL
    DUE_LATER = "claimed, first contact due"
    POOL_SUB_BRANCH = "in the sub-branch's pool"


SHOWCASE = tuple(Show)
POOL_SHOWS = frozenset({Show.POOL_TEAM, Show.POOL_SUB_BRANCH})
# Showcase customers are prospects, or targets when far along; nobody's book becomes all prospects.
SHOW_STATUS = {show: TARGET if show in (Show.VISITED, Show.PROPOSAL) else PROSPECT for show in Show}
# Named RMs who have applied for the prospect in their team's pool (where claims need approval): the team
# lead has a claim to decide. rm_zhang's is left for whoever logs in as rm_zhang to claim.
PENDING_CLAIMERS = frozenset({"rm_li", "rm_wang"})


@dataclass(frozen=True)
class DevelopmentPlan:
    """What the development rows need besides the book: the units, the pool rules, the clock."""

    unit_ids: dict[str, int]  # org unit code → id
    contact_days: dict[str, int]  # branch code → working days to first contact
    approval_branches: frozenset[str]
    today: date
    zone: str  # the bank's time zone: stage changes happen in office hours there
    text_times: bool  # SQLite takes timestamps as naive UTC text, PostgreSQL as aware datetimes

    @classmethod
    def for_units(cls, unit_ids: dict[str, int], *, today: date, zone: str, text_times: bool) -> DevelopmentPlan:
        rules = [(branch, approval, days) for branch, approval, days in POOL_RULES if branch in unit_ids]
        return cls(
            unit_ids=unit_ids,
            contact_days={branch: days for branch, _approval, days in rules},
            approval_branches=frozenset(branch for branch, approval, _days in rules if approval),
            today=today,
            zone=zone,
            text_times=text_times,
        )


def plan_showcase(rms: Sequence[Rm], owners: Sequence[int], shared: dict[int, int]) -> dict[int, Show]:
    """Positions of the named RMs' customers that show each part of development, and what each shows.

    At most half an RM's book, so even a tiny bank leaves them current customers; a pool prospect never
    comes from a customer shared with a co-RM (a pool prospect has no RM at all).
    """
    named = {n for n, rm in enumerate(rms) if rm.named}
    positions: dict[int, list[int]] = {n: [] for n in named}
    for position, owner in enumerate(owners):
        if owner in named:
            positions[owner].append(position)
    plan: dict[int, Show] = {}
    for mine in positions.values():
        used: set[int] = set()
        for show in SHOWCASE:
            if len(used) >= len(mine) // 2:
                break
            pool = show in POOL_SHOWS
            chosen = next((p for p in mine if p not in used and not (pool and p in shared)), None)
            if chosen is not None:
                used.add(chosen)
                plan[chosen] = show
    return plan


@dataclass
class DevelopmentRows:
    prospects: list[Row] = field(default_factory=list)
    stage_changes: list[Row] = field(default_factory=list)
    claims: list[Row] = field(default_factory=list)
    ratings: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)  # customers.TASK_FIELDS: first contacts owed


@dataclass(slots=True)
class _Entry:
    firm: Firm
    rm: Rm
    show: Show | None
    pool_unit: int | None  # the unit whose pool it waits in


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


@functools.cache
def _contact_due(claimed_on: date, days: int) -> date:
    return add_working_days(claimed_on, days)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class ChunkDevelopment:
    """The development files of one chunk's customers: placed one by one as made, written after the links."""

    def __init__(self, book: Book, rng: random.Random) -> None:
        self.book, self.rng = book, rng
        self.plan: DevelopmentPlan = book.development
        self.entries: list[_Entry] = []
        self.referrers: dict[str, list[Firm]] = {}  # current customers by branch: who can lead to a prospect

    # --- placing -------------------------------------------------------------------------------------

    def place(self, position: int, firm: Firm, rm: Rm) -> int | None:
        """Note the customer just made; returns the unit whose pool it waits in, or None (its RM holds it)."""
        rng = self.rng
        show = self.book.showcase.get(position)
        if firm.status == CUSTOMER:
            self.referrers.setdefault(firm.branch, []).append(firm)
            if rng.random() < WON_SHARE:
                self.entries.append(_Entry(firm, rm, None, None))
            return None
        if firm.status not in (PROSPECT, TARGET):
            return None
        pool_unit = None
        if show in POOL_SHOWS:
            pool_unit = self._pool_unit(rm, 0 if show is Show.POOL_TEAM else 1)
        elif show is None and position not in self.book.shared and rng.random() < POOL_SHARE:
            roll, level = int(rng.random() * 100), 0
            for level, share in POOL_LEVELS:  # noqa: B007 — the level the roll falls in
                if roll < share:
                    break
                roll -= share
            pool_unit = self._pool_unit(rm, level)
        self.entries.append(_Entry(firm, rm, show, pool_unit))
        return pool_unit

    def _pool_unit(self, rm: Rm, level: int) -> int:
        """The RM's team (0), sub-branch (1) or branch (2): a pool the RM may claim from."""
        code = rm.team
        for _ in range(level):
            code = code.rsplit("-", 1)[0]
        return self.plan.unit_ids[code]

    # --- the files -----------------------------------------------------------------------------------

    def build(self, links: Links) -> DevelopmentRows:
        rows = DevelopmentRows()
        for entry in self.entries:
            self._file(rows, links, entry)
        return rows

    def _file(self, rows: DevelopmentRows, links: Links, entry: _Entry) -> None:
        rng, firm, rm = self.rng, entry.firm, entry.rm
        path = self._path(entry)
        stage = path[-1] if path else IDENTIFIED
        # Days between the stages entered: a few days to weeks; found within two years, mostly recently.
        gaps = [_between(rng, 5, 60) if stage == WON else _between(rng, 3, 45) for _ in path]
        span = sum(gaps)
        recent = rng.random()
        found_ago = 1 + int(recent * recent * max(0, MAX_AGE_DAYS - 1 - span)) + span
        pk = self.book.new_prospect_id()
        found_by = rm.user_id
        if entry.pool_unit is None and rng.random() < TEAMMATE_FOUND:
            found_by = pick(rng, self.book.teammates[rm.team])
        claim = self._claim(entry) if stage == IDENTIFIED and entry.pool_unit is None else None
        if claim is not None:
            found_ago = max(found_ago, claim[0] + 1)  # found before it was claimed
        source, detail, referrer, relationship = self._source(links, firm)
        stage_changed_at, visited_at = self._history(rows, pk, rm, found_ago, found_by, zip(gaps, path, strict=True))

        claimed_at = contact_due = None
        if claim is not None:
            claimed_at, contact_due = self._moment(claim[0]), claim[1].isoformat()
            rows.claims.append((pk, rm.user_id, ClaimStatus.APPROVED.value, claimed_at, claimed_at, claimed_at))
            rows.tasks.append((TaskKind.FIRST_CONTACT.value, f"首次联系{firm.name}", firm.pk, rm.user_id, contact_due,
                               TaskStatus.OPEN.value, Priority.HIGH.value, None, self.book.stamp, self.book.stamp,
                               PROSPECT_SOURCE, str(pk)))  # fmt: skip
        elif entry.pool_unit is not None and self._applied_for(entry):
            # An RM of the pool's unit has applied; the team lead has yet to decide.
            applied = self._moment(min(found_ago, _between(rng, 1, 3)))
            rows.claims.append((pk, rm.user_id, ClaimStatus.PENDING.value, None, applied, applied))

        rows.prospects.append(
            (
                pk,
                firm.pk,
                source,
                detail,
                found_by,
                (self.plan.today - timedelta(days=found_ago)).isoformat(),
                referrer.pk if referrer else None,
                relationship,
                stage,
                stage_changed_at,
                pick(rng, DROP_REASONS) if stage == DROPPED else "",
                self._won_evidence(firm) if stage == WON else "",
                claimed_at,
                contact_due,
                self.book.stamp,
                self.book.stamp,
                1,
            )
        )
        if stage in (VISITED, PROPOSAL):
            self._ratings(rows, pk, rm, visited_at)

    def _claim(self, entry: _Entry) -> tuple[int, date] | None:
        """For a held prospect at 识别 taken from a pool: days since the claim, and the first-contact deadline."""
        show = entry.show
        if show is Show.OVERDUE:
            claimed_ago = 20
        elif show is Show.DUE_LATER:
            claimed_ago = 1
        elif show is None and self.rng.random() < CLAIMED_SHARE:
            claimed_ago = _between(self.rng, 1, 28)
        else:
            return None
        days = self.plan.contact_days.get(entry.rm.branch, DEFAULT_CONTACT_DAYS)
        due = _contact_due(self.plan.today - timedelta(days=claimed_ago), days)
        while show is Show.OVERDUE and due >= self.plan.today:  # a long holiday moved the deadline on
            claimed_ago += 7
            due = _contact_due(self.plan.today - timedelta(days=claimed_ago), days)
        return claimed_ago, due

    def _applied_for(self, entry: _Entry) -> bool:
        """Whether an RM has a pending claim on this pool prospect (only where claims need approval)."""
        if entry.rm.branch not in self.plan.approval_branches:
            return False
        if entry.show is Show.POOL_TEAM:
            return entry.rm.username in PENDING_CLAIMERS
        return entry.show is None and self.rng.random() < PENDING_SHARE

    def _history(
        self, rows: DevelopmentRows, pk: int, rm: Rm, found_ago: int, found_by: int, steps: Iterable[tuple[int, str]]
    ) -> tuple[Any, Any]:
        """The stage changes from its entry at 识别 on: when the last one was, and when it was visited."""
        rng = self.rng
        ago, changed_at = found_ago, self._moment(found_ago)
        rows.stage_changes.append((pk, "", IDENTIFIED, changed_at, found_by, ""))
        visited_at, previous = changed_at, IDENTIFIED
        for gap, entered in steps:
            ago -= gap
            changed_at = self._moment(ago)
            notes = STAGE_NOTES.get(entered)
            note = pick(rng, notes) if notes and rng.random() < 0.6 else ""
            rows.stage_changes.append((pk, previous, entered, changed_at, rm.user_id, note))
            if entered == VISITED:
                visited_at = changed_at
            previous = entered
        return changed_at, visited_at

    def _path(self, entry: _Entry) -> tuple[str, ...]:
        """The stages entered after 识别, in order; empty for a prospect still at 识别."""
        show = entry.show
        if entry.firm.status == CUSTOMER:
            return (CONTACTED, VISITED, PROPOSAL, WON)
        if entry.pool_unit is not None or show in (Show.OVERDUE, Show.DUE_LATER):
            return ()
        stage = show.value if show is not None else FUNNELS[entry.firm.status].draw(self.rng)
        if stage == DROPPED:
            return (*OPEN_STAGES[1 : DROPPED_AFTER.draw(self.rng) + 1], DROPPED)
        return tuple(OPEN_STAGES[1 : OPEN_STAGES.index(stage) + 1])

    def _source(self, links: Links, firm: Firm) -> tuple[int, str, Firm | None, int | None]:
        """Source, its detail, and for 10–12 the referring customer and its link to the prospect."""
        rng = self.rng
        source = SOURCES.draw(rng)
        if source in REFERRAL_KINDS:
            candidates = self.referrers.get(firm.branch, ())
            referrer = pick(rng, candidates) if candidates else None
            if referrer is not None and referrer.pk != firm.pk:
                relationship, direction = links.refer(referrer, firm, REFERRAL_KINDS[source])
                # None where the two were linked already the other way round (the customer guarantees the prospect).
                template = REFERRAL_DETAILS.get((source, direction))
                if template is not None:
                    return source, template.format(customer=referrer.name), referrer, relationship
            source = OWN_SOURCES.draw(rng)
        city = cities()[firm.region]
        year = self.plan.today.year - int(rng.random() * 2)
        detail = pick(rng, SOURCE_DETAILS[source]).format(place=city.place, province=city.province or city.place,
                                                          year=year)  # fmt: skip
        return source, detail, None, None

    def _won_evidence(self, firm: Firm) -> str:
        """An account number as the bank's core system prints it, or a signed contract's reference."""
        rng = self.rng
        if rng.random() < ACCOUNT_SHARE:
            serial = f"{int(rng.random() * 10**11):011d}"
            return f"{firm.region[:4]} {_between(rng, 100, 899):04d} {serial[:4]} {serial[4:8]} {serial[8:]}"
        year = self.plan.today.year - int(rng.random() * 2)
        return f"{pick(rng, WON_CONTRACTS)} 编号{year}{_between(rng, 1, 99999):05d}"

    def _ratings(self, rows: DevelopmentRows, pk: int, rm: Rm, rated_at: Any) -> None:
        """After the visit the RM rates two to four of the characteristics only a person can judge."""
        rng = self.rng
        items = list(RM_RATED_REASONS)
        for n in range(_between(rng, 2, 4)):
            swap = n + int(rng.random() * (len(items) - n))
            items[n], items[swap] = items[swap], items[n]
            characteristic = items[n]
            reason = pick(rng, RM_RATED_REASONS[characteristic])
            rows.ratings.append((pk, int(characteristic), _between(rng, 2, 5), reason, RatingOrigin.RM.value,
                                 rm.user_id, rated_at))  # fmt: skip

    def _moment(self, days_ago: int) -> Any:
        """A time in office hours `days_ago` days before today (never today: nothing lies in the future)."""
        day = self.plan.today - timedelta(days=max(1, days_ago))
        minutes = 9 * 60 + int(self.rng.random() * 9 * 60)
        local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=_zone(self.plan.zone))
        moment = local.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S") if self.plan.text_times else moment
