"""Tests for rmdesk.core.validators and rmdesk.core.identifiers.

They compare ValidationError.code rather than the message: rendering a lazy
translated message needs configured settings, and these tests need none.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from rmdesk.core.identifiers import make_credit_code, make_id_number, make_mobile
from rmdesk.core.validators import (
    credit_code_check_char,
    id_number_check_char,
    mask_id_number,
    mask_mobile,
    may_begin_credit_code,
    normalize_credit_code,
    organisation_code_check_char,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)


def error_code(validator: Callable[[str], str], value: str) -> str | None:
    """Run a validator that must fail and return its ValidationError code."""
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    return excinfo.value.code


def validation_problem(validator: Callable[[str], str], value: str) -> str | None:
    """Return why a validator rejects or rewrites a value, or None if it accepts it as is."""
    try:
        result = validator(value)
    except ValidationError as exc:
        return str(exc.code)
    return None if result == value else f"normalized to {result!r}"


# --- unified social credit code ------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"])
def test_it_accepts_a_known_valid_credit_code(code: str) -> None:
    # given a credit code published by a real enterprise
    # when it is validated
    result = validate_credit_code(code)
    # then it comes back unchanged
    assert result == code


def test_it_computes_the_check_character_of_a_known_credit_code() -> None:
    # given the first 17 characters of a known code
    first17 = "91350100M000100Y4"
    # when the check character is computed
    check = credit_code_check_char(first17)
    # then it is the published one
    assert check == "3"


def test_it_computes_the_organisation_code_check_characters_of_known_codes() -> None:
    # given the organisation code bodies embedded in known credit codes
    bodies = ["M000100Y", "80210043", "70846113"]
    # when their check characters are computed
    checks = [organisation_code_check_char(body) for body in bodies]
    # then they match characters 17 of those credit codes
    assert checks == ["4", "3", "6"]


def test_it_normalizes_a_credit_code_typed_in_lower_case_with_spaces() -> None:
    # given a valid code typed in lower case with surrounding and inner spaces
    typed = "  91350100m000 100y43 "
    # when it is validated
    result = validate_credit_code(typed)
    # then it is returned in canonical form
    assert result == "91350100M000100Y43"


def test_it_accepts_a_credit_code_typed_in_full_width_characters() -> None:
    # given a valid code typed with a Chinese input method in full-width mode
    typed = "９１３５０１００Ｍ０００１００Ｙ４３"
    # when it is validated
    result = validate_credit_code(typed)
    # then it is returned in ASCII
    assert result == "91350100M000100Y43"


def test_normalize_credit_code_only_strips_spaces_and_upper_cases() -> None:
    # given a lower-case code with spaces and an illegal letter
    typed = " 9135 0100m000100y4i "
    # when it is normalized
    result = normalize_credit_code(typed)
    # then nothing but case and spacing changed
    assert result == "91350100M000100Y4I"


def test_it_rejects_a_credit_code_with_a_wrong_check_character() -> None:
    # given a known valid code whose last character was mistyped
    # when it is validated
    code = error_code(validate_credit_code, "91350100M000100Y44")
    # then the check character is blamed
    assert code == "invalid_check_character"


def test_it_rejects_a_credit_code_of_17_characters() -> None:
    # given a valid code with its last character missing
    # when it is validated
    code = error_code(validate_credit_code, "91350100M000100Y4")
    # then the length is blamed
    assert code == "invalid_length"


def test_it_rejects_an_empty_credit_code_as_the_wrong_length() -> None:
    # given only whitespace
    # when it is validated
    code = error_code(validate_credit_code, "   ")
    # then the length is blamed
    assert code == "invalid_length"


@pytest.mark.parametrize("typed", ["91350100m000100i43", "91350100m000100o43", "91350100S000100Y43"])
def test_it_rejects_a_credit_code_containing_letters_the_standard_excludes(typed: str) -> None:
    # given a code containing I, O or S, which GB 32100 never uses
    # when it is validated
    code = error_code(validate_credit_code, typed)
    # then the illegal character is blamed
    assert code == "invalid_character"


def test_it_rejects_a_credit_code_whose_organisation_code_check_is_wrong() -> None:
    # given a code whose 17th character breaks the embedded organisation code
    # (M000100Y needs 4) while its final check character is consistent
    typed = "91350100M000100Y56"
    # when it is validated
    code = error_code(validate_credit_code, typed)
    # then the organisation code is blamed
    assert code == "invalid_organisation_code"


def test_it_rejects_a_credit_code_from_an_unknown_registration_authority() -> None:
    # given a code starting with B, which is no registration authority, but
    # otherwise consistent
    typed = "B1350100M000100Y41"
    # when it is validated
    code = error_code(validate_credit_code, typed)
    # then the registration authority is blamed
    assert code == "invalid_registration_authority"


def test_it_rejects_a_credit_code_whose_region_code_is_not_digits() -> None:
    # given a code with a letter inside characters 3-8, otherwise consistent
    typed = "91A50100M000100Y42"
    # when it is validated
    code = error_code(validate_credit_code, typed)
    # then the region code is blamed
    assert code == "invalid_region_code"


def test_every_start_of_a_valid_credit_code_may_begin_one() -> None:
    # given valid codes from 200 seeds
    codes = [make_credit_code(random.Random(seed), region_code="330106") for seed in range(200)]
    # then each of their prefixes, the empty one and the whole code included, may begin a code
    assert all(may_begin_credit_code(code[:n]) for code in codes for n in range(19))


@pytest.mark.parametrize(
    "prefix",
    [
        "HXKJ",  # H registers nothing: pinyin initials, mostly
        "9I",  # I is never used
        "91A3",  # the region code is digits
        "91330106MA2H4KXY0A1",  # 19 characters: one too many
        "913301069Z",
        "hx",  # callers upper-case first: lower case is not the alphabet
    ],
)
def test_what_no_valid_credit_code_starts_with_may_not_begin_one(prefix: str) -> None:
    assert not may_begin_credit_code(prefix)


def test_it_refuses_to_compute_a_check_character_for_a_short_body() -> None:
    # given 16 characters instead of 17
    # when / then computing a check character is a programming error
    with pytest.raises(ValueError):
        credit_code_check_char("91350100M000100Y")


# --- resident ID number ------------------------------------------------------------


def test_it_accepts_the_id_number_example_from_the_standard() -> None:
    # given the worked example of GB 11643-1999
    # when it is validated
    result = validate_id_number("11010519491231002X")
    # then it comes back unchanged
    assert result == "11010519491231002X"


def test_it_computes_the_check_character_of_the_standards_example() -> None:
    # given the first 17 digits of the standard's example
    # when its check character is computed
    check = id_number_check_char("11010519491231002")
    # then it is X
    assert check == "X"


def test_it_normalizes_a_lower_case_x_in_an_id_number() -> None:
    # given the standard's example typed with a lower-case x and spaces
    # when it is validated
    result = validate_id_number(" 110105 19491231 002x ")
    # then the X is upper-case and the spaces are gone
    assert result == "11010519491231002X"


def test_it_rejects_an_id_number_with_a_wrong_check_digit() -> None:
    # given the standard's example with its check character changed to 1
    # when it is validated
    code = error_code(validate_id_number, "110105194912310021")
    # then the check digit is blamed
    assert code == "invalid_check_digit"


def test_it_rejects_an_id_number_born_on_30_february() -> None:
    # given a number with birth date 1990-02-30 and a consistent check digit
    # when it is validated
    code = error_code(validate_id_number, "11010519900230001X")
    # then the birth date is blamed
    assert code == "invalid_birth_date"


def test_it_rejects_an_id_number_born_before_1900() -> None:
    # given a number with birth date 1899-12-31 and a consistent check digit
    # when it is validated
    code = error_code(validate_id_number, "110105189912310015")
    # then the birth date is blamed
    assert code == "invalid_birth_date"


def test_it_rejects_an_id_number_born_after_today() -> None:
    # given a number born on 29 February 2024 and a "today" the day before
    today = datetime.date(2024, 2, 28)
    # when it is validated
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number("110105202402290011", today=today)
    # then the birth date is blamed
    assert excinfo.value.code == "invalid_birth_date"


def test_it_accepts_an_id_number_born_today() -> None:
    # given a number born on 29 February 2024 and that day as "today"
    today = datetime.date(2024, 2, 29)
    # when it is validated
    result = validate_id_number("110105202402290011", today=today)
    # then it is accepted
    assert result == "110105202402290011"


@pytest.mark.parametrize(
    "typed",
    ["11010519491231002", "11010519491231002X1", "1101051949123100AX", "11010519491231002Y", ""],
)
def test_it_rejects_an_id_number_of_the_wrong_length_or_format(typed: str) -> None:
    # given input that is not 17 digits followed by a digit or X
    # when it is validated
    code = error_code(validate_id_number, typed)
    # then the format is blamed
    assert code == "invalid_format"


def test_it_rejects_an_id_number_written_with_non_ascii_digits() -> None:
    # given the standard's example with its first digit in Arabic-Indic script,
    # which str.isdigit() would accept
    # when it is validated
    code = error_code(validate_id_number, "\u06611010519491231002X")
    # then the format is blamed
    assert code == "invalid_format"


# --- mobile numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "+86 138-1234-5678", "008613812345678", "86 138 1234 5678", "8613812345678"],
)
def test_it_normalizes_a_valid_mobile_number_to_11_digits(typed: str) -> None:
    # given a mainland mobile with or without country prefix and separators
    # when it is validated
    result = validate_mobile(typed)
    # then only the 11 national digits remain
    assert result == "13812345678"


@pytest.mark.parametrize("typed", ["12812345678", "1381234567", "138123456789", "+1 138 1234 5678", ""])
def test_it_rejects_an_invalid_mobile_number(typed: str) -> None:
    # given a number with a bad second digit, bad length or foreign prefix
    # when it is validated
    code = error_code(validate_mobile, typed)
    # then the mobile number is blamed
    assert code == "invalid_mobile"


# --- masking ---------------------------------------------------------------------------


def test_it_masks_an_id_number_keeping_the_first_six_and_last_four() -> None:
    # given a full ID number
    # when it is masked
    masked = mask_id_number("110101199003071234")
    # then the birth date and sequence are hidden
    assert masked == "110101********1234"


def test_it_masks_a_mobile_keeping_the_first_three_and_last_four() -> None:
    # given a normalized mobile number
    # when it is masked
    masked = mask_mobile("13812345678")
    # then the middle four digits are hidden
    assert masked == "138****5678"


def test_masking_an_empty_value_returns_an_empty_string() -> None:
    # given no value
    # when it is masked as either kind of number
    masked = (mask_id_number(""), mask_mobile(""))
    # then nothing is returned
    assert masked == ("", "")


def test_masking_a_value_too_short_to_keep_both_ends_hides_all_of_it() -> None:
    # given values no longer than the parts that would be kept
    # when they are masked
    masked = (mask_id_number("1101011234"), mask_mobile("1381234"))
    # then every character is hidden rather than shown
    assert masked == ("**********", "*******")


# --- generators ------------------------------------------------------------------------


def test_generated_identifiers_validate_for_1000_seeds() -> None:
    # given 1000 seeded generators
    problems = []
    for seed in range(1000):
        rng = random.Random(seed)
        # when a credit code, an ID number and a mobile are generated
        made = [
            (validate_credit_code, make_credit_code(rng)),
            (validate_id_number, make_id_number(rng)),
            (validate_mobile, make_mobile(rng)),
        ]
        problems += [(seed, value, validation_problem(validator, value)) for validator, value in made]
    # then every one of them validates to itself
    assert [problem for problem in problems if problem[2] is not None] == []


def test_generators_repeat_themselves_for_the_same_seed() -> None:
    # given two generators with the same seed
    first, second = random.Random(42), random.Random(42)
    # when each generates one of every identifier
    made_first = (make_credit_code(first), make_id_number(first), make_mobile(first))
    made_second = (make_credit_code(second), make_id_number(second), make_mobile(second))
    # then the results are identical
    assert made_first == made_second


def test_generated_identifiers_carry_the_requested_prefixes_and_birth_years() -> None:
    # given a seeded generator and a Shenzhen region code
    rng = random.Random(7)
    # when a credit code and an ID number born in 1980 are generated for it
    credit_code = make_credit_code(rng, region_code="440300")
    id_number = make_id_number(rng, birth_year_range=(1980, 1980), region_code="440300")
    # then the enterprise prefix, region code and birth year are as asked
    assert (credit_code[:8], id_number[:10]) == ("91440300", "4403001980")


def test_generators_reject_a_region_code_that_is_not_six_digits() -> None:
    # given a five-digit region code
    rng = random.Random(1)
    # when / then generating with it fails loudly
    with pytest.raises(ValueError):
        make_credit_code(rng, region_code="11010")
