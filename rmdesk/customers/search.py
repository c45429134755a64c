"""Search keys of customer names and how a quick-search query is read. Pure: no Django, no database.

A name is compared in one normalised form (NFKC, no whitespace, case-folded), so 华兴（杭州） and 华兴(杭州)
are the same. Its keys are:
- two-character windows of the normalised name ("grams"), for Chinese substrings from two characters;
- its full pinyin ("huaxingkejiyouxiangongsi"), phrase-aware, plus alternate readings of polyphonic
  characters (重庆 → chongqing, zhongqing), capped at MAX_READINGS readings;
- its pinyin initials ("hxkjyxgs"), from the first character and from every later character before the
  legal form (有限公司…), so hxkj finds 杭州华兴科技有限公司 too.
Every pinyin key is plain ASCII: a range `key >= 'ihx' AND key < 'ihy'` on a B-tree orders the same in any
database collation.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.phrases_dict import phrases_dict
from pypinyin.seg import mmseg

# At most this many readings of one name are kept: a name full of polyphones must not explode.
MAX_READINGS = 8
# Longest stored pinyin key (with its kind letter); a longer query is checked against the name itself.
PINYIN_KEY_LENGTH = 48
INITIALS_KEY_LENGTH = 24
NAME_LENGTH = 400
PINYIN, INITIALS, CODE = "p", "i", "c"  # kinds of key: the first letter of each
LATER = "~"  # in a name's letters (SearchKeys.letters): before a key that starts after the name's first character
# Legal forms at the end of a name, longest first. Initials starting inside one (yxgs) would match almost
# every customer, so none is stored; the full pinyin and the Chinese substrings still cover them.
LEGAL_FORMS = (
    "集团股份有限公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团公司",
    "合伙企业",
    "分公司",
    "公司",
)

QueryKind = Literal["name", "letters"]


def normalize(text: str) -> str:
    """The form names and queries are compared in: NFKC (full-width → half-width), no whitespace, case-folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()[:NAME_LENGTH]


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\U00020000" <= char <= "\U0003134f"


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


@lru_cache(maxsize=1)
def _readings_in_use() -> frozenset[tuple[str, str]]:
    """(character, reading) pairs that occur in pypinyin's phrase dictionary: readings people actually use.

    pypinyin also knows rare readings (杭 kang, 技 qi, 有 wei); offered as alternates they would fill the cap of
    MAX_READINGS with readings nobody types, and crowd out 重 zhong or 行 xing.
    """
    pairs: set[tuple[str, str]] = set()
    for phrase, readings in phrases_dict.items():
        for char, reading in zip(phrase, readings, strict=False):
            pairs.add((char, to_normal(reading[0])))  # lǜ → lv, as Style.NORMAL writes it
    return frozenset(pairs)


@lru_cache(maxsize=100_000)
def _word_readings(word: str) -> tuple[str, ...]:
    """One reading per character of a word as pypinyin segments a run of Han characters (杭州, 银行, 有限公司).

    Cached: names share their words, and pypinyin's conversion is most of the cost of a key.
    """
    readings = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
    if len(readings) == len(word):
        return tuple(readings)
    # A character pypinyin cannot read: read them one by one, "" for the unreadable one (it gets no syllable).
    return tuple((lazy_pinyin(char, style=Style.NORMAL, errors="ignore") or [""])[0] for char in word)


@lru_cache(maxsize=20_000)
def _alternates_of(char: str) -> tuple[str, ...]:
    """The readings in use of one Han character, tone-less (行 → xing, hang, heng; 杭 → none besides hang)."""
    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    in_use = _readings_in_use()
    return tuple(r for r in (found[0] if found else []) if r.isascii() and r.isalpha() and (char, r) in in_use)


@dataclass(frozen=True)
class _Unit:
    """A Han character or a run of ASCII letters and digits: one syllable of the pinyin."""

    start: int  # offset in the normalised name
    options: tuple[str, ...]  # the phrase-aware reading first, then the other readings
    han: bool

    def initial(self, syllable: str) -> str:
        # A syllable gives its first letter (zhong → z); a run of ASCII (tcl, 3m) is kept whole.
        return syllable[0] if self.han else syllable


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    i = 0
    while i < len(text):
        char = text[i]
        if _is_ascii_alnum(char):
            j = i
            while j < len(text) and _is_ascii_alnum(text[j]):
                j += 1
            units.append(_Unit(i, (text[i:j],), han=False))
            i = j
        elif _is_han(char):
            j = i
            while j < len(text) and _is_han(text[j]):
                j += 1
            run = text[i:j]
            # Phrase-aware: 重庆 reads chongqing, 银行 yinhang (one reading per character).
            primary = [reading for word in mmseg.seg.cut(run) for reading in _word_readings(word)]
            for offset, char_reading in enumerate(primary):
                options = [char_reading] if char_reading.isascii() and char_reading.isalpha() else []
                options += [r for r in _alternates_of(run[offset]) if r not in options]
                if options:
                    units.append(_Unit(i + offset, tuple(options), han=True))
            i = j
        else:
            i += 1  # punctuation and other scripts take part in substrings, not in pinyin
    return units


def _core_length(text: str) -> int:
    """Characters before the legal form at the end of the name, if it has one."""
    for form in LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            return len(text) - len(form)
    return len(text)


def _readings(units: list[_Unit], core_length: int) -> list[tuple[str, ...]]:
    """Up to MAX_READINGS readings of the whole name: the phrase-aware one, then fewest changes first.

    Only characters before the legal form vary: 有 read wei or 司 read ci are nobody's mistake.
    """
    primary = tuple(u.options[0] for u in units)
    readings = [primary]
    varying = [k for k, u in enumerate(units) if u.start < core_length and len(u.options) > 1]
    for changes in range(1, len(varying) + 1):
        for positions in itertools.combinations(varying, changes):
            for choice in itertools.product(*(units[k].options[1:] for k in positions)):
                reading = list(primary)
                for k, option in zip(positions, choice, strict=True):
                    reading[k] = option
                readings.append(tuple(reading))
                if len(readings) >= MAX_READINGS:
                    return readings
    return readings


@dataclass(frozen=True)
class SearchKeys:
    """What a customer is found by: its normalised name and the pinyin of that name."""

    name: str  # normalised: 华兴科技有限公司
    pinyin: str  # huaxingkejiyouxiangongsi (the phrase-aware reading)
    initials: str  # hxkjyxgs
    pinyin_alternates: tuple[str, ...]  # other readings of polyphonic characters: zhongqing… for 重庆…
    initials_alternates: tuple[str, ...]
    # (key, unit index) pairs, kind letter first: "phuaxing…" at 0, "ihxkjyxgs" at 0, "ikjyxgs" at 2 …
    keys: tuple[tuple[str, int], ...]

    @property
    def letters(self) -> str:
        """The pinyin and initials keys as one string, each after a space, LATER before those starting after the
        name's first character (" phuaxing… ihxkjyxgs ~ixkjyxgs …"): Customer.search_letters, which a small scope's
        letters query is matched on with the name, with no key read (see customers.queries)."""
        return "".join(f" {key}" if position == 0 else f" {LATER}{key}" for key, position in self.keys)

    @property
    def grams(self) -> list[tuple[int, str]]:
        """(offset, text): the first character alone (for one-character queries), then every two-character window."""
        return [(0, self.name[:1]), *name_grams(self.name)] if self.name else []


def name_grams(name: str) -> list[tuple[int, str]]:
    return [(i, name[i : i + 2]) for i in range(len(name) - 1)]


def search_keys(name: str) -> SearchKeys:
    """The keys of one customer name, computed the same way on every save and in every bulk load."""
    text = normalize(name)
    units = _units(text)
    core_length = _core_length(text)
    readings = _readings(units, core_length) if units else [()]
    pinyins = list(dict.fromkeys("".join(r) for r in readings))
    initials_of = [[unit.initial(syllable) for unit, syllable in zip(units, r, strict=True)] for r in readings]
    initials = list(dict.fromkeys("".join(parts) for parts in initials_of))
    keys: dict[str, int] = {}
    for full in pinyins:
        if full:
            keys.setdefault((PINYIN + full)[:PINYIN_KEY_LENGTH], 0)
    for parts in initials_of:
        for k, unit in enumerate(units):
            if k > 0 and unit.start >= core_length:
                break
            suffix = "".join(parts[k:])
            if suffix:
                keys.setdefault((INITIALS + suffix)[:INITIALS_KEY_LENGTH], k)
    return SearchKeys(
        name=text,
        pinyin=pinyins[0],
        initials=initials[0],
        pinyin_alternates=tuple(pinyins[1:]),
        initials_alternates=tuple(initials[1:]),
        keys=tuple(keys.items()),
    )


# --- rows for the database ----------------------------------------------------------------------------------


class Searchable(NamedTuple):
    """What the search rows of one customer are computed from."""

    id: int
    name: str
    credit_code: str = ""
    # The units whose heads see the customer: its owning unit, then the units of its co-RMs. Each search row is
    # written once per unit, so a unit's search filters on the index entry itself (see CustomerNameGram).
    units: tuple[int, ...] = ()


# The columns of SearchRows' tuples, in order, for loaders that write them (executemany, COPY).
GRAM_COLUMNS = ("customer_id", "unit_id", "position", "gram", "name_length")  # CustomerNameGram
KEY_COLUMNS = ("customer_id", "unit_id", "key", "position", "name_length")  # CustomerSearchKey


@dataclass
class SearchRows:
    """Rows to write for a batch of customers, as plain tuples (for executemany, COPY or bulk_create)."""

    names: list[tuple[int, str]]  # (customer id, normalised name) → Customer.search_name
    letters: list[str]  # the names' keys, in the same order → Customer.search_letters (SearchKeys.letters)
    grams: list[tuple[int, int | None, int, str, int]]  # GRAM_COLUMNS
    keys: list[tuple[int, int | None, str, int, int]]  # KEY_COLUMNS


def bulk_search_rows(customers: Iterable[Searchable | tuple[int, str]]) -> SearchRows:
    """The search rows of many customers at once, for loaders that write rows in bulk.

    Give (id, name, credit code, unit ids) as a Searchable; a bare (id, name) pair gives rows with no unit and
    no code key, which only a search over the whole bank finds (rmdesk reindex-search fills in the rest).
    """
    rows = SearchRows(names=[], letters=[], grams=[], keys=[])
    for item in customers:
        customer = item if isinstance(item, Searchable) else Searchable(*item)
        keys = search_keys(customer.name)
        length = len(keys.name)
        pairs = list(keys.keys)
        if customer.credit_code:
            pairs.append((CODE + customer.credit_code.lower(), 0))
        rows.names.append((customer.id, keys.name))
        rows.letters.append(keys.letters)
        for unit in dict.fromkeys(customer.units) or [None]:
            rows.grams.extend((customer.id, unit, position, gram, length) for position, gram in keys.grams)
            rows.keys.extend((customer.id, unit, key, position, length) for key, position in pairs)
    return rows


# --- queries ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A quick-search query as typed, read: Chinese (or mixed) text is a name substring; ASCII letters and digits
    are pinyin, initials or a credit-code prefix."""

    text: str  # normalised
    kind: QueryKind

    @property
    def code(self) -> str:
        """The query as a credit-code prefix (codes are stored upper-case)."""
        return self.text.upper()

    @property
    def substring(self) -> bool:
        """A Chinese query of one character matches names that start with it only: one character is in too many."""
        return self.kind == "letters" or len(self.text) >= 2

    def grams(self) -> list[tuple[int, str]]:
        return name_grams(self.text)


def read_query(raw: str) -> Query | None:
    """Normalise what was typed and say how to match it; None when nothing is left to search for."""
    text = normalize(raw).replace("ü", "v")  # pypinyin writes ü as v (lv), and so do pinyin keyboards
    if not text:
        return None
    kind: QueryKind = "letters" if all(_is_ascii_alnum(c) for c in text) else "name"
    return Query(text=text, kind=kind)


LOWER = "0123456789abcdefghijklmnopqrstuvwxyz"
UPPER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def next_prefix(prefix: str, alphabet: str = LOWER) -> str | None:
    """The smallest string of `alphabet` after every string that starts with `prefix` (None: nothing is).

    Keys and codes are digits and letters of one case, and so is the bound: a range `key >= 'ihx' AND key < 'ihy'`
    then orders the same under a linguistic collation (en_US, zh_CN) as byte by byte, and uses a plain B-tree.
    """
    chars = list(prefix)
    while chars:
        index = alphabet.find(chars.pop())
        if index == -1:
            raise ValueError(f"{prefix!r} is not made of {alphabet}")
        if index + 1 < len(alphabet):
            return "".join(chars) + alphabet[index + 1]
    return None
