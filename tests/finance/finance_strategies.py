"""Hypothesis strategies shared by the finance tests (imported as a plain module)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from lending.finance.enums import DayCount, Frequency, Method, Prepayment
from lending.finance.terms import LoanTerms

D = Decimal


@st.composite
def any_terms(draw, methods=tuple(Method), islamic=st.booleans()) -> LoanTerms:
    """Draw valid terms over every option, first due dates included."""
    start = draw(st.dates(date(2023, 1, 1), date(2027, 12, 31)))
    frequency = draw(st.sampled_from(Frequency))
    span = {Frequency.MONTHLY: 58, Frequency.FORTNIGHTLY: 28, Frequency.WEEKLY: 14}[frequency]
    offset = draw(st.one_of(st.none(), st.integers(1, span)))
    return LoanTerms(
        principal=D(draw(st.integers(100_000, 1_000_000_000))) / 100,
        annual_rate=D(draw(st.integers(0, 1_000_000))) / 10_000,  # 0-100%, up to 4 places
        tenor=draw(st.integers(1, 60)),
        start=start,
        method=draw(st.sampled_from(methods)),
        frequency=frequency,
        day_count=draw(st.sampled_from(DayCount)),
        first_due=None if offset is None else start + timedelta(days=offset),
        fee=draw(st.sampled_from([D("0"), D("250"), D("9.99")])),
        fee_financed=draw(st.booleans()),
        rounding=draw(st.sampled_from([D("1"), D("0.01")])),
        roll_holidays=draw(st.booleans()),
        islamic=draw(islamic),
    )


@st.composite
def any_loan(draw) -> tuple[LoanTerms, Prepayment]:
    """Draw terms and a prepayment mode they allow (the reduce modes: conventional reducing)."""
    mode = draw(st.sampled_from(Prepayment))
    if mode is Prepayment.NEXT_INSTALMENTS:
        return draw(any_terms()), mode
    return draw(any_terms(methods=(Method.REDUCING,), islamic=st.just(False))), mode
