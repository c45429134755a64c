"""Plausible Chinese company names, person names, job titles and preference notes for the demo bank.

Every function draws only from the ``random.Random`` it is given, so a seed gives the same names on every
run and machine. Nothing here touches the database. A million-customer bank draws some five million names,
so indexes are drawn as `int(rng.random() * n)` rather than through `rng.choice` and `rng.sample`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from rmdesk.customers.choices import EnterpriseSize, KeyPersonRole

T = TypeVar("T")


def _pick(rng: random.Random, values: Sequence[T]) -> T:
    return values[int(rng.random() * len(values))]


# --- trade names 字号 ---------------------------------------------------------------------------------

# Curated 字号 as they appear on real licences: auspicious pairs, landmarks and a few three-character ones.
_TRADE_NAME_TEXT = """
    华兴 恒泰 鑫源 永盛 金桥 中科 瑞丰 宏达 天成 海天 东方 新华 正泰 德力 远大 万向 荣盛 恒逸 华峰 明珠
    富春 钱塘 之江 西子 百川 汇通 联创 博远 卓越 精工 巨力 双龙 飞鹰 金鹰 银河 星辰 宇航 天马 神州 嘉禾
    禾丰 绿源 青山 翠峰 雪峰 长城 长江 黄河 泰山 华山 昆仑 南湖 东海 北辰 南洋 环宇 寰宇 永固 永安 永兴
    永康 永利 永鑫 恒丰 恒昌 恒通 恒达 恒信 恒远 恒力 恒瑞 恒升 宏远 宏泰 宏图 宏昌 鸿运 鸿达 鸿基 鸿业
    鸿福 鼎盛 鼎新 鼎泰 鼎丰 鼎力 金盛 金诚 金瑞 金达 金泰 金辉 金鼎 金马 金龙 金狮 银泰 银海 银龙 华盛
    华泰 华瑞 华通 华达 华宇 华恒 华鑫 华联 华美 华晨 华立 华东 华信 华康 华星 华光 中天 中宏 中联 中凯
    中兴 中恒 中盛 中汇 中泽 天顺 天和 天润 天瑞 天元 天宇 天合 天工 天源 天翔 新奥 新光 新力 新元 新宇
    振华 振兴 振宇 兴业 兴达 兴隆 兴旺 兴盛 兴源 兴华 隆盛 隆达 隆鑫 瑞祥 瑞达 瑞泰 瑞安 瑞康 瑞普 瑞和
    润丰 润达 润泽 润和 嘉诚 嘉利 嘉泰 嘉宏 嘉华 嘉盛 佳利 佳和 信达 信诚 信和 诚信 诚达 诚泰 安信 安达
    安泰 康达 康泰 康华 富达 富丰 富华 富强 昌盛 昌达 昌隆 泰和 泰丰 泰隆 泰昌 同创 同力 同德 立信 立达
    立新 博达 博盛 博通 博华 卓信 卓达 超达 腾飞 腾达 腾龙 飞达 飞龙 飞跃 骏马 龙腾 龙盛 龙达 凤凰 万丰
    万通 万盛 万兴 万利 万家 千禧 百盛 百合 广源 广达 广厦 大地 大成 大通 开元 开泰 亚太 亚东 欧亚 美达
    光明 光华 曙光 朝阳 旭日 旭升 新世纪 新天地 金三角 东南亚
"""
TRADE_NAMES: tuple[str, ...] = tuple(_TRADE_NAME_TEXT.split())

# Any two different characters from here read as a 字号 (恒源, 鑫达, 瑞昌 …); they widen the curated list.
TRADE_NAME_CHARS = "华恒鑫永金中瑞宏泰兴源达丰昌隆德信安康嘉润鼎鸿天新博诚富盛宇通利远创力汇联腾众和"

# On a name clash a third character is appended to the 字号 (华兴 → 华兴达), as real firms do.
EXTRA_CHARS = "达源通盛丰昌泰利鑫宏辉祥顺发"

# Industry words after the 字号, by GB/T 4754 division, so a name says what the firm does.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "01": ("农业科技", "生态农业", "农业开发"),
    "13": ("粮油", "农产品", "饲料"),
    "14": ("食品",),
    "15": ("酒业", "饮品", "茶业"),
    "17": ("纺织", "织造", "印染"),
    "18": ("服饰", "服装"),
    "19": ("鞋业", "皮革"),
    "20": ("木业",),
    "21": ("家具", "家居"),
    "22": ("纸业", "包装"),
    "23": ("印务", "印刷"),
    "24": ("文具", "工艺品", "体育用品"),
    "26": ("化工", "新材料", "精细化工"),
    "27": ("医药", "药业", "生物医药"),
    "28": ("化纤",),
    "29": ("塑业", "橡塑", "塑料制品"),
    "30": ("建材", "新型建材", "玻璃"),
    "31": ("钢铁", "特钢"),
    "32": ("铜业", "铝业", "有色金属"),
    "33": ("五金", "金属制品", "紧固件"),
    "34": ("机械", "精密机械", "阀门", "泵业", "轴承"),
    "35": ("机械设备", "智能装备", "环保设备"),
    "36": ("汽车零部件", "汽配"),
    "38": ("电气", "电器", "电机", "电缆"),
    "39": ("电子", "光电", "通信设备"),
    "40": ("仪器仪表", "仪表"),
    "41": ("实业",),
    "44": ("能源", "新能源", "热电"),
    "47": ("建设", "建设工程", "建工"),
    "48": ("市政工程", "路桥工程", "交通建设"),
    "49": ("机电安装", "安装工程"),
    "50": ("装饰工程", "建筑装饰"),
    "51": ("贸易", "进出口", "供应链管理", "商贸"),
    "52": ("商贸", "超市", "百货"),
    "54": ("物流", "运输"),
    "55": ("海运", "航运"),
    "58": ("国际货运代理", "供应链"),
    "59": ("仓储", "物流"),
    "61": ("酒店管理",),
    "62": ("餐饮管理",),
    "64": ("网络科技", "互联网科技", "信息科技"),
    "65": ("软件", "信息技术", "数字科技", "科技"),
    "70": ("房地产开发", "置业", "置业发展"),
    "71": ("设备租赁", "租赁"),
    "72": ("企业管理", "商务咨询", "投资管理", "会展服务"),
    "73": ("生物科技", "科技"),
    "74": ("检测", "工程设计", "勘测设计"),
    "75": ("科技服务", "科技发展"),
    "77": ("环保科技", "环境工程"),
    "84": ("医院管理",),
}
FALLBACK_INDUSTRY_WORDS = ("实业", "科技", "发展")

# --- person names -------------------------------------------------------------------------------------

# Surnames with rough per-mille frequencies, tilted towards Zhejiang (金, 叶, 应, 俞, 楼 are common there).
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 71),
    ("李", 70),
    ("张", 68),
    ("刘", 54),
    ("陈", 60),
    ("杨", 31),
    ("黄", 22),
    ("赵", 20),
    ("吴", 24),
    ("周", 21),
    ("徐", 18),
    ("孙", 15),
    ("马", 12),
    ("朱", 14),
    ("胡", 15),
    ("郭", 11),
    ("何", 11),
    ("林", 12),
    ("郑", 12),
    ("金", 9),
    ("叶", 9),
    ("潘", 7),
    ("蒋", 7),
    ("沈", 8),
    ("方", 6),
    ("钱", 5),
    ("应", 4),
    ("俞", 4),
    ("汪", 5),
    ("楼", 3),
    ("高", 10),
    ("罗", 8),
    ("梁", 8),
    ("宋", 7),
    ("许", 7),
    ("韩", 6),
    ("冯", 6),
    ("邓", 6),
    ("曹", 6),
    ("彭", 5),
    ("曾", 5),
    ("谢", 6),
    ("董", 5),
    ("袁", 5),
    ("程", 5),
    ("蔡", 5),
    ("丁", 4),
    ("章", 4),
    ("毛", 4),
    ("邵", 4),
    ("施", 3),
    ("姚", 4),
    ("卢", 4),
    ("傅", 3),
    ("吕", 4),
    ("任", 4),
    ("陆", 4),
    ("夏", 3),
    ("严", 3),
    ("葛", 3),
    ("戴", 3),
    ("范", 3),
)
# Each surname as often as its weight: one index into this draws a surname by frequency.
_SURNAME_TABLE = tuple(surname for surname, weight in SURNAMES for _ in range(weight))

GIVEN_NAME_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华建文辉玉萍红燕鹏飞俊斌宇浩凯健峰林波志国春晓海亮"
    "婷雪琳晨欣嘉怡梅兰丹东宁鑫博鸿昊然子轩雨思佳晶颖倩慧莉云蕾新荣立成德振永庆祥瑞卫利彬昕哲睿"
)

# --- job titles by key-person role ----------------------------------------------------------------------

_BIG = (EnterpriseSize.LARGE, EnterpriseSize.MEDIUM)
_TITLES: dict[str, tuple[str, ...]] = {
    KeyPersonRole.ACTUAL_CONTROLLER: ("董事长", "实际控制人", "控股股东", "董事"),
    KeyPersonRole.FINANCE_HEAD: ("财务总监", "财务经理", "财务负责人"),
    KeyPersonRole.FINANCE_STAFF: ("会计", "出纳", "财务主管", "主办会计"),
    KeyPersonRole.DECISION_MAKER: ("副总经理", "常务副总经理", "董事会秘书", "采购总监", "运营总监"),
}

# --- preference notes ---------------------------------------------------------------------------------

# Grouped so a note takes at most one phrase per group and never contradicts itself
# (偏好线上办理 next to 喜欢当面详谈).
PREFERENCE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("注重长期合作", "倾向多家银行合作", "与他行关系密切", "注重个人关系维护", "重视银行专业能力"),
    ("决策谨慎", "决策果断", "决策需董事会讨论", "重大事项听取财务意见", "财务口径严格"),
    ("偏好书面方案", "喜欢简洁直接的方案", "习惯电话沟通", "偏好微信沟通", "喜欢当面详谈", "偏好线上办理"),
    ("重视融资成本", "对利率敏感", "看重审批效率", "对抵押要求敏感", "希望简化手续", "重视服务响应速度"),
    (
        "关注结算便利",
        "关注汇率风险管理",
        "关注员工代发与福利",
        "重视供应链金融",
        "有上市计划",
        "计划扩大产能",
        "关注绿色信贷政策",
        "对新产品接受度高",
    ),
    ("时间观念强", "需提前预约", "上午方便见面", "周末不便打扰"),
)

_ORDINAL_DIGITS = "零一二三四五六七八九"


def city_prefix(city_name: str) -> str:
    """The place word a firm's name starts with: 杭州市 → 杭州."""
    return city_name.removesuffix("市")


def _ordinal(number: int) -> str:
    """第二 … 第九十九 for the rare name that clashes even with an extra 字号 character."""
    if number < 10:
        digits = _ORDINAL_DIGITS[number]
    elif number < 100:
        tens, ones = divmod(number, 10)
        digits = ("" if tens == 1 else _ORDINAL_DIGITS[tens]) + "十" + (_ORDINAL_DIGITS[ones] if ones else "")
    else:
        digits = str(number)
    return "第" + digits


def trade_name(rng: random.Random) -> str:
    """A 字号: mostly from the curated list, otherwise a pair of auspicious characters."""
    if rng.random() < 0.6:
        return _pick(rng, TRADE_NAMES)
    # Two different characters: the second is drawn from the others.
    first = int(rng.random() * len(TRADE_NAME_CHARS))
    second = int(rng.random() * (len(TRADE_NAME_CHARS) - 1))
    return TRADE_NAME_CHARS[first] + TRADE_NAME_CHARS[second + (second >= first)]


def industry_word(rng: random.Random, division: str) -> str:
    """A word naming what a firm of this GB/T 4754 division does (34 → 精密机械)."""
    return _pick(rng, INDUSTRY_WORDS.get(division, FALLBACK_INDUSTRY_WORDS))


def _legal_form(rng: random.Random, size: str) -> str:
    roll = rng.random()
    forms: tuple[tuple[float, str], ...]  # (cumulative share, legal form)
    if size == EnterpriseSize.LARGE:
        forms = ((0.25, "集团有限公司"), (0.55, "股份有限公司"), (0.95, "有限公司"), (1.0, "有限责任公司"))
    elif size == EnterpriseSize.MEDIUM:
        forms = ((0.15, "股份有限公司"), (0.90, "有限公司"), (1.0, "有限责任公司"))
    else:
        forms = ((0.88, "有限公司"), (1.0, "有限责任公司"))
    return next(form for limit, form in forms if roll < limit)


def _middle(rng: random.Random, division: str, form: str) -> str:
    """The industry word; a group often names only itself or calls itself a holding (控股)."""
    if form != "集团有限公司":
        return industry_word(rng, division)
    roll = rng.random()
    if roll < 0.5:
        return industry_word(rng, division)
    return "控股" if roll < 0.75 else ""


class CompanyNames:
    """Draws company names and remembers them, so no name is given twice in one bank."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def __contains__(self, name: object) -> bool:
        return name in self._taken

    def __len__(self) -> int:
        return len(self._taken)

    def company(self, rng: random.Random, *, place: str, division: str, size: str, province: str = "") -> str:
        """A unique name such as 杭州华兴精密机械有限公司; big firms sometimes carry the province (浙江…)."""
        if province and size == EnterpriseSize.LARGE and rng.random() < 0.35:
            place = province
        for _ in range(6):
            form = _legal_form(rng, size)
            name = place + trade_name(rng) + _middle(rng, division, form) + form
            if self._claim(name):
                return name
        # Crowded (large demo banks): lengthen the 字号, then number it as a last resort.
        base, middle, form = trade_name(rng), industry_word(rng, division), _legal_form(rng, size)
        for extra in EXTRA_CHARS:
            if extra not in base and self._claim(name := place + base + extra + middle + form):
                return name
        number = 2
        while not self._claim(name := place + base + _ordinal(number) + middle + form):
            number += 1
        return name

    def _claim(self, name: str) -> bool:
        if name in self._taken:
            return False
        self._taken.add(name)
        return True


def person_name(rng: random.Random) -> str:
    """A common surname (by frequency) and one or two given-name characters."""
    random_ = rng.random
    surname = _SURNAME_TABLE[int(random_() * len(_SURNAME_TABLE))]
    given = GIVEN_NAME_CHARS[int(random_() * len(GIVEN_NAME_CHARS))]
    if random_() < 0.3:
        return surname + given
    return surname + given + GIVEN_NAME_CHARS[int(random_() * len(GIVEN_NAME_CHARS))]


def job_title(rng: random.Random, role: str, size: str) -> str:
    """A title that fits the key person's role and the size of the firm."""
    if role == KeyPersonRole.LEGAL_REPRESENTATIVE:
        # Small firms usually have an executive director (执行董事) instead of a board.
        options = ("董事长", "董事长兼总经理", "总经理") if size in _BIG else ("执行董事兼总经理", "总经理", "执行董事")
        return _pick(rng, options)
    if role == KeyPersonRole.FINANCE_HEAD and size == EnterpriseSize.LARGE and rng.random() < 0.2:
        return "总会计师"
    return _pick(rng, _TITLES.get(role, ("经理",)))


def preferences(rng: random.Random) -> str:
    """A short note on how the person decides and likes to be approached, e.g. 注重长期合作，决策谨慎."""
    # Two or three different groups: a partial shuffle of the group numbers.
    order = list(range(len(PREFERENCE_GROUPS)))
    phrases = []
    for n in range(2 if rng.random() < 0.5 else 3):
        swap = n + int(rng.random() * (len(order) - n))
        order[n], order[swap] = order[swap], order[n]
        phrases.append(_pick(rng, PREFERENCE_GROUPS[order[n]]))
    return "，".join(phrases)
