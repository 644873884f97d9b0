"""The batch engine's column checks on both sides of every bound, and how it groups loans.

The bounds are written here as numbers: a bound that moves by one must fail a test.
"""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from lending.finance.batch import BatchTerms, build_batch
from lending.finance.enums import DayCount
from lending.finance.errors import TermsError
from lending.finance.terms import LoanTerms
from tests.finance.test_finance_batch import assert_same, columns

EDGES = [  # (column, lowest accepted, highest accepted)
    ("financed", 1, 2_000_000_000),  # Rs 10,000,000 and a fee below it, in paisa
    ("rate_units", 0, 1_000_000),  # 0% to 100% a year
    ("tenor", 1, 120),
    ("method", 0, 2),  # reducing, flat, equal principal
    ("calendar", 0, 1),  # two calendars below
]


def batch_of(name: str, value: int) -> BatchTerms:
    fields = columns(1, **{name: np.array([value], dtype=np.int64)})
    fields["calendars"] = fields["calendars"] * 2
    return BatchTerms(**fields)


@pytest.mark.parametrize(("name", "low", "high"), EDGES)
def test_the_lowest_and_highest_values_of_a_column_are_accepted(name, low, high):
    assert int(getattr(batch_of(name, low), name)[0]) == low
    assert int(getattr(batch_of(name, high), name)[0]) == high


@pytest.mark.parametrize(("name", "low", "high"), EDGES)
def test_one_beyond_either_end_of_a_column_is_refused(name, low, high):
    for value in (low - 1, high + 1):
        with pytest.raises(TermsError) as raised:
            batch_of(name, value)
        assert raised.value.errors == {name: [f"every value must be from {low} to {high}"]}


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        (0, "every value must be from 1 to 100"),
        (101, "every value must be from 1 to 100"),
        (50, "every value must be 1 or 100"),
    ],
)
def test_the_rounding_unit_is_a_paisa_or_a_rupee(unit, message):
    assert int(batch_of("unit", 1).unit[0]) == 1 and int(batch_of("unit", 100).unit[0]) == 100
    with pytest.raises(TermsError) as raised:
        batch_of("unit", unit)
    assert raised.value.errors == {"unit": [message]}


def test_loans_differing_only_in_tenor_are_priced_as_one_group():
    """One group per (method, calendar's accrual, rounding unit), its loans by tenor."""
    tenors = np.array([6, 12, 24, 12], dtype=np.int64)
    batch = build_batch(BatchTerms(**columns(4, tenor=tenors)))
    assert len(batch.groups) == 1
    assert [len(batch.rows(i)) for i in range(4)] == [6, 12, 24, 12]


def test_another_rounding_unit_is_another_group():
    units = np.array([100, 1, 100], dtype=np.int64)
    batch = build_batch(BatchTerms(**columns(3, unit=units)))
    assert len(batch.groups) == 2


def test_calendars_alike_for_the_shortest_loan_only_are_not_priced_alike():
    """Monthly actual/365 from 1 March 2025: periods of 31, 30, 31, 30 days; from 1 October
    2025: 31, 30, 31, 31. A 3-month loan from March and a 12-month loan from October agree on
    their first three periods only: each must still be priced on its own calendar."""
    loans = [
        LoanTerms(
            principal=Decimal("50000"),
            annual_rate=Decimal("36"),
            tenor=tenor,
            start=start,
            day_count=DayCount.ACTUAL_365,
        )
        for tenor, start in ((3, date(2025, 3, 1)), (12, date(2025, 10, 1)))
    ]
    batch = build_batch(BatchTerms.from_terms(loans))
    assert len(batch.groups) == 2
    assert_same(loans)
