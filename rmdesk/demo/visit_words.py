"""What the demo bank's visits are written with: purposes and places, what RMs note, hear and propose, in Chinese.

Tables drawn from with a few random bits are exactly 2^k long (`bit_table`), so one `getrandbits` call makes several
draws for a visit; the rest are picked with `vocabulary.pick`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from rmdesk.customers.choices import Tier
from rmdesk.demo.vocabulary import plain
from rmdesk.visits.choices import (
    EventKind,
    Interest,
    NeedTag,
    PrepItem,
    ProposalResponse,
    Satisfaction,
    SelfCheck,
    VisitMode,
    VisitPurpose,
)

T = TypeVar("T")


def bit_table(pairs: Sequence[tuple[T, int]], bits: int) -> tuple[T, ...]:
    """Values repeated by weight into a table of exactly 2**bits entries: `table[random_bits & mask]` draws one.
    Choices come out as their plain values (what the database stores)."""
    table = tuple(plain(value) for value, weight in pairs for _ in range(weight))
    if len(table) != 1 << bits:
        raise ValueError(f"weights add up to {len(table)}, not {1 << bits}")
    return table


P, M, N = VisitPurpose, VisitMode, NeedTag

# --- the visit ---------------------------------------------------------------------------------------------------

# Why RMs go: mostly upkeep and needs; occasions are visits planned for an event (set where there is one).
PURPOSES: tuple[str, ...] = bit_table(
    [(P.RELATIONSHIP, 24), (P.NEEDS, 10), (P.PRODUCTS, 10), (P.PROPOSAL, 6), (P.SERVICE, 7), (P.COLLECTION, 4),
     (P.OTHER, 3)],
    6,
)  # fmt: skip
MODES: tuple[str, ...] = bit_table([(M.ON_SITE, 11), (M.AT_BANK, 2), (M.REMOTE, 3)], 4)
# Local start times (minutes after midnight) in office hours, mornings a little more often; never over lunch.
SLOTS: tuple[int, ...] = bit_table(
    [(9 * 60, 2), (9 * 60 + 30, 3), (10 * 60, 3), (10 * 60 + 30, 2), (11 * 60, 1), (14 * 60, 2), (14 * 60 + 30, 1),
     (15 * 60, 1), (16 * 60, 1)],
    4,
)  # fmt: skip
DURATIONS: tuple[int, ...] = bit_table([(45, 1), (60, 3), (90, 3), (120, 1)], 3)  # minutes
LATE: tuple[int, ...] = bit_table(
    [(-10, 1), (-5, 2), (0, 3), (5, 1), (10, 1)], 3
)  # minutes the visit started after the plan
PURPOSE_WORDS: dict[str, str] = {
    P.RELATIONSHIP: "日常走访维护",
    P.FIRST_CONTACT: "初次拜访",
    P.NEEDS: "了解金融需求",
    P.PRODUCTS: "推介产品",
    P.PROPOSAL: "商谈合作方案",
    P.TIMING: "把握时机走访",
    P.SERVICE: "服务与问题解决",
    P.COLLECTION: "收息收贷",
    P.OTHER: "其他",
}
PLACES_ON_SITE = ("会议室", "办公室", "财务部", "生产车间", "总经理办公室", "新厂区")  # after the customer's name
PLACES_AT_BANK = ("本行支行贵宾室", "本行分行营业部洽谈室", "本行会议室")
PLACES_REMOTE = ("电话沟通", "视频会议", "")

# A line on some old visits; the rest of an old record stays blank.
SHORT_NOTES = (
    "客户经营正常，结算量平稳。",
    "与财务总监沟通近期资金安排。",
    "了解客户旺季备货资金需求。",
    "客户对本行服务总体满意。",
    "回访上次提出的开户资料问题，已解决。",
    "送达新版企业网银操作指引。",
    "客户近期订单增加，关注后续融资需求。",
    "核实贷款资金用途，未见异常。",
    "与董事长简短会面，关系良好。",
    "客户反映对公转账到账时效问题，已反馈。",
    "了解客户新项目进展。",
    "客户暂无新增需求，保持联系。",
)
CANCEL_REASONS = ("客户临时有事取消", "客户董事长出差，另行约定", "疫情防控要求暂停走访", "客户内部审计期间不便接待")
POSTPONE_REASONS = ("客户财务总监出差，待重新约定时间", "客户临时召开董事会，改期", "台风预警，改期拜访")
RESCHEDULED_REASONS = ("客户临时外出，改期", "与客户重新约定时间")

# --- preparation (§4.1) ------------------------------------------------------------------------------------------

PREP_ORDER = tuple(PrepItem.values)
PURPOSE_DETAILS: dict[str, tuple[str, ...]] = {
    P.RELATIONSHIP: ("季度例行走访，了解经营近况", "节前走访，维护客户关系", "年度合作回顾"),
    P.FIRST_CONTACT: ("经介绍初次拜访董事长",),
    P.NEEDS: ("了解扩产项目的资金需求", "了解旺季备货流动资金需求", "了解集团资金归集需求"),
    P.PRODUCTS: ("推介现金管理平台", "推介供应链融资产品", "推介代发工资及员工理财"),
    P.PROPOSAL: ("商谈年度授信方案", "商谈票据池合作方案", "沟通综合金融服务方案"),
    P.TIMING: ("把握客户新变化，及时跟进",),
    P.SERVICE: ("上门解决网银证书到期问题", "协助办理账户年检", "回访投诉处理结果"),
    P.COLLECTION: ("贷款到期前回访，了解还款资金安排", "季度收息提醒"),
    P.OTHER: ("陪同分行领导走访", "送达对账单并核对余额"),
}
STRATEGIES = (
    "先了解客户今年的经营计划和资金缺口，再顺势介绍本行流动资金贷款；注意财务总监偏好数据说话，准备同业利率对比。",
    "以关系维护为主，不急于推销；重点听董事长讲新项目，寻找切入点，约定下次由分行领导陪同拜访。",
    "从客户关心的结算效率谈起，演示现金管理平台；对方若提价格，先讲服务再谈优惠。",
    "针对客户对他行审批慢的不满，突出本行审批时效；准备授信流程图和所需资料清单。",
)
MATERIALS = (
    "本行宣传册、现金管理产品说明书、名片",
    "授信方案初稿、同业利率对比表、所需资料清单",
    "供应链融资产品介绍、成功案例、名片",
    "代发工资服务协议样本、员工理财产品介绍",
)

# --- the record (§4.3–§4.6) --------------------------------------------------------------------------------------

NEEDS: tuple[str, ...] = bit_table(
    [(N.DEPOSITS, 3), (N.SETTLEMENT, 4), (N.WORKING_CAPITAL, 6), (N.FIXED_ASSET, 2), (N.TRADE_FINANCE, 2),
     (N.BILLS, 3), (N.GUARANTEES, 1), (N.SUPPLY_CHAIN, 3), (N.CASH_MANAGEMENT, 3), (N.INTERNATIONAL, 1),
     (N.PAYROLL, 2), (N.WEALTH, 1), (N.INVESTMENT_BANKING, 1)],
    5,
)  # fmt: skip
NEED_ORDER: dict[str, int] = {tag: n for n, tag in enumerate(NeedTag.values)}
NEED_DETAILS: dict[str, str] = {
    N.DEPOSITS: "账面闲置资金较多，希望在保证流动性的前提下提高收益。",
    N.SETTLEMENT: "上下游结算笔数多，希望提高到账速度、降低手续费。",
    N.WORKING_CAPITAL: "旺季备货资金缺口约{amount}万元，希望一个月内落实流动资金贷款。",
    N.FIXED_ASSET: "新厂区二期计划明年开工，总投资约{amount}万元，需要中长期项目贷款。",
    N.TRADE_FINANCE: "进口原材料采购增加，需要开立信用证。",
    N.BILLS: "下游客户多以银行承兑汇票结算，有贴现和票据池需求。",
    N.GUARANTEES: "参与政府项目投标，需要投标保函和履约保函。",
    N.SUPPLY_CHAIN: "核心企业账期较长，应收账款占用资金，希望做应收账款融资。",
    N.CASH_MANAGEMENT: "集团下属子公司多，希望统一归集资金、集中管理。",
    N.INTERNATIONAL: "出口收汇增加，关注汇率波动，需要远期结售汇。",
    N.PAYROLL: "员工约{people}人，考虑更换代发工资银行。",
    N.WEALTH: "股东个人有资产配置需求。",
    N.INVESTMENT_BANKING: "考虑发行债务融资工具，优化负债结构。",
}
PRODUCTS: dict[str, tuple[str, ...]] = {
    N.DEPOSITS: ("单位大额存单", "协定存款"),
    N.SETTLEMENT: ("企业网银及银企直联", "对公结算套餐"),
    N.WORKING_CAPITAL: ("流动资金贷款", "线上循环贷"),
    N.FIXED_ASSET: ("固定资产贷款", "项目贷款"),
    N.TRADE_FINANCE: ("国内信用证", "进口信用证"),
    N.BILLS: ("银行承兑汇票", "票据池"),
    N.GUARANTEES: ("投标保函", "履约保函"),
    N.SUPPLY_CHAIN: ("应收账款融资", "供应链融资平台"),
    N.CASH_MANAGEMENT: ("现金管理平台", "集团资金池"),
    N.INTERNATIONAL: ("远期结售汇", "跨境人民币结算"),
    N.PAYROLL: ("代发工资", "员工专属理财"),
    N.WEALTH: ("对公理财产品", "私人银行服务"),
    N.INVESTMENT_BANKING: ("超短期融资券承销", "并购贷款"),
}
PRODUCT_NOTES = ("客户要求提供详细费率", "财务总监很感兴趣，要求下周演示", "需董事会讨论", "与他行同类产品比较中", "")
INTERESTS: tuple[str, ...] = bit_table(
    [(Interest.HIGH, 3), (Interest.MEDIUM, 3), (Interest.LOW, 1), (Interest.NONE, 1)], 3
)
PROPOSALS: dict[str, str] = {
    N.WORKING_CAPITAL: "核定流动资金贷款额度{amount}万元，期限一年，随借随还",
    N.FIXED_ASSET: "提供项目贷款{amount}万元，期限五年，按项目进度提款",
    N.BILLS: "开立票据池，额度{amount}万元，入池票据可质押开票",
    N.SUPPLY_CHAIN: "以核心企业应收账款为基础，提供{amount}万元应收账款融资",
    N.CASH_MANAGEMENT: "搭建集团现金管理平台，实现子公司资金自动归集",
    N.PAYROLL: "代发工资迁移至本行，免收代发手续费一年",
    N.SETTLEMENT: "开通银企直联，对公转账手续费按优惠价执行",
}
GENERAL_PROPOSAL = "建立全面合作关系，由本行作为主办行提供综合金融服务"
RESPONSES: tuple[str, ...] = bit_table(
    [(ProposalResponse.PENDING, 3), (ProposalResponse.ACCEPTED, 2), (ProposalResponse.COUNTERED, 2),
     (ProposalResponse.DECLINED, 1)],
    3,
)  # fmt: skip
COUNTER_OFFERS = ("希望利率在LPR基础上不加点", "希望额度提高五成", "希望免收账户管理费", "希望期限延长至三年",
                  "希望以应收账款质押替代保证担保")  # fmt: skip
GOALS_SHORT = (
    "年内完成新生产线投产，销售收入增长两成。",
    "旺季前备足原材料，保证订单按期交付。",
    "压缩应收账款回款周期至60天以内。",
    "今年内完成股份制改造。",
    "降低综合融资成本，置换部分高息借款。",
)
GOALS_LONG = (
    "三年内产能翻番，进入行业前三。",
    "五年内在创业板上市。",
    "拓展海外市场，出口占比提高到四成。",
    "向产业链上游延伸，建设自有原料基地。",
    "完成数字化改造，建设智能工厂。",
)
OPERATIONS = (
    "订单饱满，开工率约八成，主要客户为长三角整车厂。",
    "经营平稳，销售回款正常，存货略有增加。",
    "受原材料涨价影响，毛利率有所下降，正在调整产品结构。",
    "新厂区已投产，员工增加到{people}人。",
    "出口订单恢复，外销占比约三成。",
)
REACTIONS = (
    "对本行审批效率认可，认为利率略高于他行。",
    "网银使用顺畅，希望增加批量代付功能。",
    "对客户经理服务满意，希望产品经理一同上门讲解。",
    "对本行了解不多，愿意先从结算业务开始合作。",
)
RICH_NOTES = (
    "董事长亲自接待，交流约一个半小时，对合作态度积极。",
    "财务总监介绍了今年的资金计划，约定两周内提交方案。",
    "参观了新建生产车间，设备较新，管理规范。",
    "客户提出希望本行在旺季前落实额度，需尽快上报审批。",
)
CONFIDENTIAL_NOTES = (
    "董事长透露正在与某上市公司洽谈股权合作，暂未公开，请勿外传。",
    "财务总监私下表示对他行客户经理频繁更换不满，有意转移主要结算。",
    "实际控制人有意让儿子接班，明年起逐步交接。",
    "客户正在接受税务稽查，结果未定，授信需谨慎。",
)
SELF_CHECK_ORDER = tuple(SelfCheck.values)
SELF_CHECK_NOTES: dict[str, str] = {
    SelfCheck.ATTENTIVE: "客户讲经营情况时多次看手机，下次注意专心倾听。",
    SelfCheck.NOT_CASUAL: "与客户较熟，谈话随意了些，下次注意分寸。",
    SelfCheck.HONORIFICS: "称呼不够正式，下次注意使用敬语。",
    SelfCheck.PUNCTUAL: "路上堵车迟到十分钟，下次提前出发。",
}
OTHER_BANKS = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "招商银行", "浦发银行",
               "兴业银行", "中信银行", "杭州银行", "宁波银行", "浙商银行")  # fmt: skip
FACILITIES = ("流动资金贷款", "银行承兑汇票", "固定资产贷款", "保函", "贸易融资")
SATISFACTION: tuple[str, ...] = bit_table(
    [(Satisfaction.SATISFIED, 3), (Satisfaction.NEUTRAL, 3), (Satisfaction.DISSATISFIED, 2)], 3
)
# How much the customer borrows from another bank, in 万元, by tier (a strategic customer borrows more).
CREDIT_WAN: dict[str, tuple[int, int]] = {Tier.STRATEGIC: (5_000, 50_000), Tier.CORE: (2_000, 20_000),
                                          Tier.KEY: (500, 5_000), Tier.GENERAL: (100, 2_000)}  # fmt: skip

# --- occasions (§4.2) --------------------------------------------------------------------------------------------

E = EventKind
EVENT_KINDS: tuple[str, ...] = bit_table(
    [(E.NEW_NEED, 5), (E.HAPPY_EVENT, 4), (E.DISSATISFIED, 2), (E.STRUCTURAL_CHANGE, 2), (E.OPERATING_CHANGE, 3)], 4
)
EVENT_WORDS: dict[str, str] = {
    E.NEW_NEED: "新业务需求或新成立",
    E.HAPPY_EVENT: "喜庆事件",
    E.DISSATISFIED: "对他行服务不满",
    E.STRUCTURAL_CHANGE: "重大结构变化",
    E.OPERATING_CHANGE: "经营方式重大变化",
}
EVENT_TITLES: dict[str, tuple[str, ...]] = {
    E.NEW_NEED: ("计划新建生产线，有中长期融资需求", "新设立全资子公司，需要开立账户", "中标政府项目，需要履约保函"),
    E.HAPPY_EVENT: ("新厂区竣工投产", "公司成立二十周年庆典", "董事长获评省优秀民营企业家", "新产品发布会"),
    E.DISSATISFIED: ("对他行贷款审批时效不满，有意更换主办行", "他行抽贷，客户寻求替代融资"),
    E.STRUCTURAL_CHANGE: ("完成股权重组，引入战略投资者", "新任总经理到任", "与同行企业合并"),
    E.OPERATING_CHANGE: ("集团实行资金集中管理，归集子公司销售资金", "销售模式由经销转为直销"),
}

# --- where customers are: city centres, for a check-in's location -------------------------------------------------

CITY_CENTRES: dict[str, tuple[int, int]] = {  # GB/T 2260 city → (latitude, longitude) in millionths of a degree
    "330100": (30_274_100, 120_155_100), "330200": (29_868_300, 121_544_000), "330300": (27_994_300, 120_699_400),
    "330400": (30_746_300, 120_755_500), "330500": (30_894_300, 120_088_000), "330600": (29_997_100, 120_582_100),
    "330700": (29_078_900, 119_647_400), "330800": (28_935_600, 118_874_500), "330900": (29_985_300, 122_207_200),
    "331000": (28_656_400, 121_420_800), "331100": (28_467_600, 119_922_800), "310100": (31_230_400, 121_473_700),
    "320100": (32_060_300, 118_796_900), "320500": (31_298_900, 120_585_300), "320200": (31_490_900, 120_311_900),
    "340100": (31_820_600, 117_227_200), "350100": (26_074_500, 119_296_500), "350200": (24_479_800, 118_089_400),
    "440300": (22_543_100, 114_057_900), "110100": (39_904_200, 116_407_400), "370200": (36_067_100, 120_382_600),
    "440100": (23_129_100, 113_264_400), "510100": (30_572_800, 104_066_800), "420100": (30_592_800, 114_305_500),
    "610100": (34_341_600, 108_939_800), "430100": (28_228_200, 112_938_800), "120100": (39_125_600, 117_190_200),
    "500100": (29_563_000, 106_551_600), "410100": (34_746_600, 113_625_300), "370100": (36_651_200, 117_120_000),
}  # fmt: skip
