"""The demo bank's org tree and staff, scaled to its book: about one RM per 330 customers.

A bank of up to 10,000 customers keeps the classic shape the demo has always had (three branches, two
sub-branches each, two teams each, two or three RMs a team); a bigger one grows to ~100 RMs a branch in
up to 30 branches, each with 2–4 sub-branches of 2–4 teams of 6–10 RMs. The named demo users sit in the
same units at any size.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.utils.functional import Promise

from rmdesk.demo import names
from rmdesk.demo.writer import DemoBankError
from rmdesk.org.choices import Role, UnitLevel
from rmdesk.org.models import OrgUnit, User

DEMO_PASSWORD = "rmdesk-demo"  # noqa: S105 — published on purpose: it is printed on the demo login screen

CUSTOMERS_PER_RM = 330
SMALL_BANK_CUSTOMERS = 10_000  # up to here the classic shape
RMS_PER_BRANCH = 100
RMS_PER_TEAM = (6, 10)
TEAMS_PER_BRANCH = (4, 16)  # 2–4 sub-branches of 2–4 teams
# Named RMs hold half as much again as their peers, but never more than this: whoever logs in as them
# sees a full desk, not an impossible one.
NAMED_BOOK_LIMIT = 300


class BranchSpec(NamedTuple):
    code: str
    name: str
    city: str  # GB/T 2260 code of the city the branch serves
    sub_branches: tuple[str, ...]  # in the order they open as the bank grows


HEAD_OFFICE = ("HO", "总行")
DEPARTMENT = ("HO-CORP", "公司业务部")
# A Zhejiang city commercial bank: home cities first, then the rest of the province, then the cities
# where such banks open out-of-province branches.
_BRANCH_TABLE = (
    ("杭州分行", "330100", "西湖 滨江 上城 拱墅"),
    ("宁波分行", "330200", "海曙 鄞州 江北 北仑"),
    ("温州分行", "330300", "鹿城 瓯海 龙湾 乐清"),
    ("嘉兴分行", "330400", "南湖 秀洲 海宁 桐乡"),
    ("湖州分行", "330500", "吴兴 南浔 长兴 德清"),
    ("绍兴分行", "330600", "越城 柯桥 上虞 诸暨"),
    ("金华分行", "330700", "婺城 金东 义乌 东阳"),
    ("衢州分行", "330800", "柯城 衢江 江山 龙游"),
    ("舟山分行", "330900", "定海 普陀 岱山 嵊泗"),
    ("台州分行", "331000", "椒江 黄岩 路桥 温岭"),
    ("丽水分行", "331100", "莲都 龙泉 青田 缙云"),
    ("上海分行", "310100", "浦东 静安 徐汇 闵行"),
    ("南京分行", "320100", "鼓楼 建邺 江宁 秦淮"),
    ("苏州分行", "320500", "姑苏 工业园区 吴中 昆山"),
    ("无锡分行", "320200", "梁溪 滨湖 新吴 江阴"),
    ("合肥分行", "340100", "蜀山 包河 庐阳 瑶海"),
    ("福州分行", "350100", "鼓楼 台江 仓山 晋安"),
    ("厦门分行", "350200", "思明 湖里 集美 海沧"),
    ("深圳分行", "440300", "福田 南山 罗湖 宝安"),
    ("北京分行", "110100", "朝阳 海淀 西城 东城"),
    ("青岛分行", "370200", "市南 市北 崂山 黄岛"),
    ("广州分行", "440100", "天河 越秀 海珠 番禺"),
    ("成都分行", "510100", "锦江 武侯 高新 青羊"),
    ("武汉分行", "420100", "江汉 武昌 洪山 汉阳"),
    ("西安分行", "610100", "雁塔 碑林 未央 曲江"),
    ("长沙分行", "430100", "芙蓉 天心 岳麓 开福"),
    ("天津分行", "120100", "和平 河西 南开 滨海"),
    ("重庆分行", "500100", "渝中 江北 渝北 南岸"),
    ("郑州分行", "410100", "金水 中原 二七 郑东"),
    ("济南分行", "370100", "历下 市中 槐荫 天桥"),
)
BRANCHES = tuple(
    BranchSpec(f"BR{n}", name, city, tuple(f"{district}支行" for district in districts.split()))
    for n, (name, city, districts) in enumerate(_BRANCH_TABLE, start=1)
)
TEAM_NAMES = ("公司业务一组", "公司业务二组", "公司业务三组", "公司业务四组")
SMALL_BANK = (3, 2, 2)  # branches, sub-branches per branch, teams per sub-branch


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


# Every bank, however small, has these units: two teams in the first sub-branch of the first two branches.
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
    # 总行公司业务部's lead: sets the target scorecard (a department owns no customers, so they see none).
    NamedUser("ho_qian", "钱程", Role.TEAM_LEAD, "HO-CORP"),
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

# rm_zhang and rm_wang (two teams of one sub-branch) work some of each other's customers.
SHARED_BOOKS = (("rm_zhang", "rm_wang", 5), ("rm_wang", "rm_zhang", 3))


# --- the plan -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitPlan:
    code: str
    name: str
    level: str
    parent: str | None


@dataclass(frozen=True)
class TeamPlan:
    code: str
    branch: str
    city: str
    rms: int  # named RMs included


@dataclass(frozen=True)
class OrgPlan:
    units: tuple[UnitPlan, ...]
    teams: tuple[TeamPlan, ...]

    @property
    def rms(self) -> int:
        return sum(team.rms for team in self.teams)


def rm_target(customers: int) -> int:
    """How many RMs a bank of this many customers employs (in the classic shape it is drawn instead)."""
    return max(1, round(customers / CUSTOMERS_PER_RM))


def split(total: int, parts: int) -> list[int]:
    """`total` in `parts` near-equal whole shares, the bigger ones first."""
    base, rest = divmod(total, parts)
    return [base + (n < rest) for n in range(parts)]


def _spread(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` in `parts` near-equal whole shares, the bigger ones at random places."""
    shares = split(total, parts)
    rng.shuffle(shares)
    return shares


def _teams_per_sub_branch(rng: random.Random, teams: int, sub_branches: int) -> list[int]:
    """Two to four teams in each sub-branch, `teams` in all."""
    counts = [2] * sub_branches
    for _ in range(teams - 2 * sub_branches):
        counts[rng.choice([n for n, count in enumerate(counts) if count < len(TEAM_NAMES)])] += 1
    return counts


def plan_org(customers: int, rng: random.Random) -> OrgPlan:
    """The units and how many RMs each team has, for a bank of `customers`."""
    units = [
        UnitPlan(HEAD_OFFICE[0], HEAD_OFFICE[1], UnitLevel.HEAD_OFFICE, None),
        UnitPlan(DEPARTMENT[0], DEPARTMENT[1], UnitLevel.DEPARTMENT, HEAD_OFFICE[0]),
    ]
    teams: list[TeamPlan] = []
    shape: list[tuple[BranchSpec, list[list[int]]]] = []  # per branch, per sub-branch, RMs per team
    if customers <= SMALL_BANK_CUSTOMERS:
        branches, sub_branches, per_sub = SMALL_BANK
        for spec in BRANCHES[:branches]:
            shape.append((spec, [[rng.randint(2, 3) for _ in range(per_sub)] for _ in range(sub_branches)]))
    else:
        target = rm_target(customers)
        branches = min(len(BRANCHES), max(SMALL_BANK[0], math.ceil(target / RMS_PER_BRANCH)))
        for spec, quota in zip(BRANCHES, split(target, branches), strict=False):
            low, high = TEAMS_PER_BRANCH
            fewest = min(high, max(low, math.ceil(quota / RMS_PER_TEAM[1])))
            team_count = rng.randint(fewest, min(high, max(fewest, quota // RMS_PER_TEAM[0])))
            sub_count = rng.randint(max(2, math.ceil(team_count / len(TEAM_NAMES))), min(4, team_count // 2))
            sizes = iter(_spread(rng, quota, team_count))
            counts = _teams_per_sub_branch(rng, team_count, sub_count)
            shape.append((spec, [[next(sizes) for _ in range(count)] for count in counts]))
    for spec, branch_plan in shape:
        units.append(UnitPlan(spec.code, spec.name, UnitLevel.BRANCH, HEAD_OFFICE[0]))
        for s, team_sizes in enumerate(branch_plan, start=1):
            sub = sub_branch_code(spec.code, s)
            units.append(UnitPlan(sub, spec.sub_branches[s - 1], UnitLevel.SUB_BRANCH, spec.code))
            for t, size in enumerate(team_sizes, start=1):
                code = team_code(spec.code, s, t)
                units.append(UnitPlan(code, TEAM_NAMES[t - 1], UnitLevel.TEAM, sub))
                teams.append(TeamPlan(code, spec.code, spec.city, size))
    return OrgPlan(tuple(units), tuple(teams))


# --- the rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rm:
    user_id: int
    username: str
    unit_id: int
    team: str
    branch: str
    city: str
    named: bool


def create_units(plan: OrgPlan) -> dict[str, OrgUnit]:
    """The org tree, parents first (save(), not bulk_create: save() computes the materialised path)."""
    units: dict[str, OrgUnit] = {}
    for spec in plan.units:
        unit = OrgUnit(code=spec.code, name=spec.name, level=spec.level, parent=units.get(spec.parent or ""))
        unit.save()
        units[spec.code] = unit
    return units


def create_users(plan: OrgPlan, units: dict[str, OrgUnit], rng: random.Random) -> tuple[list[User], list[Rm]]:
    """The named users, then enough generated RMs (rm_0001 …) to fill every team; RMs sorted by team."""
    # One hash for all demo users: the password is published anyway, and argon2 costs ~0.1 s a user.
    password = make_password(DEMO_PASSWORD)
    taken_names = {u.full_name for u in NAMED_USERS}
    users: list[User] = []
    seats: list[tuple[str, str, User, bool]] = []  # team code, username, user, named
    for spec in NAMED_USERS:
        admin = spec.role == Role.ADMINISTRATOR
        user = User(
            username=spec.username,
            full_name=spec.full_name,
            role=spec.role,
            password=password,
            unit=units[spec.unit_code],
            is_staff=admin,
            is_superuser=admin,
        )
        users.append(user)
        if spec.role == Role.RM:
            seats.append((spec.unit_code, spec.username, user, True))
    named_rms = Counter(code for code, *_ in seats)
    generated = 0
    for team in plan.teams:
        for _ in range(max(0, team.rms - named_rms[team.code])):
            generated += 1
            full_name = names.person_name(rng)
            while full_name in taken_names:
                full_name = names.person_name(rng)
            taken_names.add(full_name)
            user = User(
                username=f"rm_{generated:04d}",
                full_name=full_name,
                role=Role.RM,
                password=password,
                unit=units[team.code],
            )
            users.append(user)
            seats.append((team.code, user.username, user, False))
    User.objects.bulk_create(users)
    if any(user.pk is None for user in users):
        # bulk_create returns primary keys on PostgreSQL and SQLite ≥ 3.35; the customers need them.
        raise DemoBankError("the database did not return primary keys from a bulk insert (SQLite ≥ 3.35 needed)")
    teams = {team.code: team for team in plan.teams}
    rms = [
        Rm(user.pk, username, units[code].pk, code, teams[code].branch, teams[code].city, named)
        for code, username, user, named in sorted(seats, key=lambda seat: seat[:2])
    ]
    return users, rms


def books(rms: Sequence[Rm], customers: int, rng: random.Random) -> list[int]:
    """How many customers each RM is primary RM of: named RMs half as many again as the others, capped."""
    named = sum(1 for rm in rms if rm.named)
    named_book = min(NAMED_BOOK_LIMIT, customers * 3 // (2 * len(rms)))
    shares = iter(_spread(rng, customers - named_book * named, len(rms) - named))
    return [named_book if rm.named else next(shares) for rm in rms]
