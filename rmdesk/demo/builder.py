"""The demo bank behind `rmdesk demo`: an org tree, users and a customer book generated from a seed.

The same seed gives the same rows: only timestamps and the tasks' due dates (relative to today, so the
RM's "today" list is never empty) differ between two loads. Rows are bulk-inserted past the services
for speed, so a single `demo.load` audit event records the load, in the same transaction.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate, pairwise
from typing import Generic, NamedTuple, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise

from rmdesk.audit.services import record
from rmdesk.core.identifiers import make_credit_code, make_id_number, make_mobile
from rmdesk.core.money import from_fen
from rmdesk.core.reference import regions
from rmdesk.customers.choices import (
    DecisionRole,
    Direction,
    EnterpriseSize,
    KeyPersonRole,
    LifecycleStatus,
    Ownership,
    RelationshipKind,
    Tier,
)
from rmdesk.customers.models import Customer, CustomerCoRM, FinancialStatement, KeyPerson, Relationship
from rmdesk.demo import names
from rmdesk.org.choices import Role, UnitLevel
from rmdesk.org.models import OrgUnit, User
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus
from rmdesk.tasks.models import Task

T = TypeVar("T")

DEMO_PASSWORD = "rmdesk-demo"  # noqa: S105 — published on purpose: it is printed on the demo login screen
DEFAULT_SEED = 20261128
# Customers are generated and inserted a chunk at a time so a million-customer bank never sits in memory;
# links between customers stay inside a chunk for the same reason.
CHUNK_SIZE = 1_000
BATCH_SIZE = 2_000
STATEMENT_YEARS = (2022, 2023, 2024)
YUAN_PER_WAN = 10_000
FEN_PER_WAN = 100 * YUAN_PER_WAN

Progress = Callable[[str, int, int], None]


class DemoBankError(Exception):
    """The database is not empty enough to load the demo bank into."""


# --- the bank's shape ---------------------------------------------------------------------------------


class BranchSpec(NamedTuple):
    code: str
    name: str
    city: str  # GB/T 2260 code of the city the branch serves
    sub_branches: tuple[str, str]


HEAD_OFFICE = ("HO", "总行")
DEPARTMENT = ("HO-CORP", "公司业务部")
BRANCHES = (
    BranchSpec("BR1", "杭州分行", "330100", ("西湖支行", "滨江支行")),
    BranchSpec("BR2", "宁波分行", "330200", ("海曙支行", "鄞州支行")),
    BranchSpec("BR3", "温州分行", "330300", ("鹿城支行", "瓯海支行")),
)
TEAM_NAMES = ("公司业务一组", "公司业务二组")


def sub_branch_code(branch: str, number: int) -> str:
    return f"{branch}-S{number}"


def team_code(branch: str, sub_branch: int, team: int) -> str:
    return f"{branch}-S{sub_branch}-T{team}"


def _unit_titles() -> dict[str, str]:
    """Each unit's name with its parents, as the login printout shows it (teams share names)."""
    titles = {HEAD_OFFICE[0]: HEAD_OFFICE[1], DEPARTMENT[0]: f"{HEAD_OFFICE[1]} {DEPARTMENT[1]}"}
    for branch in BRANCHES:
        titles[branch.code] = branch.name
        for s, sub_name in enumerate(branch.sub_branches, start=1):
            titles[sub_branch_code(branch.code, s)] = f"{branch.name} {sub_name}"
            for t, team_name in enumerate(TEAM_NAMES, start=1):
                titles[team_code(branch.code, s, t)] = f"{branch.name} {sub_name} {team_name}"
    return titles


UNIT_TITLES = _unit_titles()


class NamedUser(NamedTuple):
    username: str
    full_name: str
    role: str
    unit_code: str


NAMED_USERS = (
    NamedUser("rm_zhang", "张伟", Role.RM, "BR1-S1-T1"),
    NamedUser("rm_li", "李娜", Role.RM, "BR1-S1-T1"),
    NamedUser("rm_wang", "王磊", Role.RM, "BR1-S1-T2"),
    NamedUser("rm_zhao", "赵敏", Role.RM, "BR2-S1-T1"),
    NamedUser("lead_chen", "陈静", Role.TEAM_LEAD, "BR1-S1-T1"),
    NamedUser("head_liu", "刘洋", Role.BRANCH_HEAD, "BR1"),
    NamedUser("risk_sun", "孙强", Role.RISK_OFFICER, "HO"),
    NamedUser("audit_zhou", "周婷", Role.AUDITOR, "HO"),
    NamedUser("dept_wu", "吴芳", Role.DEPARTMENT_OFFICER, "HO-CORP"),
    NamedUser("admin", "系统管理员", Role.ADMINISTRATOR, "HO"),
)


class DemoLogin(NamedTuple):
    username: str
    full_name: str
    role: str | Promise  # the role's label, translated when printed
    unit: str


DEMO_USERS: tuple[DemoLogin, ...] = tuple(
    DemoLogin(u.username, u.full_name, Role(u.role).label, UNIT_TITLES[u.unit_code]) for u in NAMED_USERS
)

# Named RMs carry bigger books than generated ones, so whoever logs in as them sees a full desk.
NAMED_RM_WEIGHT, GENERATED_RM_WEIGHT = 3, 2
# rm_zhang and rm_wang (two teams of one sub-branch) work some of each other's customers.
SHARED_BOOKS = (("rm_zhang", "rm_wang", 5), ("rm_wang", "rm_zhang", 3))
CO_RM_SHARE = 0.08

# --- geography ----------------------------------------------------------------------------------------

# Counties and districts, so credit codes carry the registering district as real ones do.
DISTRICTS: dict[str, tuple[str, ...]] = {
    "330100": (
        "330102",
        "330105",
        "330106",
        "330108",
        "330109",
        "330110",
        "330111",
        "330112",
        "330113",
        "330114",
        "330122",
        "330182",
    ),
    "330200": ("330203", "330205", "330206", "330211", "330212", "330213", "330225", "330226", "330281", "330282"),
    "330300": ("330302", "330303", "330304", "330305", "330324", "330326", "330327", "330381", "330382", "330383"),
}
OTHER_ZHEJIANG = ("330400", "330500", "330600", "330700", "330800", "330900", "331000", "331100")
ELSEWHERE = ("310100", "320100", "320200", "320500", "340100", "350100", "350200", "440300", "110100", "370200")
# Birthplaces in ID numbers: mostly Zhejiang counties, some from the provinces that send people there.
BIRTHPLACES_OUTSIDE = (
    "340104",
    "340121",
    "360102",
    "320106",
    "310104",
    "410105",
    "430104",
    "510107",
    "350203",
    "420106",
    "370102",
    "362321",
)
BIRTHPLACES_ZHEJIANG = (
    *(d for ds in DISTRICTS.values() for d in ds),
    "330782",
    "330681",
    "331081",
    "330483",
    "330521",
    "331023",
    "330881",
)


class City(NamedTuple):
    place: str  # how a firm's name starts: 杭州
    province: str  # the province word big firms use instead: 浙江 ("" for municipalities)


@functools.cache
def _cities() -> dict[str, City]:
    cities: dict[str, City] = {}
    for province in regions():
        short = province.name_zh.removesuffix("省") if province.name_zh.endswith("省") else ""
        for city in province.cities:
            cities[city.code] = City(names.city_prefix(city.name_zh), short)
    return cities


# --- weighted vocabularies ----------------------------------------------------------------------------


class Weights(Generic[T]):
    """Values with integer weights, drawn with one rng call."""

    def __init__(self, pairs: Sequence[tuple[T, int]]) -> None:
        self.values = tuple(value for value, _ in pairs)
        self.cum_weights = tuple(accumulate(weight for _, weight in pairs))

    def draw(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


S = EnterpriseSize
SIZES = Weights([(S.LARGE, 8), (S.MEDIUM, 25), (S.SMALL, 40), (S.MICRO, 27)])
# Tiers follow size (a micro firm is rarely strategic) with overall shares ≈ 战略 2%, 核心 8%, 重点 25%.
TIERS: dict[str, Weights[str]] = {
    S.LARGE: Weights([(Tier.STRATEGIC, 15), (Tier.CORE, 32), (Tier.KEY, 33), (Tier.GENERAL, 20)]),
    S.MEDIUM: Weights([(Tier.STRATEGIC, 3), (Tier.CORE, 13), (Tier.KEY, 35), (Tier.GENERAL, 49)]),
    S.SMALL: Weights([(Tier.CORE, 5), (Tier.KEY, 25), (Tier.GENERAL, 70)]),
    S.MICRO: Weights([(Tier.CORE, 1), (Tier.KEY, 15), (Tier.GENERAL, 84)]),
}
STATUSES = Weights(
    [
        (LifecycleStatus.CUSTOMER, 70),
        (LifecycleStatus.TARGET, 10),
        (LifecycleStatus.PROSPECT, 10),
        (LifecycleStatus.DORMANT, 7),
        (LifecycleStatus.LOST, 3),
    ]
)
OWNERSHIPS = Weights(
    [
        (Ownership.PRIVATE, 72),
        (Ownership.STATE, 8),
        (Ownership.MIXED, 6),
        (Ownership.FOREIGN, 5),
        (Ownership.HMT, 4),
        (Ownership.COLLECTIVE, 3),
        (Ownership.OTHER, 2),
    ]
)
# Ratings not listed (a bank's own scale) get weight 1.
RATING_WEIGHTS = {"AAA": 4, "AA": 18, "A": 30, "BBB": 28, "BB": 12, "B": 5, "CCC": 2}
# GB/T 4754 divisions as a Zhejiang corporate book looks: manufacturing about half, then wholesale,
# construction, transport, IT, business services and real estate.
DIVISIONS = Weights(
    [
        ("13", 2),
        ("14", 2),
        ("15", 1),
        ("17", 4),
        ("18", 4),
        ("19", 2),
        ("20", 1),
        ("21", 2),
        ("22", 1),
        ("23", 1),
        ("24", 1),
        ("26", 3),
        ("27", 2),
        ("28", 2),
        ("29", 3),
        ("30", 2),
        ("31", 1),
        ("32", 1),
        ("33", 4),
        ("34", 5),
        ("35", 4),
        ("36", 3),
        ("38", 5),
        ("39", 5),
        ("40", 2),
        ("41", 1),
        ("51", 12),
        ("52", 4),
        ("47", 3),
        ("48", 3),
        ("49", 1),
        ("50", 2),
        ("64", 2),
        ("65", 5),
        ("71", 1),
        ("72", 5),
        ("70", 4),
        ("54", 3),
        ("55", 1),
        ("58", 2),
        ("59", 2),
        ("01", 1),
        ("44", 1),
        ("61", 1),
        ("62", 1),
        ("73", 1),
        ("74", 1),
        ("75", 1),
        ("77", 1),
        ("84", 1),
    ]
)
YOUNG_DIVISIONS = {"64", "65", "73", "74", "75"}  # IT and tech services: founded from 2000 on

# Ranges in 万元 by size; drawn log-uniformly so most firms sit at the low end of their band.
CAPITAL_WAN: dict[str, tuple[int, int]] = {
    S.MICRO: (50, 500),
    S.SMALL: (300, 3_000),
    S.MEDIUM: (1_000, 20_000),
    S.LARGE: (10_000, 500_000),
}
ASSETS_WAN: dict[str, tuple[int, int]] = {
    S.MICRO: (200, 3_000),
    S.SMALL: (2_000, 20_000),
    S.MEDIUM: (10_000, 100_000),
    S.LARGE: (100_000, 5_000_000),
}
GUARANTEE_WAN: dict[str, tuple[int, int]] = {
    S.MICRO: (50, 1_000),
    S.SMALL: (200, 5_000),
    S.MEDIUM: (1_000, 30_000),
    S.LARGE: (5_000, 200_000),
}
SUPPLY_WAN: dict[str, tuple[int, int]] = {
    S.MICRO: (20, 2_000),
    S.SMALL: (100, 10_000),
    S.MEDIUM: (500, 50_000),
    S.LARGE: (2_000, 500_000),
}

K = KeyPersonRole
BIRTH_YEARS: dict[str, tuple[int, int]] = {
    K.LEGAL_REPRESENTATIVE: (1955, 1988),
    K.ACTUAL_CONTROLLER: (1950, 1985),
    K.FINANCE_HEAD: (1965, 1992),
    K.FINANCE_STAFF: (1980, 2001),
    K.DECISION_MAKER: (1960, 1990),
}
PREFERENCE_CHANCE: dict[str, float] = {
    K.LEGAL_REPRESENTATIVE: 0.6,
    K.ACTUAL_CONTROLLER: 0.6,
    K.FINANCE_HEAD: 0.5,
    K.FINANCE_STAFF: 0.15,
    K.DECISION_MAKER: 0.3,
}

R, D = RelationshipKind, Direction
LINKS_PER_CUSTOMER = Weights([(0, 22), (1, 31), (2, 29), (3, 13), (4, 5)])  # mean 1.48, plus guarantee circles
LINK_KINDS = Weights([(R.SUPPLY_CHAIN, 45), (R.GUARANTEE, 22), (R.AFFILIATE, 18), (R.COMMON_CONTROLLER, 15)])
LINK_NOTES: dict[tuple[str, str], str] = {
    (R.SUPPLY_CHAIN, D.OUTWARD): "主要下游客户",
    (R.SUPPLY_CHAIN, D.INWARD): "主要供应商",
    (R.GUARANTEE, D.OUTWARD): "为对方借款提供连带责任保证",
    (R.GUARANTEE, D.INWARD): "对方为本公司借款提供连带责任保证",
    (R.AFFILIATE, D.OUTWARD): "对外投资企业",
    (R.AFFILIATE, D.INWARD): "股东单位",
    (R.COMMON_CONTROLLER, D.MUTUAL): "同一实际控制人",
}
ROUND_SHARES = (Decimal("100.00"), Decimal("51.00"), Decimal("60.00"), Decimal("70.00"), Decimal("80.00"))
# Guarantee structures per branch and chunk, one per this many of the branch's customers.
CUSTOMERS_PER_CHAIN, CUSTOMERS_PER_MUTUAL, CUSTOMERS_PER_CIRCLE = 200, 250, 600

TASK_TEMPLATES = (
    (TaskKind.FINANCIALS_DUE, "收集2024年度财务报表"),
    (TaskKind.FINANCIALS_DUE, "收集最新一期季度财务报表"),
    (TaskKind.DOCUMENT_RENEWAL, "核实营业执照有效期"),
    (TaskKind.DOCUMENT_RENEWAL, "更新法定代表人身份证复印件"),
    (TaskKind.DOCUMENT_RENEWAL, "更新公司章程"),
    (TaskKind.FOLLOW_UP, "跟进授信需求"),
    (TaskKind.FOLLOW_UP, "预约拜访董事长"),
    (TaskKind.FOLLOW_UP, "回访财务总监了解结算需求"),
    (TaskKind.FOLLOW_UP, "跟进代发工资业务意向"),
    (TaskKind.FOLLOW_UP, "跟进供应链融资方案反馈"),
    (TaskKind.ARCHIVE_REVIEW, "复核客户基本信息"),
    (TaskKind.ARCHIVE_REVIEW, "补充关键人物联系方式"),
    (TaskKind.ARCHIVE_REVIEW, "更新关联关系信息"),
    (TaskKind.OTHER, "准备年度银企合作方案"),
    (TaskKind.OTHER, "整理客户走访纪要"),
)
PRIORITIES = Weights([(Priority.URGENT, 1), (Priority.HIGH, 3), (Priority.NORMAL, 5), (Priority.LOW, 1)])
OPEN_TASKS_PER_RM = 8
TASK_CANDIDATES_PER_RM = 24


# --- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """How many rows of each kind the demo load wrote."""

    org_units: int
    users: int
    customers: int
    co_rms: int
    key_persons: int
    financial_statements: int
    relationships: int
    tasks: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --- integer arithmetic -------------------------------------------------------------------------------


@functools.cache
def _doublings(low: int, high: int) -> tuple[int, ...]:
    edges = [low]
    while edges[-1] * 2 < high:
        edges.append(edges[-1] * 2)
    edges.append(high)
    return tuple(edges)


def skewed(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high], roughly log-uniform: a band between doublings, then a point in it.

    Integer-only on purpose: math.log/exp may differ in the last bit between platforms, and the same
    seed must give the same amounts everywhere.
    """
    edges = _doublings(low, high)
    band = rng.randrange(len(edges) - 1)
    return rng.randint(edges[band], edges[band + 1])


def scale(fen: int, numerator: int, denominator: int) -> int:
    """fen × numerator / denominator, rounded half-up to the fen."""
    return int((Decimal(fen) * numerator / denominator).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _wan(rng: random.Random, band: tuple[int, int]) -> Decimal:
    """A round amount in 万元, as registered capital and guarantees are usually written."""
    return from_fen(skewed(rng, *band) * FEN_PER_WAN)


# --- the builder --------------------------------------------------------------------------------------


@dataclass
class _Rm:
    user: User
    unit_id: int
    team: str
    branch: str
    weight: int
    # A few of the RM's own customers, remembered for the tasks made after the last chunk.
    task_candidates: list[int] = field(default_factory=list)


@dataclass
class _Counts:
    co_rms: int = 0
    key_persons: int = 0
    financial_statements: int = 0
    relationships: int = 0


class _DemoBank:
    """One load: the registries that keep names and codes unique across chunks, and the RMs."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.company_names = names.CompanyNames()
        self.credit_codes: set[str] = set()
        self.units: dict[str, OrgUnit] = {}
        self.users: list[User] = []
        self.rms: list[_Rm] = []
        self.counts = _Counts()
        self.ratings = Weights([(r, RATING_WEIGHTS.get(r, 1)) for r in settings.CREDIT_RATING_SCALE])

    def rng(self, purpose: str) -> random.Random:
        # One stream per purpose and chunk: adding a draw to one part does not reshuffle all the others.
        return random.Random(f"rmdesk-demo:{self.seed}:{purpose}")

    # --- org and users ---

    def build_org(self) -> None:
        def add(code: str, name: str, level: str, parent: OrgUnit | None) -> OrgUnit:
            unit = OrgUnit(code=code, name=name, level=level, parent=parent)
            unit.save()  # save(), not bulk_create: save() computes the materialised path from the parent
            self.units[code] = unit
            return unit

        head_office = add(*HEAD_OFFICE, UnitLevel.HEAD_OFFICE, None)
        add(*DEPARTMENT, UnitLevel.DEPARTMENT, head_office)
        for branch in BRANCHES:
            branch_unit = add(branch.code, branch.name, UnitLevel.BRANCH, head_office)
            for s, sub_name in enumerate(branch.sub_branches, start=1):
                sub_unit = add(sub_branch_code(branch.code, s), sub_name, UnitLevel.SUB_BRANCH, branch_unit)
                for t, team_name in enumerate(TEAM_NAMES, start=1):
                    add(team_code(branch.code, s, t), team_name, UnitLevel.TEAM, sub_unit)

    def build_users(self) -> None:
        rng = self.rng("users")
        # One hash for all demo users: the password is published anyway, and argon2 costs ~0.1 s a user.
        password = make_password(DEMO_PASSWORD)
        taken_names = {u.full_name for u in NAMED_USERS}
        rm_specs: list[tuple[str, str, User, int]] = []  # team code, username, user, weight
        for spec in NAMED_USERS:
            admin = spec.role == Role.ADMINISTRATOR
            user = User(
                username=spec.username,
                full_name=spec.full_name,
                role=spec.role,
                password=password,
                unit=self.units[spec.unit_code],
                is_staff=admin,
                is_superuser=admin,
            )
            self.users.append(user)
            if spec.role == Role.RM:
                rm_specs.append((spec.unit_code, spec.username, user, NAMED_RM_WEIGHT))
        generated = 0
        for code, unit in self.units.items():
            if unit.level != UnitLevel.TEAM:
                continue
            named = sum(1 for team, *_ in rm_specs if team == code)
            for _ in range(max(0, rng.randint(2, 3) - named)):
                generated += 1
                full_name = names.person_name(rng)
                while full_name in taken_names:
                    full_name = names.person_name(rng)
                taken_names.add(full_name)
                user = User(
                    username=f"rm_{generated:04d}", full_name=full_name, role=Role.RM, password=password, unit=unit
                )
                self.users.append(user)
                rm_specs.append((code, user.username, user, GENERATED_RM_WEIGHT))
        User.objects.bulk_create(self.users)
        _require_pks(self.users)
        # Sorted by team so the book is handed out in the same order on every run.
        for team, _, user, weight in sorted(rm_specs, key=lambda spec: spec[:2]):
            self.rms.append(
                _Rm(user=user, unit_id=self.units[team].pk, team=team, branch=team.split("-")[0], weight=weight)
            )

    # --- customers, a chunk at a time ---

    def build_chunk(self, index: int, count: int) -> None:
        rng = self.rng(f"chunk:{index}")
        owners = self._allocate(rng, count)
        customers = [self._customer(rng, rm) for rm in owners]
        Customer.objects.bulk_create(customers, batch_size=BATCH_SIZE)
        _require_pks(customers)
        for customer, rm in zip(customers, owners, strict=True):
            if len(rm.task_candidates) < TASK_CANDIDATES_PER_RM and customer.status != LifecycleStatus.LOST:
                rm.task_candidates.append(customer.pk)

        co_rms = self._co_rms(rng, customers, owners, first_chunk=index == 0)
        CustomerCoRM.objects.bulk_create(co_rms, batch_size=BATCH_SIZE)
        key_persons = [p for c in customers for p in self._key_persons(rng, c)]
        KeyPerson.objects.bulk_create(key_persons, batch_size=BATCH_SIZE)
        statements = [s for c in customers for s in self._statements(rng, c)]
        FinancialStatement.objects.bulk_create(statements, batch_size=BATCH_SIZE)
        relationships = _Links(self, rng, customers, owners, first_chunk=index == 0).build()
        Relationship.objects.bulk_create(relationships, batch_size=BATCH_SIZE)

        self.counts.co_rms += len(co_rms)
        self.counts.key_persons += len(key_persons)
        self.counts.financial_statements += len(statements)
        self.counts.relationships += len(relationships)

    def _allocate(self, rng: random.Random, count: int) -> list[_Rm]:
        """Primary RMs for `count` customers: exact shares by weight (largest remainder), shuffled."""
        total = sum(rm.weight for rm in self.rms)
        shares = [count * rm.weight // total for rm in self.rms]
        # Ties broken by lot, so the odd customers of each chunk do not always go to the same RMs.
        lot = rng.sample(range(len(self.rms)), len(self.rms))
        remainders = sorted(range(len(self.rms)), key=lambda i: (-(count * self.rms[i].weight % total), lot[i]))
        for i in remainders[: count - sum(shares)]:
            shares[i] += 1
        owners = [rm for rm, share in zip(self.rms, shares, strict=True) for _ in range(share)]
        rng.shuffle(owners)
        return owners

    def new_credit_code(self, rng: random.Random, region: str) -> str:
        district = rng.choice(DISTRICTS.get(region, (region,)))
        while (code := make_credit_code(rng, district)) in self.credit_codes:
            pass
        self.credit_codes.add(code)
        return code

    def new_company_name(self, rng: random.Random, region: str, division: str, size: str) -> str:
        city = _cities()[region]
        return self.company_names.company(rng, place=city.place, division=division, size=size, province=city.province)

    def _region(self, rng: random.Random, home: str) -> str:
        roll = rng.random()
        if roll < 0.80:
            return home
        return rng.choice(OTHER_ZHEJIANG if roll < 0.92 else ELSEWHERE)

    def _customer(self, rng: random.Random, rm: _Rm) -> Customer:
        region = self._region(rng, BRANCH_CITY[rm.branch])
        size = SIZES.draw(rng)
        division = DIVISIONS.draw(rng)
        status = STATUSES.draw(rng)
        # Prospects are often not rated yet.
        unrated = status in (LifecycleStatus.PROSPECT, LifecycleStatus.TARGET) and rng.random() < 0.5
        first_year = 2000 if division in YOUNG_DIVISIONS else 1985
        established = date.fromordinal(rng.randint(date(first_year, 1, 1).toordinal(), date(2023, 12, 31).toordinal()))
        return Customer(
            name=self.new_company_name(rng, region, division, size),
            credit_code=self.new_credit_code(rng, region),
            legal_representative=names.person_name(rng),
            registered_capital=_wan(rng, CAPITAL_WAN[size]),
            established_on=established,
            industry=division,
            region=region,
            size=size,
            ownership=OWNERSHIPS.draw(rng),
            credit_rating="" if unrated else self.ratings.draw(rng),
            tier=TIERS[size].draw(rng),
            status=status,
            owning_unit_id=rm.unit_id,
            primary_rm_id=rm.user.pk,
        )

    def _co_rms(
        self, rng: random.Random, customers: list[Customer], owners: list[_Rm], *, first_chunk: bool
    ) -> list[CustomerCoRM]:
        """About 8% of customers get a co-RM from another team of the same branch, never another branch."""
        links: dict[int, int] = {}
        if first_chunk:
            by_username = {rm.user.username: rm for rm in self.rms}
            for primary, co_rm, wanted in SHARED_BOOKS:
                book = [
                    c.pk
                    for c, rm in zip(customers, owners, strict=True)
                    if rm.user.username == primary and c.pk not in links
                ]
                for pk in rng.sample(book, min(wanted, len(book))):
                    links[pk] = by_username[co_rm].user.pk
        for customer, owner in zip(customers, owners, strict=True):
            if customer.pk in links or rng.random() >= CO_RM_SHARE:
                continue
            colleagues = [rm for rm in self.rms if rm.branch == owner.branch and rm.team != owner.team]
            if colleagues:
                links[customer.pk] = rng.choice(colleagues).user.pk
        return [CustomerCoRM(customer_id=customer, user_id=user) for customer, user in links.items()]

    def _key_persons(self, rng: random.Random, customer: Customer) -> list[KeyPerson]:
        """2–4 people: always the legal representative, usually a finance head, sometimes others."""
        roles = [K.LEGAL_REPRESENTATIVE]
        if rng.random() < 0.85:
            roles.append(K.FINANCE_HEAD)
        if customer.ownership == Ownership.PRIVATE and rng.random() < 0.3:
            roles.append(K.ACTUAL_CONTROLLER)
        if rng.random() < 0.4:
            roles.append(K.FINANCE_STAFF)
        if rng.random() < 0.3:
            roles.append(K.DECISION_MAKER)
        roles = roles[:4]
        if len(roles) < 2:
            roles.append(K.FINANCE_HEAD)
        persons = []
        for role in roles:
            if role == K.LEGAL_REPRESENTATIVE:
                name = customer.legal_representative
                # Where an actual controller chairs the board, the legal representative runs the firm.
                title = "总经理" if K.ACTUAL_CONTROLLER in roles else names.job_title(rng, role, customer.size)
            else:
                name = names.person_name(rng)
                title = names.job_title(rng, role, customer.size)
            persons.append(
                KeyPerson(
                    customer_id=customer.pk,
                    role=role,
                    name=name,
                    title=title,
                    decision_role=_decision_role(rng, role),
                    phone=make_mobile(rng),
                    id_number=make_id_number(rng, BIRTH_YEARS[role], region_code=_birthplace(rng, customer.region)),
                    preferences=names.preferences(rng) if rng.random() < PREFERENCE_CHANCE[role] else "",
                )
            )
        return persons

    def _statements(self, rng: random.Random, customer: Customer) -> list[FinancialStatement]:
        """Three consistent years: assets by size, then debt, turnover and margin drifting a little."""
        years: tuple[int, ...] = STATEMENT_YEARS
        if customer.status == LifecycleStatus.LOST:
            years = STATEMENT_YEARS[:2]  # nothing filed after it left
        elif customer.status in (LifecycleStatus.PROSPECT, LifecycleStatus.TARGET):
            years = STATEMENT_YEARS[len(STATEMENT_YEARS) - rng.randint(0, len(STATEMENT_YEARS)) :]
        assets = skewed(rng, *ASSETS_WAN[customer.size]) * FEN_PER_WAN + rng.randrange(FEN_PER_WAN)
        debt_bp = rng.randint(3_000, 8_500)  # basis points of assets: 资产负债率 30%–85%
        turnover_bp = rng.randint(3_000, 20_000)  # revenue 0.3–2× assets
        margin_bp = rng.randint(-500, 1_500)  # net margin −5%…15%
        statements = []
        for n, year in enumerate(STATEMENT_YEARS):
            if n:
                assets = scale(assets, 10_000 + rng.randint(-800, 2_000), 10_000)
                debt_bp = _clamp(debt_bp + rng.randint(-300, 300), 3_000, 8_500)
                turnover_bp = _clamp(turnover_bp + rng.randint(-1_000, 1_000), 3_000, 20_000)
                margin_bp = _clamp(margin_bp + rng.randint(-300, 300), -500, 1_500)
            revenue = scale(assets, turnover_bp, 10_000)
            net_profit = scale(revenue, margin_bp, 10_000)
            # Cash from operations tracks profit, off by working-capital swings of a few % of revenue.
            cash_flow = net_profit + scale(revenue, rng.randint(-400, 400), 10_000)
            if year in years:
                statements.append(
                    FinancialStatement(
                        customer_id=customer.pk,
                        year=year,
                        total_assets=from_fen(assets),
                        total_liabilities=from_fen(scale(assets, debt_bp, 10_000)),
                        revenue=from_fen(revenue),
                        net_profit=from_fen(net_profit),
                        operating_cash_flow=from_fen(cash_flow),
                    )
                )
        return statements

    # --- tasks ---

    def build_tasks(self, today: date) -> list[Task]:
        """About eight open tasks per RM on their own customers, due from ten days ago to twenty ahead."""
        rng = self.rng("tasks")
        now = timezone.now()
        tasks = []
        for rm in self.rms:
            if not rm.task_candidates:
                continue
            # One task due today, so the RM's "today" list always has something on it.
            offsets = [0, *(rng.randint(-10, 20) for _ in range(OPEN_TASKS_PER_RM - 1))]
            for offset in offsets:
                kind, title = rng.choice(TASK_TEMPLATES)
                tasks.append(
                    Task(
                        kind=kind,
                        title=title,
                        customer_id=rng.choice(rm.task_candidates),
                        owner_id=rm.user.pk,
                        due_date=today + timedelta(days=offset),
                        priority=PRIORITIES.draw(rng),
                    )
                )
            for _ in range(rng.randint(2, 4)):
                kind, title = rng.choice(TASK_TEMPLATES)
                tasks.append(
                    Task(
                        kind=kind,
                        title=title,
                        customer_id=rng.choice(rm.task_candidates),
                        owner_id=rm.user.pk,
                        due_date=today - timedelta(days=rng.randint(1, 30)),
                        priority=PRIORITIES.draw(rng),
                        status=TaskStatus.DONE,
                        completed_at=now,
                    )
                )
        return tasks


BRANCH_CITY = {branch.code: branch.city for branch in BRANCHES}


def _decision_role(rng: random.Random, role: str) -> str:
    if role in (K.LEGAL_REPRESENTATIVE, K.ACTUAL_CONTROLLER):
        return DecisionRole.DECIDER
    if role == K.FINANCE_STAFF:
        return rng.choice((DecisionRole.EXECUTOR, DecisionRole.GATEKEEPER))
    return DecisionRole.INFLUENCER


def _birthplace(rng: random.Random, region: str) -> str:
    if rng.random() < 0.3:
        return rng.choice(BIRTHPLACES_OUTSIDE)
    return rng.choice(DISTRICTS.get(region, BIRTHPLACES_ZHEJIANG))


def _require_pks(objs: Sequence[object]) -> None:
    # bulk_create returns primary keys on PostgreSQL and SQLite ≥ 3.35; the links below need them.
    if any(getattr(obj, "pk", None) is None for obj in objs):
        raise DemoBankError("the database did not return primary keys from a bulk insert (SQLite ≥ 3.35 needed)")


class _Links:
    """Relationships among one chunk's customers and outside firms, guarantee circles included."""

    def __init__(
        self,
        bank: _DemoBank,
        rng: random.Random,
        customers: list[Customer],
        owners: list[_Rm],
        *,
        first_chunk: bool,
    ) -> None:
        self.bank, self.rng, self.first_chunk = bank, rng, first_chunk
        self.by_branch: dict[str, list[Customer]] = {}
        for customer, owner in zip(customers, owners, strict=True):
            self.by_branch.setdefault(owner.branch, []).append(customer)
        self.rows: list[Relationship] = []
        self.seen: set[tuple[int, str, str]] = set()
        # Outside firms met so far in the chunk, by branch: a supplier often serves several customers,
        # which is what later makes it a prospect worth suggesting.
        self.outside: dict[str, list[tuple[str, str]]] = {}

    def build(self) -> list[Relationship]:
        for branch in sorted(self.by_branch):
            self._guarantee_structures(self.by_branch[branch])
        for branch in sorted(self.by_branch):
            members = self.by_branch[branch]
            for customer in members:
                for _ in range(LINKS_PER_CUSTOMER.draw(self.rng)):
                    self._random_link(branch, customer, members)
        return self.rows

    def _structure_count(self, members: int, per: int) -> int:
        count, rest = divmod(members, per)
        count += self.rng.randrange(per) < rest  # the fraction as a chance, so the rate holds at any size
        return max(count, 1) if self.first_chunk else count

    def _guarantee_structures(self, members: list[Customer]) -> None:
        """Chains A→B→C→D(→E), mutual pairs A⇄B and 3-circles A→B→C→A among one branch's customers."""
        # Borrowers first: guarantees are given for loans, and prospects have none yet.
        pool = [c for c in members if c.status == LifecycleStatus.CUSTOMER]
        others = [c for c in members if c.status != LifecycleStatus.CUSTOMER]
        self.rng.shuffle(pool)
        self.rng.shuffle(others)
        pool += others
        chains = self._structure_count(len(members), CUSTOMERS_PER_CHAIN)
        mutuals = self._structure_count(len(members), CUSTOMERS_PER_MUTUAL)
        circles = self._structure_count(len(members), CUSTOMERS_PER_CIRCLE)
        for _ in range(chains):
            length = self.rng.randint(4, 5)  # firms, so three or four guarantees in a row
            if len(pool) < length:
                break
            firms = [pool.pop() for _ in range(length)]
            for guarantor, guaranteed in pairwise(firms):
                self._guarantee(guarantor, guaranteed)
        for _ in range(mutuals):
            if len(pool) < 2:
                break
            a, b = pool.pop(), pool.pop()
            self._guarantee(a, b)
            self._guarantee(b, a)
        for _ in range(circles):
            if len(pool) < 3:
                break
            a, b, c = pool.pop(), pool.pop(), pool.pop()
            self._guarantee(a, b)
            self._guarantee(b, c)
            self._guarantee(c, a)

    def _guarantee(self, guarantor: Customer, guaranteed: Customer) -> None:
        self._add(
            guarantor,
            R.GUARANTEE,
            D.OUTWARD,
            counterparty=guaranteed,
            amount=_wan(self.rng, GUARANTEE_WAN[guaranteed.size]),
        )

    def _random_link(self, branch: str, customer: Customer, members: list[Customer]) -> None:
        rng = self.rng
        kind = LINK_KINDS.draw(rng)
        counterparty: Customer | None = None
        if rng.random() < 0.45 and len(members) > 1:
            counterparty = rng.choice(members)
            if counterparty.pk == customer.pk:
                return
        outside = None if counterparty else self._outside_firm(branch, customer)
        size = counterparty.size if counterparty else customer.size
        if kind == R.SUPPLY_CHAIN:
            self._add(
                customer,
                kind,
                rng.choice((D.OUTWARD, D.INWARD)),
                counterparty=counterparty,
                outside=outside,
                amount=_wan(rng, SUPPLY_WAN[customer.size]),
            )
        elif kind == R.GUARANTEE:
            self._add(
                customer,
                kind,
                rng.choice((D.OUTWARD, D.INWARD)),
                counterparty=counterparty,
                outside=outside,
                amount=_wan(rng, GUARANTEE_WAN[size]),
            )
        elif kind == R.AFFILIATE:
            share = rng.choice(ROUND_SHARES) if rng.random() < 0.4 else Decimal(rng.randint(500, 9_900)).scaleb(-2)
            self._add(
                customer,
                kind,
                rng.choice((D.OUTWARD, D.INWARD)),
                counterparty=counterparty,
                outside=outside,
                share_pct=share,
            )
        else:
            # In a private firm the actual controller is usually also its legal representative.
            controller = customer.legal_representative if rng.random() < 0.7 else names.person_name(rng)
            self._add(customer, kind, D.MUTUAL, counterparty=counterparty, outside=outside, controller_name=controller)

    def _outside_firm(self, branch: str, customer: Customer) -> tuple[str, str]:
        known = self.outside.setdefault(branch, [])
        if known and self.rng.random() < 0.3:
            return self.rng.choice(known)
        region = customer.region if self.rng.random() < 0.7 else self.rng.choice(OTHER_ZHEJIANG)
        firm = (
            self.bank.new_company_name(self.rng, region, DIVISIONS.draw(self.rng), SIZES.draw(self.rng)),
            self.bank.new_credit_code(self.rng, region),
        )
        known.append(firm)
        return firm

    def _add(
        self,
        customer: Customer,
        kind: str,
        direction: str,
        *,
        counterparty: Customer | None = None,
        outside: tuple[str, str] | None = None,
        amount: Decimal | None = None,
        share_pct: Decimal | None = None,
        controller_name: str = "",
    ) -> None:
        if counterparty is not None:
            name, code = counterparty.name, counterparty.credit_code
        else:
            assert outside is not None
            name, code = outside
        key = (customer.pk, kind, code)
        if key in self.seen:
            return
        self.seen.add(key)
        self.rows.append(
            Relationship(
                customer_id=customer.pk,
                kind=kind,
                direction=direction,
                counterparty_id=counterparty.pk if counterparty else None,
                counterparty_name=name,
                counterparty_credit_code=code,
                share_pct=share_pct,
                amount=amount,
                controller_name=controller_name,
                note=LINK_NOTES.get((kind, direction), ""),
            )
        )


def build_demo_bank(
    *, customers: int = 2000, seed: int = DEFAULT_SEED, progress: Progress | None = None
) -> DemoSummary:
    """Create the demo bank in one transaction; the same seed gives the same bank."""
    if customers < 1:
        raise ValueError("the demo bank needs at least one customer")
    report: Progress = progress or (lambda stage, done, total: None)
    with transaction.atomic():
        if OrgUnit.objects.exists() or User.objects.exists():
            raise DemoBankError("the database already has org units or users; load the demo into an empty one")
        bank = _DemoBank(seed)
        bank.build_org()
        report("org", len(bank.units), len(bank.units))
        bank.build_users()
        report("users", len(bank.users), len(bank.users))
        done = 0
        for index in range(-(-customers // CHUNK_SIZE)):
            count = min(CHUNK_SIZE, customers - done)
            bank.build_chunk(index, count)
            done += count
            report("customers", done, customers)
        tasks = bank.build_tasks(timezone.localdate())
        Task.objects.bulk_create(tasks, batch_size=BATCH_SIZE)
        report("tasks", len(tasks), len(tasks))
        summary = DemoSummary(
            org_units=len(bank.units),
            users=len(bank.users),
            customers=customers,
            co_rms=bank.counts.co_rms,
            key_persons=bank.counts.key_persons,
            financial_statements=bank.counts.financial_statements,
            relationships=bank.counts.relationships,
            tasks=len(tasks),
        )
        record(actor=None, action="demo.load", changes={"seed": seed, **summary.as_dict()})
    return summary
