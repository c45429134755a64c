"""Validators and masks for Chinese identifiers: credit codes, ID numbers, mobiles.

Every function is pure: no database, no settings, no I/O. The only Django pieces
used are ``ValidationError`` (so form and model fields can use these directly)
and ``gettext_lazy`` (so messages are translated at render time, not import
time).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# --- Unified social credit code 统一社会信用代码 (GB 32100-2015) -----------------

# The standard drops I, O, Z, S and V because they are easily confused with
# 1, 0, 2, 5 and U when written by hand; a character's value is its index here.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Weight of position i is 3**i mod 31, as the standard defines it.
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Character 1 names the registering authority: 1 机构编制, 2 外交, 3 司法行政,
# 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 工商 (market regulation),
# A 中央军委改革和编制办公室, N 农业, Y 其他. Anything else was never issued.
CREDIT_CODE_AUTHORITIES = frozenset("123456789ANY")

# Characters 9-17 embed the GB 11714 organisation code; within it letters count
# A=10 ... Z=35, which is not the same mapping as the credit-code alphabet.
ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# --- Resident identity card number 公民身份号码 (GB 11643-1999) --------------------

ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# The check character is this string indexed by the weighted sum mod 11.
ID_NUMBER_CHECK_CHARS = "10X98765432"

# Nobody holding a current card was born before this; earlier dates are typos.
ID_NUMBER_EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)

# str.isdigit() is true for Arabic-Indic and other non-ASCII digits, which
# int() then happily converts; compare against ASCII explicitly instead.
_ASCII_DIGITS = frozenset("0123456789")

# --- Mainland mobile numbers -------------------------------------------------------

# After separators are removed: an optional country prefix, then 1[3-9] and
# nine more digits. A bare "86" prefix is unambiguous because no 11-digit
# mainland mobile starts with 86, so a 13-digit "86..." must carry the prefix.
_MOBILE_RE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})", re.ASCII)

# Characters people type between digit groups; stripped before matching.
_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")


def _normalize_text(value: str) -> str:
    """Fold full-width characters to ASCII and drop all whitespace."""
    # Chinese input methods in full-width mode type "９１３５…" and "\u3000";
    # NFKC maps both to their ASCII forms so users are not told off for them.
    folded = unicodedata.normalize("NFKC", value)
    return "".join(folded.split())


def _is_ascii_digits(value: str) -> bool:
    """Tell whether a non-empty string holds only ASCII digits."""
    return bool(value) and all(char in _ASCII_DIGITS for char in value)


def organisation_code_check_char(first8: str) -> str:
    """Return the GB 11714 check character for an 8-character organisation code body."""
    if len(first8) != 8:
        raise ValueError("an organisation code body has exactly 8 characters")
    total = 0
    for char, weight in zip(first8, ORGANISATION_CODE_WEIGHTS, strict=True):
        # int(c, 36) maps 0-9 to 0-9 and A-Z to 10-35, which is GB 11714's table.
        if not (char in _ASCII_DIGITS or "A" <= char <= "Z"):
            raise ValueError(f"illegal organisation code character {char!r}")
        total += int(char, 36) * weight
    check = 11 - total % 11
    # 11 - r lies in 1..11; the two values that are not single digits get letters.
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a credit code."""
    if len(first17) != 17:
        raise ValueError("a credit code body has exactly 17 characters")
    total = 0
    for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True):
        value = CREDIT_CODE_ALPHABET.find(char)
        if value < 0:
            raise ValueError(f"illegal credit code character {char!r}")
        total += value * weight
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """Strip, drop all spaces and upper-case a credit code as typed by a user."""
    return _normalize_text(value).upper()


def may_begin_credit_code(prefix: str) -> bool:
    """Whether a valid credit code could start with `prefix` (upper-case): its alphabet, a registration authority first,
    and digits where the region code lies. Quick search asks the codes only for a query that could begin one."""
    return (
        len(prefix) <= 18
        and all(char in CREDIT_CODE_ALPHABET for char in prefix)
        and prefix[:1] in CREDIT_CODE_AUTHORITIES | {""}
        and all(char in _ASCII_DIGITS for char in prefix[2:8])
    )


def validate_credit_code(value: str) -> str:
    """Validate a unified social credit code and return it normalized."""
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(
            _("Enter an 18-character unified social credit code."),
            code="invalid_length",
        )
    if any(char not in CREDIT_CODE_ALPHABET for char in code):
        raise ValidationError(
            _("A unified social credit code may only contain digits and capital letters other than I, O, S, V and Z."),
            code="invalid_character",
        )
    if code[0] not in CREDIT_CODE_AUTHORITIES:
        raise ValidationError(
            _("The first character of the unified social credit code is not a registration authority."),
            code="invalid_registration_authority",
        )
    if not _is_ascii_digits(code[2:8]):
        raise ValidationError(
            _("Characters 3 to 8 of the unified social credit code must be a region code of six digits."),
            code="invalid_region_code",
        )
    # Check the embedded organisation code first: a typo there is more useful
    # to report than the generic final check failure it would also cause.
    if organisation_code_check_char(code[8:16]) != code[16]:
        raise ValidationError(
            _("The organisation code inside the unified social credit code (characters 9 to 17) is not valid."),
            code="invalid_organisation_code",
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The unified social credit code's check character is wrong; please check for a typo."),
            code="invalid_check_character",
        )
    return code


def id_number_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise ValueError("an ID number body has exactly 17 ASCII digits")
    total = sum(int(char) * weight for char, weight in zip(first17, ID_NUMBER_WEIGHTS, strict=True))
    return ID_NUMBER_CHECK_CHARS[total % 11]


def validate_id_number(value: str, *, today: datetime.date | None = None) -> str:
    """Validate an 18-character resident ID number and return it normalized."""
    # Lower-case x is common in typed input; the standard's character is X.
    number = _normalize_text(value).upper()
    if len(number) != 18 or not _is_ascii_digits(number[:17]) or number[17] not in "0123456789X":
        raise ValidationError(
            _("Enter an 18-character resident ID number: 17 digits followed by a digit or X."),
            code="invalid_format",
        )
    # `today` is injectable so tests do not depend on the wall clock.
    latest = today if today is not None else datetime.date.today()
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth_date = None
    if birth_date is None or not ID_NUMBER_EARLIEST_BIRTH_DATE <= birth_date <= latest:
        raise ValidationError(
            _("The birth date in the resident ID number (digits 7 to 14) is not a possible date of birth."),
            code="invalid_birth_date",
        )
    if id_number_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The resident ID number's check digit is wrong; please check for a typo."),
            code="invalid_check_digit",
        )
    return number


def validate_mobile(value: str) -> str:
    """Validate a mainland China mobile number and return its 11 digits."""
    # Fold full-width digits first so "１３８…" typed in a Chinese IME passes.
    compact = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    match = _MOBILE_RE.fullmatch(compact)
    if match is None:
        raise ValidationError(
            _("Enter a mainland China mobile number of 11 digits starting with 13 to 19."),
            code="invalid_mobile",
        )
    return match.group(1)


def _mask_middle(value: str, keep_head: int, keep_tail: int) -> str:
    """Replace all but the first keep_head and last keep_tail characters with *."""
    if len(value) <= keep_head + keep_tail:
        # Too short to hide anything while keeping both ends: hide it all
        # rather than show the whole value.
        return "*" * len(value)
    hidden = len(value) - keep_head - keep_tail
    return value[:keep_head] + "*" * hidden + value[len(value) - keep_tail :]


def mask_id_number(value: str) -> str:
    """Mask an ID number for display, keeping the region code and last four."""
    # First 6 (region) and last 4 are what staff use to confirm identity by
    # phone; the birth date in between is personal information (PIPL).
    return _mask_middle(value.strip(), 6, 4)


def mask_mobile(value: str) -> str:
    """Mask a mobile number for display as 138****5678."""
    return _mask_middle(value.strip(), 3, 4)


def field_validator(check: Callable[[str], str], name: str) -> Callable[[str], None]:
    """A model-field validator from a validate_* function (Django ignores the normalized value it returns).

    `name` is the module-level name it is bound to, so migrations can refer to it.
    """

    def run(value: str) -> None:
        if value:
            check(value)

    run.__name__ = run.__qualname__ = name
    return run


# Model fields point at these so migrations can name them.
credit_code_validator = field_validator(validate_credit_code, "credit_code_validator")
id_number_validator = field_validator(validate_id_number, "id_number_validator")
mobile_validator = field_validator(validate_mobile, "mobile_validator")
