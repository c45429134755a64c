"""Exact money: Decimal in the domain, integer fen in kernels, ROUND_HALF_UP to the fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
YUAN_PER_WAN = Decimal(10_000)


def to_money(value: Decimal | int | str) -> Decimal:
    """Round an amount half-up to the fen; floats are refused because they are already inexact."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def to_fen(value: Decimal | int | str) -> int:
    """An amount as integer fen, for vectorised kernels."""
    return int(to_money(value) * 100)


def from_fen(fen: int) -> Decimal:
    """Integer fen back to a Decimal amount."""
    return (Decimal(fen) / 100).quantize(FEN)


def ratio(numerator: Decimal | None, denominator: Decimal | None, places: int = 4) -> Decimal | None:
    """numerator / denominator rounded half-up, or None when it is undefined."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (numerator / denominator).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_wan(amount: Decimal) -> Decimal:
    """Yuan as 万元 (the unit bankers read amounts in), rounded half-up to two places: 32000000 → 3200.00."""
    return (amount / YUAN_PER_WAN).quantize(FEN, rounding=ROUND_HALF_UP)


def format_wan(amount: Decimal) -> str:
    """An amount in yuan as 万元 with thousands separators, without decimals when whole: 32000000 → 3,200."""
    wan = to_wan(amount)
    return f"{wan:,.0f}" if wan == wan.to_integral_value() else f"{wan:,.2f}"
