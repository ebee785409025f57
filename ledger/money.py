"""Money: CHF amounts as ``Decimal``, rounded one way, written one way.

- **Rounding** is half up to the centime (``0.005`` -> ``0.01``), as the bank
  and the Committee's tables round; ``rounded`` applies the same rule to
  ratios and percentages at other precisions. Nothing here passes through
  ``float``.
- **Out**: ``text`` is the two-decimal string of JSON, CSV and the ledger
  (``1234.50``); ``grouped`` the display form with thousands separators
  (``1,234.50``) for pages, PDFs and command-line tables.
- **In**: ``parse`` reads an amount a person typed or a workbook cell holds
  (``520000``, ``520'000.00``, ``520 000.50``) and refuses more than two
  decimals rather than rounding them away.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Digit-group separators people type: space, apostrophe (Swiss), typographic
# apostrophe, no-break and narrow no-break spaces, underscore.
_SEPARATORS = re.compile(r"[\s'\u2019\u00a0\u202f_]")


def rounded(value: Decimal | int, places: Decimal | str | int = CENT) -> Decimal:
    """``value`` rounded half up to the exponent of ``places`` (``"0.1"``, ``1``)."""
    return _exact(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def cents(value: Decimal | int) -> Decimal:
    """``value`` rounded half up to the centime, always with two decimals
    (``38`` -> ``38.00``). A result of zero is ``0.00``, never ``-0.00``."""
    result = _exact(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return result if result else ZERO


def padded(value: Decimal) -> Decimal:
    """An amount as the bank gave it, with at least two decimals (``38`` ->
    ``38.00``) and never rounded: what booking writes to the ledger."""
    value = _exact(value)
    return value.quantize(CENT) if value.as_tuple().exponent > -2 else value


def text(value: Decimal | int) -> str:
    """The two-decimal string of an amount: ``1234.5`` -> ``"1234.50"``."""
    return f"{cents(value):f}"


def grouped(value: Decimal | int) -> str:
    """An amount for display: ``1234567.5`` -> ``"1,234,567.50"``."""
    return f"{cents(value):,f}"


def parse(value: str | Decimal | int | float, *, allow_negative: bool = False, allow_zero: bool = False) -> Decimal:
    """An amount with at most two decimals, as ``Decimal`` with two decimals;
    negative and zero amounts only when allowed.

    Accepts ``Decimal``, ``int``, text with digit-group separators, or a
    numeric workbook cell (openpyxl returns ``float``; its ``repr`` is the
    shortest text that reads back as the same number, so ``0.1`` stays
    ``0.1``). Raises ``ValueError`` whose message says what is wrong.
    """
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int, float)):
        raise ValueError(f"{value!s}: not an amount")
    number = _decimal(value)
    if number != cents(number):
        raise ValueError(f"{value!s}: more than two decimals")
    if number < 0 and not allow_negative:
        raise ValueError(f"{value!s}: must not be negative")
    if number == 0 and not allow_zero:
        raise ValueError(f"{value!s}: must not be zero")
    return cents(number)


def _exact(value: Decimal | int) -> Decimal:
    """``Decimal(value)``, refusing a float: its binary value is not the amount
    it prints (``Decimal(0.1)`` is 0.1000000000000000055...)."""
    if isinstance(value, float):
        raise TypeError(f"{value!r}: money is Decimal, never float")
    return Decimal(value)


def _decimal(value: str | Decimal | int | float) -> Decimal:
    if isinstance(value, (Decimal, int)):
        number = Decimal(value)
    else:
        typed = value if isinstance(value, str) else repr(value)
        try:
            number = Decimal(_SEPARATORS.sub("", typed))
        except InvalidOperation:
            raise ValueError(f"{value!s}: not an amount") from None
    if not number.is_finite():
        raise ValueError(f"{value!s}: not an amount")
    return number
