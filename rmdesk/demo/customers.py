"""The customer book as row tuples: customers, their key persons, financial statements and co-RMs, tasks.

A chunk draws from its own random stream, so the rows depend only on the seed and the chunk (and on the
names and codes earlier chunks took, which is why chunks are made in order).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any

from rmdesk.core.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    id_number_check_char,
    organisation_code_check_char,
)
from rmdesk.customers.choices import DecisionRole, LifecycleStatus, Ownership
from rmdesk.demo import names
from rmdesk.demo.links import Links
from rmdesk.demo.org import SHARED_BOOKS, Rm, books
from rmdesk.demo.prospects import SHOW_STATUS, ChunkDevelopment, DevelopmentPlan, plan_showcase
from rmdesk.demo.vocabulary import (
    ASSETS_WAN,
    BIRTH_YEARS,
    BIRTHPLACES_OUTSIDE,
    BIRTHPLACES_ZHEJIANG,
    CAPITAL_WAN,
    DISTRICTS,
    DIVISIONS,
    ELSEWHERE,
    FEN_PER_WAN,
    OTHER_ZHEJIANG,
    OWNERSHIPS,
    PREFERENCE_CHANCE,
    PRIORITIES,
    SIZES,
    STATEMENT_YEARS,
    STATUSES,
    TASK_TEMPLATES,
    TIERS,
    YOUNG_DIVISIONS,
    K,
    Weights,
    cities,
    clamp,
    pick,
    scale,
    skewed,
    wan,
    yuan,
)
from rmdesk.demo.writer import Row
from rmdesk.tasks.choices import TaskStatus

# The order of the values in each kind of row.
CUSTOMER_FIELDS = (
    "id",
    "name",
    "credit_code",
    "legal_representative",
    "registered_capital",
    "established_on",
    "industry",
    "region",
    "size",
    "ownership",
    "credit_rating",
    "tier",
    "status",
    "owning_unit_id",
    "primary_rm_id",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
)
CO_RM_FIELDS = ("customer_id", "user_id", "since", "customer_unit_id")
KEY_PERSON_FIELDS = (
    "customer_id",
    "role",
    "name",
    "title",
    "decision_role",
    "phone",
    "id_number",
    "preferences",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
)
STATEMENT_FIELDS = (
    "customer_id",
    "year",
    "total_assets",
    "total_liabilities",
    "revenue",
    "net_profit",
    "operating_cash_flow",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
)
TASK_FIELDS = ("kind", "title", "customer_id", "owner_id", "due_date", "status", "priority", "completed_at",
               "created_at", "updated_at", "source_type", "source_id")  # fmt: skip
# Where a customer row says who holds it: a pool prospect's row names its pool's unit and no RM.
OWNING_UNIT, PRIMARY_RM = CUSTOMER_FIELDS.index("owning_unit_id"), CUSTOMER_FIELDS.index("primary_rm_id")

CO_RM_SHARE = 0.08
OPEN_TASKS_PER_RM = 8
TASK_CANDIDATES_PER_RM = 24

LOST, PROSPECT, TARGET = LifecycleStatus.LOST.value, LifecycleStatus.PROSPECT.value, LifecycleStatus.TARGET.value
FOUNDED_FROM = {True: date(2000, 1, 1).toordinal(), False: date(1985, 1, 1).toordinal()}  # tech firm or not
FOUNDED_UNTIL = date(2023, 12, 31).toordinal()


@dataclass(slots=True)
class Firm:
    """What the links (and search keys) need of a customer just generated."""

    pk: int
    name: str
    credit_code: str
    legal_representative: str
    size: str
    status: str
    region: str
    branch: str  # its primary RM's branch
    units: tuple[int, ...] = ()  # whose heads see it: the owning unit, then its co-RM's team
    named: bool = False  # a named RM's customer


@dataclass
class Chunk:
    """The rows of one chunk of customers, table by table."""

    firms: list[Firm] = field(default_factory=list)
    customers: list[Row] = field(default_factory=list)
    co_rms: list[Row] = field(default_factory=list)
    key_persons: list[Row] = field(default_factory=list)
    statements: list[Row] = field(default_factory=list)
    relationships: list[Row] = field(default_factory=list)
    prospects: list[Row] = field(default_factory=list)  # prospects.PROSPECT_FIELDS
    stage_changes: list[Row] = field(default_factory=list)
    claims: list[Row] = field(default_factory=list)
    ratings: list[Row] = field(default_factory=list)


# --- identifiers --------------------------------------------------------------------------------------

_CODE_PAIRS = tuple(a + b for a in CREDIT_CODE_ALPHABET for b in CREDIT_CODE_ALPHABET)


def credit_code(rng: random.Random, district: str) -> str:
    """A valid enterprise credit code (prefix 91) registered in `district`; check characters by the validators."""
    random_, pairs = rng.random, _CODE_PAIRS
    body = "".join(pairs[int(random_() * len(pairs))] for _ in range(4))
    first17 = f"91{district}{body}{organisation_code_check_char(body)}"
    return first17 + credit_code_check_char(first17)


@functools.cache
def _birth_dates(first_year: int, last_year: int) -> tuple[str, ...]:
    start = date(first_year, 1, 1).toordinal()
    end = min(date(last_year, 12, 31), date.today()).toordinal()
    return tuple(f"{date.fromordinal(day):%Y%m%d}" for day in range(start, end + 1))


def id_number(rng: random.Random, birth_years: tuple[int, int], region: str) -> str:
    """A valid resident ID number born within `birth_years` in `region` (sequence 000 is never issued)."""
    first17 = f"{region}{pick(rng, _birth_dates(*birth_years))}{1 + int(rng.random() * 999):03d}"
    return first17 + id_number_check_char(first17)


def mobile(rng: random.Random) -> str:
    """A valid mainland mobile number: 1[3-9] and nine digits."""
    return f"1{pick(rng, '3456789')}{int(rng.random() * 1_000_000_000):09d}"


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


# --- the book -----------------------------------------------------------------------------------------


class Book:
    """The customer book being generated: who owns which customer, and the names and codes taken so far."""

    def __init__(
        self,
        *,
        seed: int,
        rms: list[Rm],
        customers: int,
        first_id: int,
        first_relationship_id: int,
        first_prospect_id: int,
        ratings: Weights[str],
        stamp: Any,
        today: str,
        development: DevelopmentPlan,
    ) -> None:
        self.seed, self.rms, self.first_id = seed, rms, first_id
        # The loader numbers relationships and prospects itself: a prospect names the link that led to it.
        self.next_relationship_id, self.next_prospect_id = first_relationship_id, first_prospect_id
        self.development = development
        # Each customer's primary RM (an index into rms), by position in the book.
        dealing = self.rng("owners")
        self.owners = [n for n, book in enumerate(books(rms, customers, dealing)) for _ in range(book)]
        dealing.shuffle(self.owners)
        self.ratings, self.stamp, self.today = ratings, stamp, today
        self.company_names = names.CompanyNames()
        self.credit_codes: set[str] = set()
        # A few of each RM's own customers, for the tasks made after the last chunk.
        self.task_candidates: list[list[int]] = [[] for _ in rms]
        branch_rms: dict[str, list[Rm]] = {}
        for rm in rms:
            branch_rms.setdefault(rm.branch, []).append(rm)
        # Co-RMs come from another team of the same branch, never from another branch.
        self.colleagues = {
            rm.team: tuple(other.user_id for other in branch_rms[rm.branch] if other.team != rm.team) for rm in rms
        }
        self.shared = self._shared_books()
        self.unit_of = {rm.user_id: rm.unit_id for rm in rms}
        team_rms: dict[str, list[int]] = {}
        for rm in rms:
            team_rms.setdefault(rm.team, []).append(rm.user_id)
        self.teammates = {team: tuple(members) for team, members in team_rms.items()}
        self.showcase = plan_showcase(rms, self.owners, self.shared)
        self.development_tasks: list[Row] = []  # first contacts owed on claimed prospects, made with the chunks

    def rng(self, purpose: str) -> random.Random:
        # One stream per purpose and chunk: adding a draw to one part does not reshuffle all the others.
        return random.Random(f"rmdesk-demo:{self.seed}:{purpose}")

    def _shared_books(self) -> dict[int, int]:
        """Positions of the named RMs' customers their neighbour works as co-RM, and that neighbour."""
        index = {rm.username: n for n, rm in enumerate(self.rms)}
        shared: dict[int, int] = {}
        for primary, co_rm, wanted in SHARED_BOOKS:
            if primary in index and co_rm in index:
                mine = (position for position, owner in enumerate(self.owners) if owner == index[primary])
                for position in islice(mine, wanted):
                    shared[position] = self.rms[index[co_rm]].user_id
        return shared

    def chunk(self, index: int, start: int, count: int) -> Chunk:
        """Customers start … start + count − 1 of the book, with everything that hangs off them."""
        rng = self.rng(f"chunk:{index}")
        chunk = Chunk()
        # Development draws from a stream of its own, so the rest of the book stays as it was without it.
        development = ChunkDevelopment(self, self.rng(f"development:{index}"))
        for position in range(start, start + count):
            rm = self.rms[self.owners[position]]
            show = self.showcase.get(position)
            firm, ownership = self._customer(
                rng, chunk, self.first_id + position, rm, status=SHOW_STATUS[show] if show else None
            )
            firm.named = rm.named
            pool_unit = development.place(position, firm, rm)
            co_rm = self.shared.get(position)
            if co_rm is None and rng.random() < CO_RM_SHARE and self.colleagues[rm.team]:
                co_rm = pick(rng, self.colleagues[rm.team])
            if pool_unit is not None:
                # Waiting in a pool: no RM, so no co-RM either, and none of the RM's tasks.
                row = chunk.customers[-1]
                chunk.customers[-1] = (*row[:OWNING_UNIT], pool_unit, None, *row[PRIMARY_RM + 1 :])
                firm.units = (pool_unit,)
            elif co_rm is None:
                firm.units = (rm.unit_id,)
            else:
                # The link holds its customer's owning unit (the RM's): the loader writes it, as the triggers that
                # otherwise fill it in would look the customer up before its index exists.
                chunk.co_rms.append((firm.pk, co_rm, self.today, rm.unit_id))
                firm.units = (rm.unit_id, self.unit_of[co_rm])
            self._key_persons(rng, chunk, firm, ownership)
            self._statements(rng, chunk, firm)
            candidates = self.task_candidates[self.owners[position]]
            if len(candidates) < TASK_CANDIDATES_PER_RM and firm.status != LOST and pool_unit is None:
                candidates.append(firm.pk)
        links = Links(self, rng, chunk.firms, first_chunk=index == 0)
        chunk.relationships = links.build()
        files = development.build(links)  # after the links: sources 10–12 add the link that led to the prospect
        chunk.prospects, chunk.stage_changes, chunk.claims, chunk.ratings = (
            files.prospects, files.stage_changes, files.claims, files.ratings)  # fmt: skip
        self.development_tasks += files.tasks
        return chunk

    def new_relationship_id(self) -> int:
        self.next_relationship_id += 1
        return self.next_relationship_id - 1

    def new_prospect_id(self) -> int:
        self.next_prospect_id += 1
        return self.next_prospect_id - 1

    # --- names and codes, unique across the bank ---

    def new_credit_code(self, rng: random.Random, region: str) -> str:
        districts = DISTRICTS.get(region)
        district = pick(rng, districts) if districts else region
        while (code := credit_code(rng, district)) in self.credit_codes:
            pass
        self.credit_codes.add(code)
        return code

    def new_company_name(self, rng: random.Random, region: str, division: str, size: str) -> str:
        city = cities()[region]
        return self.company_names.company(rng, place=city.place, division=division, size=size, province=city.province)

    # --- rows ---

    def _customer(
        self, rng: random.Random, chunk: Chunk, pk: int, rm: Rm, *, status: str | None = None
    ) -> tuple[Firm, str]:
        """The customer's row; `status` given or drawn."""
        random_ = rng.random
        roll = random_()
        region = rm.city if roll < 0.80 else pick(rng, OTHER_ZHEJIANG if roll < 0.92 else ELSEWHERE)
        size = SIZES.draw(rng)
        division = DIVISIONS.draw(rng)
        drawn = STATUSES.draw(rng)
        status = status or drawn
        # Prospects are often not rated yet.
        unrated = status in (PROSPECT, TARGET) and random_() < 0.5
        first_day = FOUNDED_FROM[division in YOUNG_DIVISIONS]
        established = date.fromordinal(first_day + int(random_() * (FOUNDED_UNTIL - first_day + 1))).isoformat()
        firm = Firm(
            pk=pk,
            name=self.new_company_name(rng, region, division, size),
            credit_code=self.new_credit_code(rng, region),
            legal_representative=names.person_name(rng),
            size=size,
            status=status,
            region=region,
            branch=rm.branch,
        )
        ownership = OWNERSHIPS.draw(rng)
        chunk.firms.append(firm)
        chunk.customers.append(
            (
                pk,
                firm.name,
                firm.credit_code,
                firm.legal_representative,
                wan(rng, CAPITAL_WAN[size]),
                established,
                division,
                region,
                size,
                ownership,
                "" if unrated else self.ratings.draw(rng),
                TIERS[size].draw(rng),
                status,
                rm.unit_id,
                rm.user_id,
                self.stamp,
                self.stamp,
                1,
                None,
            )
        )
        return firm, ownership

    def _key_persons(self, rng: random.Random, chunk: Chunk, firm: Firm, ownership: str) -> None:
        """2–4 people: always the legal representative, usually a finance head, sometimes others."""
        random_ = rng.random
        roles = [K.LEGAL_REPRESENTATIVE]
        if random_() < 0.85:
            roles.append(K.FINANCE_HEAD)
        if ownership == Ownership.PRIVATE and random_() < 0.3:
            roles.append(K.ACTUAL_CONTROLLER)
        if random_() < 0.4:
            roles.append(K.FINANCE_STAFF)
        if random_() < 0.3:
            roles.append(K.DECISION_MAKER)
        roles = roles[:4]
        if len(roles) < 2:
            roles.append(K.FINANCE_HEAD)
        for role in roles:
            if role == K.LEGAL_REPRESENTATIVE:
                name = firm.legal_representative
                # Where an actual controller chairs the board, the legal representative runs the firm.
                title = "总经理" if K.ACTUAL_CONTROLLER in roles else names.job_title(rng, role, firm.size)
            else:
                name = names.person_name(rng)
                title = names.job_title(rng, role, firm.size)
            chunk.key_persons.append(
                (
                    firm.pk,
                    role.value,
                    name,
                    title,
                    _decision_role(rng, role),
                    mobile(rng),
                    id_number(rng, BIRTH_YEARS[role], _birthplace(rng, firm.region)),
                    names.preferences(rng) if random_() < PREFERENCE_CHANCE[role] else "",
                    self.stamp,
                    self.stamp,
                    1,
                    None,
                )
            )

    def _statements(self, rng: random.Random, chunk: Chunk, firm: Firm) -> None:
        """Three consistent years: assets by size, then debt, turnover and margin drifting a little."""
        years: tuple[int, ...] = STATEMENT_YEARS
        if firm.status == LOST:
            years = STATEMENT_YEARS[:2]  # nothing filed after it left
        elif firm.status in (PROSPECT, TARGET):
            years = STATEMENT_YEARS[len(STATEMENT_YEARS) - _between(rng, 0, len(STATEMENT_YEARS)) :]
        assets = skewed(rng, *ASSETS_WAN[firm.size]) * FEN_PER_WAN + int(rng.random() * FEN_PER_WAN)
        debt_bp = _between(rng, 3_000, 8_500)  # basis points of assets: 资产负债率 30%–85%
        turnover_bp = _between(rng, 3_000, 20_000)  # revenue 0.3–2× assets
        margin_bp = _between(rng, -500, 1_500)  # net margin −5%…15%
        for n, year in enumerate(STATEMENT_YEARS):
            if n:
                assets = scale(assets, 10_000 + _between(rng, -800, 2_000), 10_000)
                debt_bp = clamp(debt_bp + _between(rng, -300, 300), 3_000, 8_500)
                turnover_bp = clamp(turnover_bp + _between(rng, -1_000, 1_000), 3_000, 20_000)
                margin_bp = clamp(margin_bp + _between(rng, -300, 300), -500, 1_500)
            revenue = scale(assets, turnover_bp, 10_000)
            net_profit = scale(revenue, margin_bp, 10_000)
            # Cash from operations tracks profit, off by working-capital swings of a few % of revenue.
            cash_flow = net_profit + scale(revenue, _between(rng, -400, 400), 10_000)
            if year in years:
                chunk.statements.append(
                    (
                        firm.pk,
                        year,
                        yuan(assets),
                        yuan(scale(assets, debt_bp, 10_000)),
                        yuan(revenue),
                        yuan(net_profit),
                        yuan(cash_flow),
                        self.stamp,
                        self.stamp,
                        1,
                        None,
                    )
                )

    # --- tasks ---

    def tasks(self, today: date) -> list[Row]:
        """About eight open tasks per RM on their own customers, due from ten days ago to twenty ahead."""
        rng = self.rng("tasks")
        open_, done = TaskStatus.OPEN.value, TaskStatus.DONE.value
        rows: list[Row] = []
        for rm, candidates in zip(self.rms, self.task_candidates, strict=True):
            if not candidates:
                continue
            # One task due today, so the RM's "today" list always has something on it.
            offsets = [0, *(_between(rng, -10, 20) for _ in range(OPEN_TASKS_PER_RM - 1))]
            for offset in offsets:
                kind, title = pick(rng, TASK_TEMPLATES)
                due = (today + timedelta(days=offset)).isoformat()
                rows.append((kind, title, pick(rng, candidates), rm.user_id, due, open_, PRIORITIES.draw(rng), None,
                             self.stamp, self.stamp, "", ""))  # fmt: skip
            for _ in range(_between(rng, 2, 4)):
                kind, title = pick(rng, TASK_TEMPLATES)
                due = (today - timedelta(days=_between(rng, 1, 30))).isoformat()
                rows.append((kind, title, pick(rng, candidates), rm.user_id, due, done, PRIORITIES.draw(rng),
                             self.stamp, self.stamp, self.stamp, "", ""))  # fmt: skip
        return rows + self.development_tasks


def _decision_role(rng: random.Random, role: str) -> str:
    if role in (K.LEGAL_REPRESENTATIVE, K.ACTUAL_CONTROLLER):
        return DecisionRole.DECIDER.value
    if role == K.FINANCE_STAFF:
        return DecisionRole.EXECUTOR.value if rng.random() < 0.5 else DecisionRole.GATEKEEPER.value
    return DecisionRole.INFLUENCER.value


def _birthplace(rng: random.Random, region: str) -> str:
    if rng.random() < 0.3:
        return pick(rng, BIRTHPLACES_OUTSIDE)
    return pick(rng, DISTRICTS.get(region, BIRTHPLACES_ZHEJIANG))
