"""ledger.money: one rounding rule (half up to the centime), two-decimal
text, grouped display, and the parser of typed amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger import money


@pytest.mark.parametrize(("value", "expected"), [
    ("0.005", "0.01"),  # half up, where half-even would give 0.00
    ("0.015", "0.02"),
    ("2.675", "2.68"),
    ("-0.005", "-0.01"),  # half away from zero
    ("0.0049", "0.00"),
    ("-0.004", "0.00"),  # never "-0.00"
    ("38", "38.00"),
    ("1E+3", "1000.00"),
    ("1234567.891", "1234567.89"),
])
def test_cents_rounds_half_up_to_two_decimals(value, expected):
    result = money.cents(Decimal(value))
    assert str(result) == expected
    assert result.as_tuple().exponent == -2


def test_rounded_uses_the_same_rule_at_other_places():
    assert money.rounded(Decimal("0.25"), "0.1") == Decimal("0.3")
    assert money.rounded(Decimal("82.5"), 1) == Decimal("83")
    assert money.rounded(Decimal("0.12345"), "0.0001") == Decimal("0.1235")
    assert money.rounded(Decimal("0.125")) == Decimal("0.13")


def test_float_is_refused():
    with pytest.raises(TypeError, match="never float"):
        money.cents(0.1)
    with pytest.raises(TypeError):
        money.text(1.5)


@pytest.mark.parametrize(("value", "text", "grouped"), [
    (Decimal("1234.5"), "1234.50", "1,234.50"),
    (Decimal("1234567.5"), "1234567.50", "1,234,567.50"),
    (Decimal("-1234.005"), "-1234.01", "-1,234.01"),
    (Decimal("0"), "0.00", "0.00"),
    (Decimal("-0"), "0.00", "0.00"),
    (Decimal("1E+6"), "1000000.00", "1,000,000.00"),  # never scientific notation
    (7, "7.00", "7.00"),
])
def test_text_and_grouped(value, text, grouped):
    assert money.text(value) == text
    assert money.grouped(value) == grouped


@pytest.mark.parametrize(("typed", "expected"), [
    ("520000", "520000.00"),
    ("520'000.50", "520000.50"),
    ("520 000.5", "520000.50"),
    ("1\u2019234.5", "1234.50"),
    ("1_000", "1000.00"),
    (" 12.500 ", "12.50"),  # trailing zeros are not more precision
    (0.1, "0.10"),  # a workbook's numeric cell, read through its repr
    (1234567.89, "1234567.89"),
    (Decimal("3"), "3.00"),
    (42, "42.00"),
])
def test_parse_reads_typed_amounts(typed, expected):
    assert str(money.parse(typed)) == expected


@pytest.mark.parametrize(("typed", "why"), [
    ("1.001", "more than two decimals"),
    (0.125, "more than two decimals"),
    ("abc", "not an amount"),
    ("", "not an amount"),
    ("NaN", "not an amount"),
    ("Infinity", "not an amount"),
    (True, "not an amount"),
    (None, "not an amount"),
    ("-5", "must not be negative"),
    ("0", "must not be zero"),
])
def test_parse_refuses_with_one_line(typed, why):
    with pytest.raises(ValueError, match=why) as caught:
        money.parse(typed)
    assert "\n" not in str(caught.value)


def test_parse_allows_negative_and_zero_when_asked():
    assert money.parse("-12.5", allow_negative=True) == Decimal("-12.50")
    assert str(money.parse("-0", allow_zero=True)) == "0.00"
