"""Deterministic generators of valid-looking identifiers for demo data and tests.

Each generator draws only from the ``random.Random`` it is given, so a seed
reproduces the same identifiers on every run and machine. The check characters
come from :mod:`rmdesk.core.validators`, so generated values pass validation by
construction rather than by a second copy of the algorithms.
"""

from __future__ import annotations

import datetime
import random

from rmdesk.core.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    id_number_check_char,
    organisation_code_check_char,
)

_DIGITS = "0123456789"


def _require_region_code(region_code: str) -> None:
    """Reject a region code that is not six ASCII digits."""
    # A bad region code would make every generated value invalid; fail loudly
    # at the call site instead of producing data that later fails validation.
    if len(region_code) != 6 or any(char not in _DIGITS for char in region_code):
        raise ValueError(f"region_code must be six digits, got {region_code!r}")


def make_credit_code(rng: random.Random, region_code: str = "110105") -> str:
    """Return a valid unified social credit code for an enterprise (prefix 91)."""
    _require_region_code(region_code)
    # "9" = registered with market regulation, "1" = enterprise: the most
    # common kind of corporate customer a relationship manager sees.
    body = "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(8))
    # Every organisation code check character (0-9 or X) is also a legal
    # credit-code character, so the result needs no re-drawing.
    first17 = "91" + region_code + body + organisation_code_check_char(body)
    return first17 + credit_code_check_char(first17)


def make_id_number(
    rng: random.Random,
    birth_year_range: tuple[int, int] = (1955, 2000),
    region_code: str = "110105",
) -> str:
    """Return a valid 18-digit resident ID number born within the given years."""
    _require_region_code(region_code)
    first_year, last_year = birth_year_range
    if not 1900 <= first_year <= last_year:
        raise ValueError(f"birth_year_range must be ordered and from 1900, got {birth_year_range!r}")
    earliest = datetime.date(first_year, 1, 1).toordinal()
    # Never generate a birth date in the future, which validation rejects.
    latest = min(datetime.date(last_year, 12, 31), datetime.date.today()).toordinal()
    if latest < earliest:
        raise ValueError(f"birth_year_range lies in the future: {birth_year_range!r}")
    # Drawing a day ordinal rather than year/month/day keeps dates uniform and
    # never yields 30 February.
    birth_date = datetime.date.fromordinal(rng.randint(earliest, latest))
    # Sequence 000 is not issued; odd sequences are men, even ones women.
    sequence = rng.randint(1, 999)
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + id_number_check_char(first17)


def make_mobile(rng: random.Random) -> str:
    """Return a valid 11-digit mainland mobile number."""
    return "1" + rng.choice("3456789") + "".join(rng.choice(_DIGITS) for _ in range(9))
