"""Rates as lenders write them: an annual rate with up to four decimals, priced exactly.

The expected amounts are not the engine's own output: each table is also recomputed here
with exact rationals (fractions.Fraction) and the documented rounding rules, and one is a
published table (Apache Fineract's progressive-loan EMI calculator at 9.4822%).
"""

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lending.finance.enums import Method
from lending.finance.errors import TermsError
from lending.finance.kernel import MAX_RATE_UNITS, rate_units
from lending.finance.schedule import build_schedule
from lending.finance.terms import MAX_RATE, LoanTerms

D = Decimal
RATE = D("9.4822")
START = date(2024, 1, 1)

# PKR 100,000 at 9.4822% a year, reducing, 12 monthly instalments, 30/360 (rate / 12 a
# month), instalment half up to the paisa: the exact annuity is 8,767.5245482...
REDUCING_PAISA = [
    (1, "7977.34", "790.18", "8767.52", "92022.66"),
    (2, "8040.37", "727.15", "8767.52", "83982.29"),
    (3, "8103.91", "663.61", "8767.52", "75878.38"),
    (4, "8167.94", "599.58", "8767.52", "67710.44"),
    (5, "8232.48", "535.04", "8767.52", "59477.96"),
    (6, "8297.54", "469.98", "8767.52", "51180.42"),
    (7, "8363.10", "404.42", "8767.52", "42817.32"),
    (8, "8429.18", "338.34", "8767.52", "34388.14"),
    (9, "8495.79", "271.73", "8767.52", "25892.35"),
    (10, "8562.92", "204.60", "8767.52", "17329.43"),
    (11, "8630.59", "136.93", "8767.52", "8698.84"),
    (12, "8698.84", "68.74", "8767.58", "0.00"),
]
# The same loan with the instalment rounded up to the rupee (the default product rounding).
REDUCING_RUPEE = [
    (1, "7977.82", "790.18", "8768.00", "92022.18"),
    (2, "8040.86", "727.14", "8768.00", "83981.32"),
    (3, "8104.39", "663.61", "8768.00", "75876.93"),
    (4, "8168.43", "599.57", "8768.00", "67708.50"),
    (5, "8232.98", "535.02", "8768.00", "59475.52"),
    (6, "8298.03", "469.97", "8768.00", "51177.49"),
    (7, "8363.60", "404.40", "8768.00", "42813.89"),
    (8, "8429.69", "338.31", "8768.00", "34384.20"),
    (9, "8496.30", "271.70", "8768.00", "25887.90"),
    (10, "8563.44", "204.56", "8768.00", "17324.46"),
    (11, "8631.11", "136.89", "8768.00", "8693.35"),
    (12, "8693.35", "68.69", "8762.04", "0.00"),
]
# PKR 45,678.90 at 9.4822% flat for 18 months: markup 45,678.90 x 9.4822% x 1.5 = 6,497.05,
# spread evenly by cumulative rounding; instalment (45,678.90 + 6,497.05) / 18 half up.
FLAT_PAISA = [
    (n, "2537.72" if n in (2, 6, 10, 13, 17) else "2537.71", profit, "2898.66", balance)
    for n, profit, balance in [
        (1, "360.95", "43141.19"),
        (2, "360.94", "40603.47"),
        (3, "360.95", "38065.76"),
        (4, "360.95", "35528.05"),
        (5, "360.95", "32990.34"),
        (6, "360.94", "30452.62"),
        (7, "360.95", "27914.91"),
        (8, "360.95", "25377.20"),
        (9, "360.95", "22839.49"),
        (10, "360.94", "20301.77"),
        (11, "360.95", "17764.06"),
        (12, "360.95", "15226.35"),
        (13, "360.94", "12688.63"),
        (14, "360.95", "10150.92"),
        (15, "360.95", "7613.21"),
        (16, "360.95", "5075.50"),
        (17, "360.94", "2537.78"),
    ]
] + [(18, "2537.78", "360.95", "2898.73", "0.00")]
# Apache Fineract, ProgressiveEMICalculatorTest
# .test_disbursedAmt100_dayInYears360_daysInMonth30_repayEvery1Month (fineract-progressive-
# loan): 100 disbursed 2024-01-01 at 9.4822%, six monthly periods, DAYS_360 / DAYS_30, i.e.
# every month earns rate / 12 (their rate factor 0.007901833333), exactly our 30/360 regular
# period; EMI and interest to the cent. Fineract rounds HALF_EVEN there, we round HALF_UP:
# the same cents, since no interest of this table is an exact half cent (checked below).
FINERACT_9_4822 = [
    (1, "16.34", "0.79", "17.13", "83.66"),
    (2, "16.47", "0.66", "17.13", "67.19"),
    (3, "16.60", "0.53", "17.13", "50.59"),
    (4, "16.73", "0.40", "17.13", "33.86"),
    (5, "16.86", "0.27", "17.13", "17.00"),
    (6, "17.00", "0.13", "17.13", "0.00"),
]


def half_up(paisa: Fraction) -> int:
    """Return a non-negative exact amount of paisa rounded half up to a whole paisa."""
    return math.floor(paisa + Fraction(1, 2))


def exact_reducing(principal: str, rate: str, tenor: int, unit: int) -> list[tuple]:
    """Return the reducing monthly 30/360 table by exact rationals (amounts in paisa)."""
    balance, monthly = Fraction(D(principal)) * 100, Fraction(D(rate)) / 100 / 12
    annuity = balance * monthly / (1 - (1 + monthly) ** -tenor) if monthly else balance / tenor
    level = -(-half_up(annuity) // unit) * unit  # half up to the paisa, then up to the unit
    rows = []
    for n in range(1, tenor + 1):
        profit = half_up(balance * monthly)
        part = balance if n == tenor else min(max(level - profit, 0), balance)
        balance -= part
        rows.append((n, int(part), profit, int(part) + profit, int(balance)))
    return rows


def exact_flat(principal: str, rate: str, tenor: int, unit: int) -> list[tuple]:
    """Return the flat monthly table by exact rationals (amounts in paisa)."""
    balance = Fraction(D(principal)) * 100
    markup = half_up(balance * Fraction(D(rate)) / 100 * Fraction(tenor, 12))
    total = balance + markup
    level = half_up(total / tenor) if unit == 1 else math.ceil(total / (tenor * unit)) * unit
    rows, earned = [], 0
    for n in range(1, tenor + 1):
        to_date = half_up(Fraction(markup * n, tenor))
        profit, earned = to_date - earned, to_date
        part = balance if n == tenor else min(max(level - profit, 0), balance)
        balance -= part
        rows.append((n, int(part), profit, int(part) + profit, int(balance)))
    return rows


def rupees(rows: list[tuple]) -> list[tuple]:
    return [(n, *(f"{D(v).scaleb(-2):.2f}" for v in amounts)) for n, *amounts in rows]


def table(schedule) -> list[tuple]:
    return [
        (r.n, str(r.principal), str(r.profit), str(r.total), str(r.balance_after))
        for r in schedule.instalments
    ]


def terms(**overrides) -> LoanTerms:
    values = dict(principal=D("100000"), annual_rate=RATE, tenor=12, start=START)
    return LoanTerms(**{**values, **overrides})


@pytest.mark.parametrize(
    ("rate", "units"),
    [
        (D("9.4822"), 94_822),
        (D("9.48220"), 94_822),
        (D("30"), 300_000),
        (D("30.00"), 300_000),
        (D("0.0001"), 1),
        (D("0"), 0),
        (7, 70_000),
        (MAX_RATE, MAX_RATE_UNITS),
    ],
)
def test_rate_units_are_the_exact_ten_thousandths_of_a_percent(rate, units):
    assert rate_units(rate) == units
    if isinstance(rate, Decimal):
        assert terms(annual_rate=rate).rate_units == units


@pytest.mark.parametrize(
    "rate",
    [
        D("9.48221"),
        D("0.00001"),
        D("9.48220000000000000000000000001"),  # more digits than the decimal context holds
        D("100.0001"),
        D("-0.0001"),
        D("NaN"),
        D("Infinity"),
        9.4822,
        True,
        "9.4822",
    ],
)
def test_rate_units_refuse_a_rate_they_cannot_hold_exactly(rate):
    with pytest.raises(TermsError) as raised:
        rate_units(rate)
    assert set(raised.value.errors) == {"annual_rate"}


def test_terms_take_four_places_and_refuse_five():
    assert terms().annual_rate == RATE
    with pytest.raises(TermsError) as raised:
        terms(annual_rate=D("9.48221"))
    assert raised.value.errors == {"annual_rate": ["must have at most 4 decimal places"]}


@pytest.mark.parametrize(
    ("rounding", "unit", "golden", "instalment"),
    [(D("0.01"), 1, REDUCING_PAISA, "8767.52"), (D("1"), 100, REDUCING_RUPEE, "8768.00")],
)
def test_reducing_golden_table_at_four_places(rounding, unit, golden, instalment):
    assert rupees(exact_reducing("100000", "9.4822", 12, unit)) == golden
    schedule = build_schedule(terms(rounding=rounding))
    assert table(schedule) == golden
    assert schedule.instalment_amount == D(instalment)
    assert sum(r.principal for r in schedule.instalments) == D("100000.00")


def test_four_places_are_not_priced_as_two():
    # Truncated to 9.48% the first month would earn 790.00, not 790.18.
    truncated = build_schedule(terms(annual_rate=D("9.48"), rounding=D("0.01")))
    assert truncated.instalments[0].profit == D("790.00")
    assert build_schedule(terms(rounding=D("0.01"))).instalments[0].profit == D("790.18")


def test_flat_golden_table_at_four_places():
    assert rupees(exact_flat("45678.90", "9.4822", 18, 1)) == FLAT_PAISA
    schedule = build_schedule(
        terms(principal=D("45678.90"), tenor=18, method=Method.FLAT, rounding=D("0.01"))
    )
    assert table(schedule) == FLAT_PAISA
    assert schedule.total_profit == D("6497.05")
    assert schedule.instalment_amount == D("2898.66")


def test_fineract_progressive_schedule_at_9_4822_to_the_cent():
    balance, monthly = Fraction(100), Fraction(RATE) / 100 / 12
    for *_, after in FINERACT_9_4822:
        cents = balance * monthly * 100
        assert cents - math.floor(cents) != Fraction(1, 2)  # no tie: HALF_EVEN == HALF_UP
        balance = Fraction(D(after))
    assert rupees(exact_reducing("100", "9.4822", 6, 1)) == FINERACT_9_4822
    schedule = build_schedule(
        terms(principal=D("100"), tenor=6, rounding=D("0.01"), start=date(2024, 1, 1))
    )
    assert table(schedule) == FINERACT_9_4822
    assert [r.due_date for r in schedule.instalments] == [date(2024, m, 1) for m in range(2, 8)]


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(100_000, 1_000_000_000),
    units=st.integers(0, MAX_RATE_UNITS),
    tenor=st.integers(1, 60),
    method=st.sampled_from([Method.REDUCING, Method.FLAT]),
    unit=st.sampled_from([1, 100]),
)
def test_engine_equals_exact_rationals_at_any_four_place_rate(
    principal, units, tenor, method, unit
):
    amount, rate = str(D(principal).scaleb(-2)), str(D(units).scaleb(-4))
    if method is Method.REDUCING and units:
        # The engine's annuity is numpy-financial's float (see lending.finance.schedule): it
        # rounds as the exact one does unless the exact one sits on a half paisa.
        monthly = Fraction(units, 10**6 * 12)
        annuity = principal * monthly / (1 - (1 + monthly) ** -tenor)
        assume(abs(annuity - math.floor(annuity) - Fraction(1, 2)) > Fraction(1, 10**6))
    exact = exact_reducing if method is Method.REDUCING else exact_flat
    schedule = build_schedule(
        terms(
            principal=D(amount),
            annual_rate=D(rate),
            tenor=tenor,
            method=method,
            rounding=D("0.01") if unit == 1 else D("1"),
        )
    )
    assert table(schedule) == rupees(exact(amount, rate, tenor, unit))
