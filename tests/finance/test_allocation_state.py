"""The LoanState that allocation starts from: its defaults, its validation, and what it keeps.

Hand-worked: 100,000.00 at 30% over 6 months from 15 January 2024 owes 2,500.00 of profit in
its first month (100,000 x 30% / 12) and 15,655.00 of principal (the level instalment
18,155.00, rounded to the rupee, less that profit).
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from lending.finance.allocation import (
    Allocation,
    AllocationLine,
    InstalmentState,
    LoanState,
    Part,
    Reamortisation,
    allocate,
    apply_allocation,
    payoff_quote,
    state_from_schedule,
)
from lending.finance.enums import Method, Prepayment
from lending.finance.errors import AllocationError, TermsError
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal
START = date(2024, 1, 15)


def terms(**overrides) -> LoanTerms:
    values = dict(principal=D("100000"), annual_rate=D("30"), tenor=6, start=START)
    return LoanTerms(**{**values, **overrides})


def test_unpaid_is_what_is_owed_less_what_was_paid_in_paisa():
    row = InstalmentState(
        1,
        date(2024, 2, 15),
        principal=D("15655.00"),
        profit=D("2500.00"),
        fee=D("200.00"),
        late_fee=D("500.00"),
        paid_principal=D("1000.50"),
        paid_profit=D("2500.00"),
        paid_late_fee=D("120.25"),
    )
    assert row.unpaid(Part.PRINCIPAL) == 1_465_450  # 14,654.50
    assert row.unpaid(Part.PROFIT) == 0
    assert row.unpaid(Part.FEE) == 20_000
    assert row.unpaid(Part.LATE_FEE) == 37_975  # 379.75


def test_an_allocation_line_totals_every_part():
    line = AllocationLine(
        3, late_fee=D("500.00"), fee=D("200.00"), profit=D("2500.00"), principal=D("15655.00")
    )
    assert line.total == D("18855.00")


def test_a_loan_state_is_open_and_conventional_unless_it_says_otherwise():
    """Built with only its schedule, a state is a reducing loan not yet settled: a payment
    lands on instalment 1, and the payoff the day after disbursement is the principal and one
    day's profit (100,000 x 30% / 365 = 82.19)."""
    booked = state_from_schedule(build_schedule(terms()))
    bare = LoanState(START, D("30"), booked.instalments)
    allocation = allocate(bare, D("1000"), date(2024, 1, 20))
    assert allocation.applied == D("1000.00") and not allocation.closes_loan
    quote = payoff_quote(bare, date(2024, 1, 16))
    assert quote.principal == D("100000.00")
    assert quote.profit == D("82.19")


def test_reducing_the_principal_needs_a_reduce_mode_and_every_period():
    booked = state_from_schedule(build_schedule(terms()))
    periods = ((1, 12),) * 6
    with pytest.raises(TermsError) as error:
        Reamortisation(Prepayment.NEXT_INSTALMENTS, periods, D("18155"))
    assert "reduce_tenor or reduce_instalment" in str(error.value)
    five = Reamortisation(Prepayment.REDUCE_TENOR, periods[:5], D("18155"))
    with pytest.raises(TermsError) as error:
        LoanState(START, D("30"), booked.instalments, reduce=five)
    assert "accrual period of every instalment" in str(error.value)
    six = Reamortisation(Prepayment.REDUCE_TENOR, periods, D("18155"))
    assert LoanState(START, D("30"), booked.instalments, reduce=six).reduce is six


def test_an_islamic_state_without_a_profit_flag_is_fixed_profit():
    """`fixed_profit=None` means "as `islamic`": a Murabaha sale price cannot be re-priced, so
    it refuses a reduce mode, and its payoff on the first day with no rebate is the whole
    profit (a reducing loan would owe one day's)."""
    booked = state_from_schedule(build_schedule(terms()))
    six = Reamortisation(Prepayment.REDUCE_TENOR, ((1, 12),) * 6, D("18155"))
    with pytest.raises(TermsError):
        LoanState(START, D("30"), booked.instalments, islamic=True, reduce=six)
    murabaha = LoanState(START, D("30"), booked.instalments, islamic=True, rebate_pct=D("0"))
    quote = payoff_quote(murabaha, date(2024, 1, 16))
    scheduled = sum(i.profit for i in booked.instalments)
    assert quote.profit == scheduled and quote.waived_profit == D("0.00")
    assert quote.total == D("100000.00") + scheduled


def test_a_late_fee_paid_later_keeps_the_date_the_instalment_was_paid():
    """Paid in full on 10 February (on time), its 300.00 late fee (charged for an earlier
    miss) paid on 1 March: the instalment still counts as paid on 10 February."""
    booked = state_from_schedule(build_schedule(terms()))
    first = booked.instalments[0]
    paid = replace(
        first,
        paid_principal=first.principal,
        paid_profit=first.profit,
        paid_on=date(2024, 2, 10),
        late_fee=D("300"),
    )
    state = replace(booked, instalments=(paid, *booked.instalments[1:]))
    for amount in ("100", "300"):
        allocation = allocate(state, D(amount), date(2024, 3, 1))
        assert allocation.lines == (AllocationLine(1, late_fee=D(amount) + D("0.00")),)
        assert allocation.after.instalments[0].paid_on == date(2024, 2, 10)


def test_applying_needs_the_allocation_made_on_the_state():
    state = state_from_schedule(build_schedule(terms()))
    bare = Allocation(START, D("10"), (), D("10"), D("0"), False, D("0"))
    with pytest.raises(AllocationError):
        apply_allocation(state, bare)


@pytest.mark.parametrize(
    ("method", "islamic", "fixed"),
    [
        (Method.FLAT, False, True),  # flat: profit fixed at booking
        (Method.REDUCING, False, False),
    ],
)
def test_booked_and_re_labelled_states_know_whether_profit_is_fixed(method, islamic, fixed):
    schedule = build_schedule(terms(method=method))
    assert state_from_schedule(schedule).fixed_profit is fixed
    # Servicing a conventional schedule as Murabaha makes its profit fixed; and a Murabaha
    # schedule serviced as conventional keeps a flat method's fixed profit.
    assert state_from_schedule(schedule, islamic=True).fixed_profit is True
    murabaha = build_schedule(terms(method=method, islamic=True))
    assert state_from_schedule(murabaha, islamic=False).fixed_profit is fixed
