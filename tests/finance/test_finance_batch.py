"""The batch engine gives the one-loan engine's schedules to the paisa."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from finance_strategies import any_terms
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.finance.batch import _MAX_FINANCED, METHODS, BatchTerms, build_batch
from lending.finance.batch_steps import RATE_BITS
from lending.finance.enums import DayCount, Frequency, Method
from lending.finance.errors import TermsError
from lending.finance.kernel import MAX_RATE_UNITS, rate_units
from lending.finance.money import to_paisa
from lending.finance.plan import DateKey
from lending.finance.schedule import build_schedule
from lending.finance.terms import MAX_PRINCIPAL, MAX_RATE, MAX_TENOR, LoanTerms

D = Decimal


def one_loan_rows(terms: LoanTerms) -> list[tuple]:
    schedule = build_schedule(terms)
    return [
        (
            r.n,
            r.due_date,
            to_paisa(r.principal),
            to_paisa(r.profit),
            to_paisa(r.total),
            to_paisa(r.balance_after),
        )
        for r in schedule.instalments
    ]


def assert_same(loans: list[LoanTerms]) -> None:
    batch = build_batch(BatchTerms.from_terms(loans))
    for i, terms in enumerate(loans):
        assert batch.rows(i) == one_loan_rows(terms), terms


@settings(max_examples=100, deadline=None)
@given(st.lists(any_terms(), min_size=1, max_size=25))
def test_batch_equals_one_loan_engine_on_any_terms(loans):
    assert_same(loans)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(100_000, 40_000_000),
            st.integers(0, 450_000),  # rate units: 0-45% with four decimals
            st.integers(1, 36),
            st.sampled_from(Method),
            st.sampled_from(Frequency),
            st.booleans(),
        ),
        min_size=30,
        max_size=120,
    )
)
def test_batch_equals_one_loan_engine_on_regular_loans(rows):
    # Many loans per group: the tenor-sorted prefixes and the even flat spread are exercised.
    loans = [
        LoanTerms(
            principal=D(p) / 100,
            annual_rate=D(units) / 10_000,
            tenor=n,
            start=date(2025, 1, 31),
            method=m,
            frequency=f,
            rounding=D("1") if rupee else D("0.01"),
        )
        for p, units, n, m, f, rupee in rows
    ]
    assert_same(loans)


@pytest.mark.parametrize("method", list(Method))
@pytest.mark.parametrize("day_count", list(DayCount))
def test_batch_equals_one_loan_engine_with_odd_first_periods(method, day_count):
    loans = [
        LoanTerms(
            principal=D("123456.78"),
            annual_rate=D("41.5"),
            tenor=n,
            start=date(2025, 1, 10),
            first_due=date(2025, 2, 28),
            method=method,
            day_count=day_count,
            roll_holidays=True,
            fee=D("999"),
            fee_financed=bool(n % 2),
        )
        for n in (1, 2, 7, 12, 24)
    ]
    assert_same(loans)


@pytest.mark.parametrize("method", list(Method))
@pytest.mark.parametrize(
    ("frequency", "first_due"),
    [(Frequency.MONTHLY, date(2025, 9, 1)), (Frequency.WEEKLY, date(2025, 7, 15))],
)
def test_batch_equals_one_loan_engine_at_the_int64_bounds(method, frequency, first_due):
    # The largest financed amount, the highest rate with four decimals, the longest tenor and
    # a first period two regular ones long (actual/365): every int64 product at its largest.
    # The one-loan engine computes in Python ints, so it is the exact reference.
    loans = [
        LoanTerms(
            principal=MAX_PRINCIPAL,
            annual_rate=rate,
            tenor=MAX_TENOR,
            start=date(2025, 7, 1),  # two months to 1 September: 62 days
            first_due=first_due,
            method=method,
            frequency=frequency,
            day_count=day_count,
            fee=MAX_PRINCIPAL - D("0.01"),
            rounding=D("0.01"),
        )
        for rate in (MAX_RATE, D("99.9999"), D("9.4822"))
        for day_count in DayCount
    ]
    assert_same(loans)


def test_packed_financed_and_rate_fit_in_an_int64():
    assert _MAX_FINANCED.bit_length() + RATE_BITS <= 63
    assert MAX_RATE_UNITS < 1 << RATE_BITS
    assert rate_units(MAX_RATE) == MAX_RATE_UNITS


def test_level_instalment_is_reported_per_loan():
    loans = [
        LoanTerms(
            principal=D("100000"), annual_rate=D("30"), tenor=12, start=date(2024, 1, 15), method=m
        )
        for m in Method
    ]
    batch = build_batch(BatchTerms.from_terms(loans))
    assert [batch.level(i) for i in range(3)] == [974_900, 1_083_400, 833_400]


def columns(size: int = 3, **overrides) -> dict:
    key = DateKey(date(2025, 1, 1), None, Frequency.MONTHLY, DayCount.D30_360, False)
    ones = np.ones(size, dtype=np.int64)
    values = dict(
        financed=ones * 1_000_000,
        rate_units=ones * 300_000,
        tenor=ones * 12,
        method=ones * METHODS.index(Method.FLAT),
        unit=ones * 100,
        calendar=ones * 0,
        calendars=(key,),
    )
    return {**values, **overrides}


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("financed", np.array([0, 1, 2])),
        ("rate_units", np.array([0, 1_000_001, 5])),
        ("tenor", np.array([0, 12, 12])),
        ("method", np.array([0, 3, 1])),
        ("unit", np.array([1, 50, 100])),
        ("calendar", np.array([0, 1, 0])),
        ("tenor", np.array([12.0, 12.0, 12.0])),
        ("rate_units", np.ones(2, dtype=np.int64)),
    ],
)
def test_bad_batch_columns_name_the_field(field, bad):
    with pytest.raises(TermsError) as raised:
        BatchTerms(**columns(**{field: bad}))
    assert field in raised.value.errors


def test_empty_batch():
    empty = np.zeros(0, dtype=np.int64)
    batch = build_batch(
        BatchTerms(
            **columns(
                0,
                financed=empty,
                rate_units=empty,
                tenor=empty,
                method=empty,
                unit=empty,
                calendar=empty,
            )
        )
    )
    assert batch.groups == ()
