"""Tests for the GB/T 4754 industry and GB/T 2260 region reference data."""

from __future__ import annotations

import string

from rmdesk.core.reference import city_choices, division_choices, industries, regions

# Section letters and their division ranges as fixed by GB/T 4754-2017.
DIVISION_RANGES = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}

MUNICIPALITY_CODES = {"110000", "120000", "310000", "500000"}


# --- industries ------------------------------------------------------------------------


def test_industries_have_the_20_sections_a_to_t_in_order() -> None:
    # given the industry reference data
    # when its section codes are listed
    codes = [section.code for section in industries()]
    # then they are exactly A to T
    assert codes == list(string.ascii_uppercase[:20])


def test_industries_have_97_unique_divisions_numbered_01_to_97() -> None:
    # given the industry reference data
    # when all division codes are listed in order
    codes = [division.code for section in industries() for division in section.divisions]
    # then they are 01 to 97, each once
    assert codes == [f"{number:02d}" for number in range(1, 98)]


def test_each_section_holds_the_division_range_the_standard_assigns() -> None:
    # given the industry reference data
    # when each section's first and last division are read
    ranges = {
        section.code: (int(section.divisions[0].code), int(section.divisions[-1].code))
        for section in industries()
    }
    # then they match the standard
    assert ranges == DIVISION_RANGES


def test_industries_carry_the_standards_chinese_names() -> None:
    # given the industry reference data
    sections = {section.code: section for section in industries()}
    divisions = {division.code: division for section in industries() for division in section.divisions}
    # when a few names are looked up
    names = (sections["C"].name_zh, divisions["13"].name_zh, divisions["39"].name_zh, divisions["96"].name_zh)
    # then they are spelled as in GB/T 4754-2017
    assert names == (
        "制造业",
        "农副食品加工业",
        "计算机、通信和其他电子设备制造业",
        "基层群众自治组织及其他组织",
    )


def test_every_section_and_division_has_chinese_and_english_names() -> None:
    # given the industry reference data
    names = [(section.code, section.name_zh, section.name_en) for section in industries()]
    names += [
        (division.code, division.name_zh, division.name_en)
        for section in industries()
        for division in section.divisions
    ]
    # when entries lacking either name are collected
    unnamed = [code for code, name_zh, name_en in names if not name_zh.strip() or not name_en.strip()]
    # then there are none
    assert unnamed == []


def test_division_choices_are_grouped_by_section_with_coded_labels() -> None:
    # given the division choices
    choices = division_choices()
    # when the manufacturing group is found
    groups = dict(choices)
    # then it has 31 divisions labelled with their codes
    assert (len(choices), len(groups["C 制造业"]), groups["C 制造业"][0]) == (
        20,
        31,
        ("13", "13 农副食品加工业"),
    )


def test_industries_returns_a_fresh_list_each_call() -> None:
    # given a caller that empties the list it received
    industries().clear()
    # when industries are read again
    sections = industries()
    # then the cached data is intact
    assert len(sections) == 20


# --- regions ---------------------------------------------------------------------------


def test_regions_have_31_mainland_provinces_and_hong_kong_macao_taiwan() -> None:
    # given the region reference data
    # when province codes are listed
    codes = [province.code for province in regions()]
    # then there are 34, unique, with Taiwan, Hong Kong and Macao last
    assert (len(codes), len(set(codes)), codes[-3:]) == (34, 34, ["710000", "810000", "820000"])


def test_regions_have_at_least_330_prefecture_level_divisions_on_the_mainland() -> None:
    # given the region reference data
    # when its mainland prefecture-level divisions are counted
    count = sum(len(province.cities) for province in regions() if province.code[:2] < "71")
    # then there are at least 330 (333 prefectures plus the 4 municipalities)
    assert count >= 330


def test_every_region_code_has_six_digits_and_is_unique() -> None:
    # given the region reference data
    codes = [province.code for province in regions()]
    codes += [city.code for province in regions() for city in province.cities]
    # when malformed codes are collected
    malformed = [code for code in codes if len(code) != 6 or not code.isascii() or not code.isdigit()]
    # then there are none, and no code repeats
    assert (malformed, len(set(codes))) == ([], len(codes))


def test_every_city_code_starts_with_its_provinces_first_two_digits() -> None:
    # given the region reference data
    # when cities filed under the wrong province are collected
    misfiled = [
        city.code for province in regions() for city in province.cities if city.code[:2] != province.code[:2]
    ]
    # then there are none
    assert misfiled == []


def test_each_municipality_has_one_entry_named_after_itself() -> None:
    # given the region reference data
    municipalities = [province for province in regions() if province.code in MUNICIPALITY_CODES]
    # when their prefecture-level entries are read
    entries = {
        province.name_zh: [(city.code, city.name_zh) for city in province.cities]
        for province in municipalities
    }
    # then each has a single entry with its own name, not 市辖区
    assert entries == {
        "北京市": [("110100", "北京市")],
        "天津市": [("120100", "天津市")],
        "上海市": [("310100", "上海市")],
        "重庆市": [("500100", "重庆市")],
    }


def test_provinces_have_english_names() -> None:
    # given the region reference data
    names = {province.code: province.name_en for province in regions()}
    # when a few are looked up
    looked_up = (names["150000"], names["540000"], names["640000"], names["810000"])
    # then they are the standard English names
    assert looked_up == ("Inner Mongolia", "Tibet", "Ningxia", "Hong Kong")


def test_city_choices_are_grouped_by_province_and_skip_provinces_without_cities() -> None:
    # given the city choices
    groups = dict(city_choices())
    # when Guangdong's entries and the groups without cities are read
    guangdong = dict(groups["广东省"])
    # then Shenzhen is there under its code and Hong Kong is not a group
    assert (guangdong["440300"], "香港特别行政区" in groups, len(groups)) == ("深圳市", False, 31)
