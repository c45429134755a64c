"""What the demo bank's rows are drawn from: weighted vocabularies, geography and amount bands.

Draws are made for speed (a million-customer bank draws about a hundred values per customer): an index
is `int(rng.random() * n)` rather than `rng.choice`, which is as deterministic (IEEE arithmetic on the
same 53-bit floats everywhere) at a fifth of the cost. Amounts are integer fen, never floats.
"""

from __future__ import annotations

import enum
import functools
import random
from collections.abc import Sequence
from typing import Generic, NamedTuple, TypeVar

from rmdesk.core.reference import regions
from rmdesk.customers.choices import (
    Direction,
    EnterpriseSize,
    KeyPersonRole,
    LifecycleStatus,
    Ownership,
    RelationshipKind,
    Tier,
)
from rmdesk.demo import names
from rmdesk.development.choices import REFERRED_SOURCES, Characteristic, Source, Stage
from rmdesk.tasks.choices import Priority, TaskKind

T = TypeVar("T")

YUAN_PER_WAN = 10_000
FEN_PER_WAN = 100 * YUAN_PER_WAN


def pick(rng: random.Random, values: Sequence[T]) -> T:
    """One of `values`, uniformly."""
    return values[int(rng.random() * len(values))]


def plain(value: T) -> T:
    """A choice's raw value: the database drivers get str and int, not enum members."""
    return value.value if isinstance(value, enum.Enum) else value


class Weights(Generic[T]):
    """Values with small integer weights, drawn with one rng call through a lookup table.

    `table[int(random() * total)]` picks the same value `rng.choices(values, cum_weights=…)` would for
    the same random number, without its per-call overhead.
    """

    def __init__(self, pairs: Sequence[tuple[T, int]]) -> None:
        self.values = tuple(plain(value) for value, _ in pairs)
        self.table = tuple(value for value, (_, weight) in zip(self.values, pairs, strict=True) for _ in range(weight))
        self.total = len(self.table)

    def draw(self, rng: random.Random) -> T:
        return self.table[int(rng.random() * self.total)]


# --- geography ----------------------------------------------------------------------------------------

# Counties and districts, so credit codes carry the registering district as real ones do (a city
# without a list here registers at the city's own code).
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
def cities() -> dict[str, City]:
    found: dict[str, City] = {}
    for province in regions():
        short = province.name_zh.removesuffix("省") if province.name_zh.endswith("省") else ""
        for city in province.cities:
            found[city.code] = City(names.city_prefix(city.name_zh), short)
    return found


# --- customers ----------------------------------------------------------------------------------------

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
YOUNG_DIVISIONS = frozenset({"64", "65", "73", "74", "75"})  # IT and tech services: founded from 2000 on

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
STATEMENT_YEARS = (2022, 2023, 2024)

# --- key persons --------------------------------------------------------------------------------------

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

# --- relationships ------------------------------------------------------------------------------------

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
ROUND_SHARES = ("100.00", "51.00", "60.00", "70.00", "80.00")
# Guarantee structures per branch and chunk, one per this many of the branch's customers.
CUSTOMERS_PER_CHAIN, CUSTOMERS_PER_MUTUAL, CUSTOMERS_PER_CIRCLE = 200, 250, 600

# --- tasks --------------------------------------------------------------------------------------------

TASK_TEMPLATES = tuple(
    (plain(kind), title)
    for kind, title in (
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
)
PRIORITIES = Weights([(Priority.URGENT, 1), (Priority.HIGH, 3), (Priority.NORMAL, 5), (Priority.LOW, 1)])


# --- customer development -----------------------------------------------------------------------------

# How an RM finds prospects: own contacts, seminars and the book's own relationships (sources 10–12) lead.
_SOURCE_WEIGHTS = (
        (Source.MEDIA, 6),
        (Source.GOVERNMENT, 6),
        (Source.INDUSTRY_BODIES, 8),
        (Source.CONSULTANCIES, 4),
        (Source.PUBLICATIONS, 3),
        (Source.OTHER_INSTITUTIONS, 4),
        (Source.SEMINARS, 9),
        (Source.BANK_ARCHIVES, 7),
        (Source.PERSONAL_CONTACTS, 13),
        (Source.SUPPLY_CHAIN, 20),
        (Source.GUARANTORS, 10),
        (Source.AFFILIATES, 10),
)  # fmt: skip
SOURCES = Weights(_SOURCE_WEIGHTS)
# Sources 1–9, for a prospect whose branch has no current customer in the chunk to name as the referrer.
OWN_SOURCES = Weights([(source, weight) for source, weight in _SOURCE_WEIGHTS if source not in REFERRED_SOURCES])
# Where the finding came from, by source: {place} the firm's city, {province} its province, {year} a recent year.
SOURCE_DETAILS: dict[int, tuple[str, ...]] = {
    Source.MEDIA: ("《{place}日报》经济版报道", "《钱江晚报》企业专访", "{place}电视台《财经观察》栏目",
                   "新浪财经行业报道", "招聘网站显示企业正在扩产", "《21世纪经济报道》民企专题"),
    Source.GOVERNMENT: ("{place}经信局重点工业企业名单", "{place}发改委重点建设项目清单", "{place}商务局外贸企业名录",
                        "{place}科技局高新技术企业认定公示", "{place}税务局纳税信用A级企业名单"),
    Source.INDUSTRY_BODIES: ("{place}机械行业协会", "{place}工商业联合会", "{province}纺织行业协会年会名录",
                             "{place}中小企业协会", "{place}电子信息产业协会", "{place}外商投资企业协会"),
    Source.CONSULTANCIES: ("合作会计师事务所推荐", "合作律师事务所推荐", "咨询公司行业研究报告", "资产评估机构推荐"),
    Source.PUBLICATIONS: ("《{province}统计年鉴》规模以上企业名录", "《中国企业名录》", "{place}工商企业名录",
                          "{place}114企业黄页"),
    Source.OTHER_INSTITUTIONS: ("证券公司投行部推荐", "保险公司客户经理转介", "信托公司合作项目",
                                "他行离职客户经理介绍"),
    Source.SEMINARS: ("{year}年{place}民营企业融资对接会", "{place}银企对接洽谈会", "{place}跨境电商交流会",
                      "{place}专精特新企业座谈会", "本行供应链金融产品推介会", "{year}年{place}制造业数字化转型论坛"),
    Source.BANK_ARCHIVES: ("本行历史授信客户档案", "本行对公账户开户记录", "本行结算往来客户名单", "本行销户客户回访"),
    Source.PERSONAL_CONTACTS: ("朋友介绍", "校友会介绍", "同乡商会介绍", "老客户董事长介绍", "社区活动结识"),
}  # fmt: skip
# Sources 10–12 name the customer who led there; {customer} is its name.
REFERRAL_DETAILS: dict[tuple[int, str], str] = {
    (Source.SUPPLY_CHAIN, D.INWARD): "{customer}的主要供应商",
    (Source.SUPPLY_CHAIN, D.OUTWARD): "{customer}的主要下游客户",
    (Source.GUARANTORS, D.INWARD): "为{customer}借款提供担保",
    (Source.AFFILIATES, D.OUTWARD): "{customer}的对外投资企业",
    (Source.AFFILIATES, D.INWARD): "{customer}的股东单位",
}
REFERRAL_KINDS: dict[int, str] = {
    Source.SUPPLY_CHAIN: R.SUPPLY_CHAIN.value,
    Source.GUARANTORS: R.GUARANTEE.value,
    Source.AFFILIATES: R.AFFILIATE.value,
}
# The funnel by lifecycle status: a prospect is mostly just found, a target (scored well) further along.
FUNNELS: dict[str, Weights[str]] = {
    LifecycleStatus.PROSPECT: Weights(
        [(Stage.IDENTIFIED, 45), (Stage.CONTACTED, 28), (Stage.VISITED, 10), (Stage.PROPOSAL, 4), (Stage.DROPPED, 13)]
    ),
    LifecycleStatus.TARGET: Weights(
        [(Stage.IDENTIFIED, 12), (Stage.CONTACTED, 30), (Stage.VISITED, 28), (Stage.PROPOSAL, 20), (Stage.DROPPED, 10)]
    ),
}
# How far a dropped prospect had come, as an index into OPEN_STAGES.
DROPPED_AFTER = Weights([(0, 35), (1, 35), (2, 20), (3, 10)])
DROP_REASONS = ("已与他行签约", "经营不善，风险偏高", "需求不匹配", "暂无融资和结算需求", "资质未达本行准入标准",
                "联系人离职，无法推进", "所属行业不符合本行授信政策", "价格条件未谈拢")  # fmt: skip
# A note on some stage changes, by the stage entered.
STAGE_NOTES: dict[str, tuple[str, ...]] = {
    Stage.CONTACTED: ("电话联系财务总监", "微信添加法定代表人", "经介绍人约见", "发送本行产品资料"),
    Stage.VISITED: ("上门拜访董事长", "实地走访生产车间", "与财务总监面谈融资需求", "陪同支行行长拜访"),
    Stage.PROPOSAL: ("提交综合金融服务方案", "提交流动资金贷款方案", "提交现金管理方案", "提交供应链融资方案"),
    Stage.WON: ("开立基本户", "签订授信合同", "开通代发工资", "签订现金管理协议"),
}
WON_CONTRACTS = ("现金管理服务协议", "流动资金借款合同", "代发工资服务协议", "供应链融资合作协议", "票据池业务协议")
# The characteristics only the RM can judge (the others the archive decides), with what RMs write about them.
RM_RATED_REASONS: dict[int, tuple[str, ...]] = {
    Characteristic.COMPETITIVE_ADVANTAGE: ("细分市场占有率居前", "核心技术有专利保护", "成本控制优于同行"),
    Characteristic.PRODUCTS_AND_CASH: ("产品畅销，回款周期短", "订单稳定，现金回笼快"),
    Characteristic.GOVERNANCE: ("治理结构规范，财务透明", "已引入职业经理人"),
    Characteristic.FITS_THE_BANK: ("融资需求与本行授信能力匹配", "结算需求本行产品可覆盖"),
    Characteristic.UNMET_NEEDS: ("有流动资金贷款需求", "有代发工资和现金管理需求", "扩产需要中长期贷款"),
    Characteristic.OPERATING_WELL: ("订单饱满，开工率高", "近三年营收稳步增长"),
    Characteristic.CAPABLE_MANAGEMENT: ("董事长有二十年行业经验，战略清晰", "管理团队年轻，执行力强"),
    Characteristic.STAFF_AND_BRAND: ("员工队伍稳定，区域品牌知名", "拥有省级著名商标"),
    Characteristic.BANKING_VOLUME: ("结算量大，可带来存款和中间业务", "代发工资人数较多"),
}

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

    No math.log/exp on purpose: they may differ in the last bit between platforms, and the same seed
    must give the same amounts everywhere.
    """
    edges = _doublings(low, high)
    band = int(rng.random() * (len(edges) - 1))
    start = edges[band]
    return start + int(rng.random() * (edges[band + 1] - start + 1))


def scale(fen: int, numerator: int, denominator: int) -> int:
    """fen × numerator / denominator, rounded half-up (away from zero) to the fen, in integers."""
    product = fen * numerator
    magnitude = (2 * abs(product) + denominator) // (2 * denominator)
    return magnitude if product >= 0 else -magnitude


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def yuan(fen: int) -> str:
    """Integer fen as the decimal text the database stores for an amount: 123456 → "1234.56"."""
    if fen < 0:
        return f"-{-fen // 100}.{-fen % 100:02d}"
    return f"{fen // 100}.{fen % 100:02d}"


def wan(rng: random.Random, band: tuple[int, int]) -> str:
    """A round amount in 万元, as registered capital and guarantees are usually written, as text."""
    return f"{skewed(rng, *band) * YUAN_PER_WAN}.00"
