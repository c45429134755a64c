"""Read-only national reference data: industries (GB/T 4754-2017) and regions (GB/T 2260).

The JSON files beside this module are the data; this module only loads them
once per process into frozen dataclasses and shapes them as Django choices.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

# Django accepts grouped choices as (group label, [(value, label), ...]) pairs;
# select widgets render each group as an <optgroup>.
GroupedChoices = list[tuple[str, list[tuple[str, str]]]]


@dataclass(frozen=True, slots=True)
class Division:
    """A two-digit GB/T 4754 division (大类), e.g. 39 计算机、通信和其他电子设备制造业."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Section:
    """A GB/T 4754 section (门类) A-T with its divisions in code order."""

    code: str
    name_zh: str
    name_en: str
    divisions: tuple[Division, ...]


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level division (地级), identified by its six-digit GB/T 2260 code."""

    code: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class Province:
    """A provincial-level division (省级) with its prefecture-level divisions."""

    code: str
    name_zh: str
    name_en: str
    cities: tuple[City, ...]


def _read_json(name: str) -> Any:
    """Parse one of the JSON files shipped in this package."""
    # importlib.resources rather than a path next to __file__, so the data is
    # found even when the package is installed from a wheel or zip.
    return json.loads(files(__name__).joinpath(name).read_text(encoding="utf-8"))


@functools.cache
def _sections() -> tuple[Section, ...]:
    """Load industries.json once; a tuple so the cached value cannot be mutated."""
    data = _read_json("industries.json")
    return tuple(
        Section(
            code=section["code"],
            name_zh=section["name_zh"],
            name_en=section["name_en"],
            divisions=tuple(
                Division(code=division["code"], name_zh=division["name_zh"], name_en=division["name_en"])
                for division in section["divisions"]
            ),
        )
        for section in data["sections"]
    )


@functools.cache
def _provinces() -> tuple[Province, ...]:
    """Load regions.json once; a tuple so the cached value cannot be mutated."""
    data = _read_json("regions.json")
    return tuple(
        Province(
            code=province["code"],
            name_zh=province["name_zh"],
            name_en=province["name_en"],
            cities=tuple(City(code=city["code"], name_zh=city["name_zh"]) for city in province["cities"]),
        )
        for province in data["provinces"]
    )


def industries() -> list[Section]:
    """Return the 20 GB/T 4754-2017 sections, each with its divisions."""
    # A fresh list per call: callers may sort or filter it without touching
    # the cache, while the frozen items themselves are shared safely.
    return list(_sections())


def _english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")


def division_choices() -> GroupedChoices:
    """Return the 97 divisions as Django choices grouped by section, e.g. ("39", "39 计算机…").

    Labels follow the active language; Django evaluates callable choices on each use.
    """
    english = _english()
    return [
        (
            f"{section.code} {section.name_en if english else section.name_zh}",
            [
                (division.code, f"{division.code} {division.name_en if english else division.name_zh}")
                for division in section.divisions
            ],
        )
        for section in _sections()
    ]


@functools.cache
def division_codes() -> frozenset[str]:
    """The codes of the 97 divisions: what an industry may hold, whatever the language of the labels."""
    return frozenset(division.code for section in _sections() for division in section.divisions)


# What a page shows where a value is missing.
DASH = "—"


def division_shown(code: str | None) -> str:
    """The division's label for a page, or a dash where there is no code."""
    return division_label(code) if code else DASH


def city_shown(code: str | None) -> str:
    """The city's label for a page, or a dash where there is no code."""
    return city_label(code) if code else DASH


def division_label(code: str) -> str:
    """The division's name in the active language, or the code itself if unknown."""
    return _division_label(code, _english())


# Labels are asked for 50 at a time by every list page; the tables are walked once per code and language. Bounded:
# a code that is no division (imported data) is kept too.
@functools.lru_cache(maxsize=4096)
def _division_label(code: str, english: bool) -> str:
    for section in _sections():
        for division in section.divisions:
            if division.code == code:
                return f"{code} {division.name_en if english else division.name_zh}"
    return code


_CITY_SUFFIXES = (("自治州", " Autonomous Prefecture"), ("地区", " Prefecture"), ("盟", " League"), ("市", ""))


@functools.cache
def city_name_en(name_zh: str) -> str:
    """An English name for a prefecture-level division from its pinyin: 杭州市 → Hangzhou.

    GB/T 2260 has no English names; romanised names are what the bank's English documents use.
    """
    from pypinyin import lazy_pinyin

    for suffix, english in _CITY_SUFFIXES:
        if name_zh.endswith(suffix):
            stem = name_zh[: -len(suffix)]
            if suffix == "自治州":
                stem = stem[:2]  # 延边朝鲜族自治州 → Yanbian Autonomous Prefecture
            return "".join(lazy_pinyin(stem)).title() + english
    return "".join(lazy_pinyin(name_zh)).title()


def province_name(province: Province) -> str:
    return province.name_en if _english() else province.name_zh


def section_name(section: Section) -> str:
    return section.name_en if _english() else section.name_zh


def city_label(code: str) -> str:
    """Province and city name for a GB/T 2260 code in the active language, e.g. 浙江省 杭州市."""
    return _city_label(code, _english())


@functools.lru_cache(maxsize=4096)
def _city_label(code: str, english: bool) -> str:
    for province in _provinces():
        for city in province.cities:
            if city.code == code:
                if english:
                    return f"{city_name_en(city.name_zh)}, {province.name_en}"
                return f"{province.name_zh} {city.name_zh}"
    return code


@functools.cache
def city_codes() -> frozenset[str]:
    """The codes of the prefecture-level divisions: what a region may hold, whatever the language of the labels."""
    return frozenset(city.code for province in _provinces() for city in province.cities)


def regions() -> list[Province]:
    """Return the provincial-level divisions, each with its prefecture-level divisions."""
    return list(_provinces())


def city_choices() -> GroupedChoices:
    """Return prefecture-level divisions as Django choices grouped by province."""
    # Hong Kong, Macao and Taiwan carry no prefecture codes in the source data;
    # an empty <optgroup> is only noise in a select, so they are left out.
    english = _english()
    return [
        (
            province.name_en if english else province.name_zh,
            [(city.code, city_name_en(city.name_zh) if english else city.name_zh) for city in province.cities],
        )
        for province in _provinces()
        if province.cities
    ]
