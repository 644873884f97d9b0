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
    payoff_quote,
    state_from_schedule,
)
from lending.finance.book import LATE, PARTS
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
    settled = apply_allocation(state, allocate(state, to_money(owed), on))
    assert settled.closed
    assert [i.paid_on for i in settled.instalments] == [on] * 6  # rebated rows too
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
    book, on, charged = book_of(state), START, set()
    for op, gap, amount, n in ops:
        on += timedelta(days=gap)
        index = n % len(book.n)
        if op == "pay":
            book.pay(amount, on, PARTS, False)
        elif op == "fee":
            if index in charged:  # one late fee an instalment, paid, waived or not
                assert book.late_fee_charged(index)
            elif not book.closed:
                assert not book.late_fee_charged(index)
                book.charge_late_fee(index, amount % 100_000 + 1)
                charged.add(index)
        elif op == "waive":
            unpaid = book.owed[index][LATE] - book.paid[index][LATE]
            waived = book.waive_late_fee(index, amount % 100_000, on)
            assert waived == min(amount % 100_000, unpaid)
            assert book.owed[index][LATE] - book.paid[index][LATE] == unpaid - waived
        assert book.left == _sum(book.owed) - _sum(book.paid)
        assert book.payoff(on) == _sum(book.dues(on))
        if not book.closed:  # an instalment has a paid date exactly when it is paid in full
            for i in range(len(book.n)):
                full = all(book.paid[i][k] >= book.owed[i][k] for k in range(4))
                assert (book.paid_on[i] is not None) == full, (i, book.owed[i], book.paid[i])


def test_the_accrual_starts_again_in_each_period():
    """Rs 36,500 at 36.5% over 2 months from 1 January 2025 (reducing, 30/360): r = 36.5%/12;
    the level instalment 36,500 x r / (1 - (1 + r)^-2) = 19,086.81, up to the rupee 19,087.00;
    instalment 1 earns 36,500 x r = 1,110.21 (principal 17,976.79), instalment 2 is 18,523.21
    and 18,523.21 x r = 563.41. Actual/365 at 36.5% is exactly 0.1% a day.

    1,000.00 on 11 January pays instalment 1's profit ahead; 1,000.00 on 6 February (after its
    due date) pays the 110.21 left of its profit and 889.79 of its principal. On 11 February
    the payoff is instalment 1's 17,087.00 of principal, instalment 2's 18,523.21, and what
    18,523.21 earns in the 10 days of February: 185.23 (not January's days as well)."""
    terms = LoanTerms(
        principal=Decimal("36500"), annual_rate=Decimal("36.5"), tenor=2, start=date(2025, 1, 1)
    )
    schedule = build_schedule(terms)
    assert [(r.principal, r.profit, r.total) for r in schedule.instalments] == [
        (Decimal("17976.79"), Decimal("1110.21"), Decimal("19087.00")),
        (Decimal("18523.21"), Decimal("563.41"), Decimal("19086.62")),
    ]
    state = state_from_schedule(schedule)
    for amount, on in (("1000", date(2025, 1, 11)), ("1000", date(2025, 2, 6))):
        state = apply_allocation(state, allocate(state, Decimal(amount), on))
    quote = payoff_quote(state, date(2025, 2, 11))
    assert (quote.principal, quote.profit, quote.total) == (
        Decimal("35610.21"),
        Decimal("185.23"),
        Decimal("35795.44"),
    )


def test_money_paid_after_the_loan_is_settled_is_all_credit_and_keeps_the_settled_date():
    terms = LoanTerms(principal=Decimal("60000"), annual_rate=Decimal("30"), tenor=6, start=START)
    book = book_of(state_from_schedule(build_schedule(terms)))
    settled_on = date(2024, 3, 1)
    lines, left, closes = book.pay(book.payoff(settled_on), settled_on, PARTS, False)
    assert (left, closes, book.settled_on) == (0, True, settled_on)
    assert book.pay(10_000, date(2024, 4, 1), PARTS, False) == ({}, 10_000, True)
    assert book.settled_on == settled_on
