"""What the demo bank's loans are made of: products with their terms and repayment methods, amounts by firm size,
purposes, and the words of collection calls and classification decisions, in Chinese."""

from __future__ import annotations

from typing import NamedTuple

from rmdesk.customers.choices import EnterpriseSize
from rmdesk.demo.vocabulary import Weights
from rmdesk.loans.choices import GuaranteeMethod, LoanProduct, RepaymentMethod
from rmdesk.postloan.choices import ContactChannel

S, G, P, R = EnterpriseSize, GuaranteeMethod, LoanProduct, RepaymentMethod


class ProductTerms(NamedTuple):
    """How loans of one product are usually written: terms in months, repayment methods, the contract number's
    prefix and what the money is for."""

    terms: Weights[int]
    methods: Weights[str]
    prefix: str
    purposes: tuple[str, ...]


# Working capital dominates a corporate book; long project and property loans are few but have many instalments.
PRODUCTS: Weights[str] = Weights(
    [(P.WORKING_CAPITAL, 44), (P.FIXED_ASSET, 20), (P.PROJECT, 6), (P.TRADE_FINANCE, 12), (P.PROPERTY_OPERATING, 8),
     (P.OTHER, 10)]
)  # fmt: skip
PRODUCT_TERMS: dict[str, ProductTerms] = {
    P.WORKING_CAPITAL: ProductTerms(
        Weights([(12, 30), (24, 30), (36, 40)]),
        Weights([(R.INTEREST_MONTHLY, 40), (R.ANNUITY, 25), (R.EQUAL_PRINCIPAL, 20), (R.INTEREST_QUARTERLY, 15)]),
        "LD",
        ("补充日常经营流动资金", "采购原材料", "支付货款及经营周转", "备货及支付人工成本", "季节性备料周转"),
    ),
    P.FIXED_ASSET: ProductTerms(
        Weights([(36, 25), (48, 25), (60, 40), (84, 10)]),
        Weights([(R.EQUAL_PRINCIPAL, 45), (R.ANNUITY, 40), (R.INTEREST_QUARTERLY, 15)]),
        "GD",
        ("购置生产设备", "厂房改扩建", "技术改造项目", "新建生产线", "购置办公用房"),
    ),
    P.PROJECT: ProductTerms(
        Weights([(60, 40), (84, 30), (120, 30)]),
        Weights([(R.EQUAL_PRINCIPAL, 50), (R.ANNUITY, 25), (R.INTEREST_QUARTERLY, 25)]),
        "XM",
        ("产业园区建设项目", "光伏发电项目", "仓储物流基地建设", "污水处理项目"),
    ),
    P.TRADE_FINANCE: ProductTerms(
        Weights([(12, 1)]),
        Weights([(R.BULLET, 50), (R.INTEREST_MONTHLY, 50)]),
        "MR",
        ("进口原材料付汇", "出口订单备货", "国内信用证项下融资", "应收账款融资"),
    ),
    P.PROPERTY_OPERATING: ProductTerms(
        Weights([(60, 30), (84, 30), (120, 40)]),
        Weights([(R.ANNUITY, 60), (R.EQUAL_PRINCIPAL, 40)]),
        "JY",
        ("商业物业经营周转", "写字楼装修改造", "置换他行经营性物业贷款"),
    ),
    P.OTHER: ProductTerms(
        Weights([(12, 30), (24, 30), (36, 40)]),
        Weights([(R.ANNUITY, 40), (R.INTEREST_MONTHLY, 30), (R.EQUAL_PRINCIPAL, 30)]),
        "QT",
        ("科技研发投入", "并购后整合资金", "绿色节能改造"),
    ),
}
# Amounts in 万元 by firm size (log-uniform within the band).
AMOUNT_WAN: dict[str, tuple[int, int]] = {
    S.MICRO: (30, 500),
    S.SMALL: (100, 3_000),
    S.MEDIUM: (500, 20_000),
    S.LARGE: (3_000, 100_000),
}
# Secured or not: small firms borrow against guarantees and property, large ones more often on credit.
GUARANTEES: dict[str, Weights[str]] = {
    S.MICRO: Weights([(G.CREDIT, 5), (G.GUARANTEE, 45), (G.MORTGAGE, 40), (G.PLEDGE, 10)]),
    S.SMALL: Weights([(G.CREDIT, 10), (G.GUARANTEE, 40), (G.MORTGAGE, 38), (G.PLEDGE, 12)]),
    S.MEDIUM: Weights([(G.CREDIT, 25), (G.GUARANTEE, 35), (G.MORTGAGE, 28), (G.PLEDGE, 12)]),
    S.LARGE: Weights([(G.CREDIT, 50), (G.GUARANTEE, 25), (G.MORTGAGE, 15), (G.PLEDGE, 10)]),
}
# Spreads over the 1-year LPR (basis points) fixed rates and floating loans are priced at.
SPREADS_BP: Weights[int] = Weights(
    [(-20, 4), (-10, 6), (0, 10), (10, 10), (20, 10), (35, 10), (50, 14), (80, 12), (100, 10), (150, 8), (200, 6)]
)

# --- collection -----------------------------------------------------------------------------------------------------

CHANNELS: Weights[str] = Weights(
    [(ContactChannel.PHONE, 12), (ContactChannel.VISIT, 5), (ContactChannel.MESSAGE, 4), (ContactChannel.LETTER, 1)]
)
RESULTS_PROMISE = (
    "财务负责人表示近期回款延迟，承诺在约定日期前归还逾期本息。",
    "客户称下游货款已在途，承诺到账后立即还款。",
    "法定代表人确认欠款金额，承诺分批归还，首笔于约定日期前到账。",
    "客户正在办理他行续贷，承诺资金到位后归还逾期部分。",
)
RESULTS_NO_PROMISE = (
    "电话无人接听，已发送短信提醒还款。",
    "客户承认资金紧张，暂无法给出还款时间，已告知罚息及征信影响。",
    "上门催收，企业仍在正常生产，主要销售回款周期拉长。",
    "已向保证人发送履行保证责任提示函。",
    "客户表示对罚息金额有异议，已解释合同约定的计息方式。",
)
RESULT_PAID = "客户已按承诺归还部分逾期本息，继续跟踪剩余欠款。"

# --- classification -------------------------------------------------------------------------------------------------

DOWNGRADE_REASONS = (
    "本息逾期，借款人经营性现金流紧张，按逾期天数下调分类。",
    "逾期时间延长，第一还款来源不足，需依靠担保或处置抵押物。",
    "多次催收未果，承诺还款未履行，风险进一步暴露。",
)
UPGRADE_REASON = "逾期本息及罚息已全部结清，此后连续按期还款，风险因素消除，上调为正常类。"
