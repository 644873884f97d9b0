"""The payoff the engine asks for is what settles every part: `Book.payoff` (the sum kept in
suffix sums, which a payment compares its amount with) equals the sum of `Book.dues` (each
instalment's parts worked out one by one), on every method, rebate (ibra) share and date,
after any payments. Two derivations of one amount: a slip in either shows."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lending.finance.allocation import (
    allocate,
    apply_allocation,
    book_of,
    booked_state,
    state_from_schedule,
)
from lending.finance.enums import Method, Prepayment
from lending.finance.money import to_money
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

START = date(2024, 1, 15)
KINDS = [
    {},
    {"method": Method.FLAT},
    {"method": Method.FLAT, "islamic": True},
    {"method": Method.EQUAL_PRINCIPAL},
]


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    rebate=st.sampled_from(["0", "25", "50", "100"]),
    tenor=st.integers(2, 12),
    steps=st.lists(st.tuples(st.integers(0, 45), st.integers(1, 3_000_000)), max_size=4),
    last=st.integers(0, 400),
)
def test_the_payoff_is_what_the_dues_add_up_to(kind, rebate, tenor, steps, last):
    terms = LoanTerms(
        principal=Decimal("60000"), annual_rate=Decimal("30"), tenor=tenor, start=START, **kind
    )
    state = replace(state_from_schedule(build_schedule(terms)), rebate_pct=Decimal(rebate))
    on = START
    for gap, paisa in steps:
        on += timedelta(days=gap)
        state = apply_allocation(state, allocate(state, to_money(paisa), on))
    on += timedelta(days=last)
    book = book_of(state)
    assert book.payoff(on) == sum(sum(row) for row in book.dues(on))


def test_a_flat_loan_with_half_the_profit_rebated_settles_at_its_quote_and_not_below():
    """Rs 60,000 flat at 30% over 6 months from 15 January 2024, half the unearned profit
    rebated: a payment of the quote on 1 April settles it, a paisa less does not."""
    terms = LoanTerms(
        principal=Decimal("60000"),
        annual_rate=Decimal("30"),
        tenor=6,
        start=START,
        method=Method.FLAT,
    )
    state = replace(state_from_schedule(build_schedule(terms)), rebate_pct=Decimal("50"))
    on = date(2024, 4, 1)
    owed = book_of(state).payoff(on)
    assert owed == sum(sum(row) for row in book_of(state).dues(on))
    assert apply_allocation(state, allocate(state, to_money(owed), on)).closed
    assert not apply_allocation(state, allocate(state, to_money(owed - 1), on)).closed


BOOKS = [
    ({}, Prepayment.NEXT_INSTALMENTS),
    ({}, Prepayment.REDUCE_INSTALMENT),
    ({}, Prepayment.REDUCE_TENOR),
    ({"method": Method.FLAT}, Prepayment.NEXT_INSTALMENTS),
    ({"method": Method.FLAT, "islamic": True}, Prepayment.NEXT_INSTALMENTS),
    ({"method": Method.EQUAL_PRINCIPAL}, Prepayment.NEXT_INSTALMENTS),
]


def _sum(rows) -> int:
    return sum(sum(row) for row in rows)


@settings(max_examples=300, deadline=None)
@given(
    book_kind=st.sampled_from(BOOKS),
    rebate=st.sampled_from(["0", "50", "100"]),
    tenor=st.integers(2, 12),
    ops=st.lists(
        st.tuples(
            st.sampled_from(["pay", "fee", "waive"]),
            st.integers(0, 40),
            st.integers(1, 3_000_000),
            st.integers(0, 11),
        ),
        max_size=8,
    ),
)
def test_the_book_keeps_what_is_left_and_its_payoff_true_through_any_events(
    book_kind, rebate, tenor, ops
):
    """Payments (on time, ahead, re-amortising a reduce-principal loan), late fees and
    waivers in any order: after each, what the book says is left is what was charged less
    what was paid, and the payoff is the sum of the dues."""
    kind, prepayment = book_kind
    terms = LoanTerms(
        principal=Decimal("60000"), annual_rate=Decimal("30"), tenor=tenor, start=START, **kind
    )
    state = replace(booked_state(terms, prepayment), rebate_pct=Decimal(rebate))
    book, on = book_of(state), START
    for op, gap, amount, n in ops:
        on += timedelta(days=gap)
        index = n % len(book.n)
        if op == "pay":
            book.pay(amount, on)
        elif op == "fee" and not book.late_fee_charged(index):
            book.charge_late_fee(index, amount % 100_000)
        elif op == "waive":
            book.waive_late_fee(index, amount % 100_000, on)
        assert book.left == _sum(book.owed) - _sum(book.paid)
        assert book.payoff(on) == _sum(book.dues(on))
