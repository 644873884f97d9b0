"""finance/money.py: the paisa conversions, checked against amounts worked out by hand."""

from decimal import Decimal

import pytest

from lending.finance.money import PAISA, ZERO, decimal_places_ok, quantize, to_money, to_paisa


def test_paisa_and_zero_are_two_place_amounts():
    assert Decimal("0.01") == PAISA and PAISA.as_tuple().exponent == -2
    assert ZERO == 0 and str(ZERO) == "0.00"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        # Half a paisa goes up (ROUND_HALF_UP), also on an even paisa where banker's rounding
        # (ROUND_HALF_EVEN) would stay down: 0.125 -> 0.13, 2.345 -> 2.35.
        ("0.125", "0.13"),
        ("2.345", "2.35"),
        ("1,639.005", "1639.01"),
        # Below half a paisa goes down (ROUND_UP or ROUND_CEILING would go up).
        ("0.1249", "0.12"),
        ("38499.994", "38499.99"),
        # Negative amounts round half away from zero.
        ("-0.125", "-0.13"),
        ("-0.124", "-0.12"),
    ],
)
def test_quantize_rounds_half_up_to_the_paisa(amount, expected):
    assert quantize(Decimal(amount.replace(",", ""))) == Decimal(expected)


@pytest.mark.parametrize(
    ("amount", "paisa"),
    [
        ("0.125", 13),  # half a paisa up, not to the even 12
        ("0.135", 14),
        ("0.1249", 12),
        ("1639.005", 163901),
        ("-0.125", -13),  # half away from zero, never truncated towards it (-12)
        ("38499", 3849900),
        ("0.01", 1),
        ("-2.50", -250),
    ],
)
def test_to_paisa_rounds_a_sub_paisa_amount_half_up(amount, paisa):
    assert to_paisa(Decimal(amount)) == paisa


@pytest.mark.parametrize("amount", [0.1, 1639.0, 0.0])
def test_to_paisa_refuses_a_float(amount):
    with pytest.raises(TypeError, match="float"):
        to_paisa(amount)


def test_to_money_has_exactly_two_places():
    assert str(to_money(163901)) == "1639.01"
    assert str(to_money(-13)) == "-0.13"
    assert str(to_money(0)) == "0.00"


@pytest.mark.parametrize(
    ("value", "places", "ok"),
    [
        ("1.25", 2, True),
        ("1.255", 2, False),
        ("1.500", 2, True),
        ("9.4822", 4, True),
        ("9.48225", 4, False),
        ("3", 0, True),
        ("3.5", 0, False),
    ],
)
def test_decimal_places_ok(value, places, ok):
    assert decimal_places_ok(Decimal(value), places) is ok
