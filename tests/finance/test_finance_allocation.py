"""Allocation waterfall, payoff quotes (one code path with allocation) and late fees."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from finance_strategies import any_loan
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.finance.allocation import (
    LoanState,
    Order,
    Part,
    Waterfall,
    allocate,
    apply_allocation,
    overdue,
    payoff_quote,
    state_from_schedule,
)
from lending.finance.enums import Method
from lending.finance.errors import AllocationError, TermsError
from lending.finance.late_fees import LateFeeRule, late_fee
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal
START = date(2024, 1, 15)


def loan(**overrides) -> LoanState:
    values = dict(principal=D("100000"), annual_rate=D("30"), tenor=6, start=START)
    return state_from_schedule(build_schedule(LoanTerms(**{**values, **overrides})))


def with_late_fee(state: LoanState, n: int, amount: str) -> LoanState:
    rows = tuple(replace(i, late_fee=D(amount)) if i.n == n else i for i in state.instalments)
    return replace(state, instalments=rows)


def test_payment_of_the_due_instalment_goes_late_fee_fee_profit_principal():
    # Instalment 1 owes a 500.00 late fee, a 200.00 servicing fee, 2,500.00 of profit
    # (100,000 x 30% / 12) and its principal: each payment below fills them in that order,
    # so every part is told apart (a zero fee could not show the late fee / fee order).
    state = with_late_fee(loan(), 1, "500")
    rows = tuple(replace(i, fee=D("200")) if i.n == 1 else i for i in state.instalments)
    state = replace(state, instalments=rows)
    on = date(2024, 2, 20)

    def parts(amount: str) -> tuple:
        allocation = allocate(state, D(amount), on)
        assert allocation.applied == D(amount) and allocation.unapplied == D("0.00")
        (line,) = allocation.lines
        return (line.instalment, line.late_fee, line.fee, line.profit, line.principal)

    assert parts("400") == (1, D("400.00"), D("0.00"), D("0.00"), D("0.00"))
    assert parts("600") == (1, D("500.00"), D("100.00"), D("0.00"), D("0.00"))
    assert parts("1000") == (1, D("500.00"), D("200.00"), D("300.00"), D("0.00"))
    assert parts("3300") == (1, D("500.00"), D("200.00"), D("2500.00"), D("100.00"))


def test_oldest_instalment_first_and_per_part_order():
    state = with_late_fee(loan(), 2, "300")
    on = date(2024, 3, 20)  # instalments 1 and 2 are due
    per_instalment = allocate(state, D("18455"), on)
    assert [line.instalment for line in per_instalment.lines] == [1, 2]
    assert per_instalment.lines[0].total == D("18155.00")
    assert per_instalment.lines[1].late_fee == D("300.00")
    per_part = allocate(state, D("3000"), on, Waterfall(order=Order.PER_PART))
    assert per_part.lines[1].late_fee == D("300.00")  # late fees across instalments first
    assert per_part.lines[0].profit == D("2500.00")
    assert per_part.lines[1].profit == D("200.00")


def test_paying_ahead_pays_the_next_instalments_in_full_profit_included():
    state = loan()
    on = date(2024, 2, 15)  # instalment 1 due today; 2 is the current period (0 days accrued)
    allocation = allocate(state, D("40000"), on)
    lines = {line.instalment: line for line in allocation.lines}
    assert lines[1].total == D("18155.00")
    # Instalment 2 as booked: 16,046.37 principal + 2,108.63 profit (100,000 at 30%, 6 months).
    assert (lines[2].principal, lines[2].profit) == (D("16046.37"), D("2108.63"))
    # 3,690.00 left: instalment 3's profit first (its booked 1,707.47), then its principal.
    assert lines[3].profit == D("1707.47")
    assert lines[3].principal == D("1982.53")
    assert sum(line.total for line in allocation.lines) == D("40000.00")
    assert not allocation.closes_loan
    after = apply_allocation(state, allocation)
    assert overdue(after, date(2024, 3, 16)) == (D("0.00"), 0)  # instalment 2 is never late


def test_more_than_the_payoff_is_returned_unapplied():
    state = loan()
    on = date(2024, 4, 1)
    quote = payoff_quote(state, on)
    allocation = allocate(state, quote.total + D("123.45"), on)
    assert allocation.closes_loan and allocation.unapplied == D("123.45")
    assert allocation.waived_profit == quote.waived_profit > 0


def test_payoff_accrues_actual_days_on_the_outstanding_principal():
    state = loan()
    # On 1 April 2024, instalments 1 and 2 are due (36,310.00); the current period opened
    # on 15 March on the outstanding principal 68,298.63: 17 days at 30% a year = 954.31.
    quote = payoff_quote(state, date(2024, 4, 1))
    assert quote.principal == D("100000.00")
    assert quote.profit == D("2500.00") + D("2108.63") + D("954.31")
    assert quote.total == quote.principal + quote.profit


def test_murabaha_payoff_rebates_future_profit_pro_rata_on_the_current_period():
    state = loan(islamic=True, method=Method.FLAT)
    # Each instalment's fixed profit is 2,500; 17 of the 31 days from 15 March have passed.
    quote = payoff_quote(state, date(2024, 4, 1))
    assert quote.profit == D("5000.00") + (D("2500") * 17 / 31).quantize(D("0.01"))
    assert quote.waived_profit == D("15000.00") - quote.profit


def test_settled_loan_owes_nothing_later():
    state = loan()
    on = date(2024, 4, 1)
    paid = apply_allocation(state, allocate(state, payoff_quote(state, on).total, on))
    assert paid.closed
    assert payoff_quote(paid, date(2025, 1, 1)).total == D("0.00")
    assert overdue(paid, date(2025, 1, 1)) == (D("0.00"), 0)


def test_overdue_amount_and_days_past_due():
    state = loan()
    # Due today is not yet overdue (the night's rule: due before the date and unpaid).
    assert overdue(state, date(2024, 2, 15)) == (D("0.00"), 0)
    assert overdue(state, date(2024, 2, 16)) == (D("18155.00"), 1)
    assert overdue(state, date(2024, 3, 20)) == (D("36310.00"), 34)
    paid = apply_allocation(state, allocate(state, D("18155"), date(2024, 3, 20)))
    assert overdue(paid, date(2024, 3, 20)) == (D("18155.00"), 5)


def test_bad_payments_and_waterfalls_are_refused():
    with pytest.raises(AllocationError):
        allocate(loan(), D("-1"), START)
    with pytest.raises(AllocationError):
        Waterfall(parts=(Part.PROFIT, Part.PRINCIPAL))


@settings(max_examples=150, deadline=None)
@given(any_loan(), st.integers(-30, 1500), st.integers(0, 3))
def test_paying_the_payoff_quote_on_its_date_closes_the_loan(loan_terms, day, late):
    terms, mode = loan_terms
    state = state_from_schedule(build_schedule(terms), prepayment=mode)
    if late:
        state = with_late_fee(state, 1, str(late * 100))
    on = terms.start + timedelta(days=day)
    quote = payoff_quote(state, on)
    allocation = allocate(state, quote.total, on)
    assert allocation.applied == quote.total and allocation.unapplied == 0
    assert allocation.closes_loan
    after = apply_allocation(state, allocation)
    assert payoff_quote(after, on).total == 0
    assert all(i.paid_principal == i.principal for i in after.instalments)
    assert quote.total == quote.principal + quote.profit + quote.fees + quote.late_fees


@settings(max_examples=150, deadline=None)
@given(
    any_loan(),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 5_000_000)), min_size=1, max_size=6),
    st.sampled_from(list(Order)),
    st.permutations(list(Part)),
)
def test_every_allocation_sums_to_the_payment(loan_terms, payments, order, parts):
    terms, mode = loan_terms
    state = state_from_schedule(build_schedule(terms), prepayment=mode)
    financed = Decimal(terms.financed_paisa) / 100
    waterfall = Waterfall(tuple(parts), order)
    on = terms.start
    for days, paisa in payments:
        on += timedelta(days=days)
        amount = D(paisa) / 100
        allocation = allocate(state, amount, on, waterfall)
        assert sum(line.total for line in allocation.lines) == allocation.applied
        assert allocation.applied + allocation.unapplied == amount
        assert allocation.unapplied == 0 or allocation.closes_loan
        state = apply_allocation(state, allocation)
        for item in state.instalments:  # never more than owed: no negative balance
            assert item.paid_principal <= item.principal
            assert item.paid_profit <= item.profit and item.paid_fee <= item.fee
            assert item.profit >= 0 and item.principal >= 0
        # A re-amortised schedule still repays exactly what was financed.
        assert sum(i.principal for i in state.instalments) == financed
    settle = allocate(state, payoff_quote(state, on).total, on, waterfall)
    assert settle.closes_loan and payoff_quote(apply_allocation(state, settle), on).total == 0


@pytest.mark.parametrize(
    ("rule", "overdue_amount", "on", "expected"),
    [
        (LateFeeRule(fixed=D("500"), grace_days=3), "9749", date(2024, 2, 18), "0.00"),
        (LateFeeRule(fixed=D("500"), grace_days=3), "9749", date(2024, 2, 19), "500.00"),
        (LateFeeRule(percent=D("2")), "9749", date(2024, 2, 16), "194.98"),
        (LateFeeRule(percent=D("2"), cap=D("150")), "9749", date(2024, 2, 16), "150.00"),
        (LateFeeRule(fixed=D("100"), percent=D("1.5")), "10000", date(2024, 3, 1), "250.00"),
        (LateFeeRule(fixed=D("500")), "0", date(2024, 3, 1), "0.00"),
    ],
)
def test_late_fee_rule(rule, overdue_amount, on, expected):
    fee = late_fee(rule, D(overdue_amount), date(2024, 2, 15), on)
    assert fee.amount == D(expected) and not fee.charity


def test_islamic_late_fee_goes_to_charity():
    fee = late_fee(
        LateFeeRule(fixed=D("300")), D("5000"), date(2024, 2, 15), date(2024, 2, 20), islamic=True
    )
    assert fee.amount == D("300.00") and fee.charity


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(fixed=D("-1")), "fixed"),
        (dict(percent=D("101")), "percent"),
        (dict(percent=D("1.234")), "percent"),
        (dict(cap=D("-5")), "cap"),
        (dict(grace_days=-1), "grace_days"),
    ],
)
def test_bad_late_fee_rules_name_the_field(kwargs, field):
    with pytest.raises(TermsError) as raised:
        LateFeeRule(**kwargs)
    assert field in raised.value.errors
