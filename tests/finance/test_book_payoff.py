"""The payoff the engine asks for is what settles every part: `Book.payoff` (the sum kept in
suffix sums, which a payment compares its amount with) equals the sum of `Book.dues` (each
instalment's parts worked out one by one), on every method, rebate (ibra) share and date,
after any payments. Two derivations of one amount: a slip in either shows."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
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


def flat_terms(islamic: bool = False) -> LoanTerms:
    """Rs 60,000 at 30% flat over 6 months from 15 January 2024: 1,500.00 profit a month."""
    return LoanTerms(
        principal=Decimal("60000"),
        annual_rate=Decimal("30"),
        tenor=6,
        start=START,
        method=Method.FLAT,
        islamic=islamic,
    )


def test_a_flat_loan_with_half_the_profit_rebated_settles_at_its_quote_and_not_below():
    """Rs 60,000 flat at 30% over 6 months from 15 January 2024, half the unearned profit
    rebated: a payment of the quote on 1 April settles it, a paisa less does not."""
    terms = flat_terms()
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


@pytest.mark.parametrize("islamic", [False, True], ids=["flat", "murabaha"])
@pytest.mark.parametrize(
    ("on", "profit"),
    [
        # Two instalments due (1,500.00 each); the third's period (15 March to 15 April, 31
        # days) 17 days run: 1,500 x 17/31 = 822.58 earned, half the other 677.42 kept
        # (338.71); the three later instalments keep half their profit, 750.00 each.
        (date(2024, 4, 1), "6411.29"),
        # On the second due date the third period has not run a day: 3,000 + 750 + 2,250.
        (date(2024, 3, 15), "6000.00"),
        # On the day of disbursement: half of every instalment's profit.
        (date(2024, 1, 15), "4500.00"),
        # Past the last due date every instalment is due, all its profit with it.
        (date(2024, 7, 16), "9000.00"),
    ],
)
def test_a_fixed_profit_loans_payoff_worked_by_hand(islamic, on, profit):
    """Rs 60,000 at 30% flat over 6 months from 15 January 2024 (1,500.00 profit a month),
    half the unearned profit rebated on early settlement: the payoff is the principal, the
    profit of the instalments due, the current period's profit by the days it has run plus
    half of the rest, and half the profit of each later instalment."""
    terms = flat_terms(islamic)
    schedule = build_schedule(terms)
    assert {(r.principal, r.profit) for r in schedule.instalments} == {
        (Decimal("10000.00"), Decimal("1500.00"))
    }
    state = replace(state_from_schedule(schedule), rebate_pct=Decimal("50"))
    assert to_money(book_of(state).payoff(on)) == Decimal("60000") + Decimal(profit)


@pytest.mark.parametrize(
    ("mode", "first", "second"),
    [
        # A new level over the same two months: L = (26,865.00 + 553.55) x (1 + r) / (2 + r)
        # = 13,914.65, up to the rupee 13,915.00: instalment 1 asks 13,361.45 of principal
        # and 553.55 of profit; instalment 2 is the 13,503.55 left and 13,503.55 x r = 410.73.
        (Prepayment.REDUCE_INSTALMENT, ("13361.45", "918.55"), ("13503.55", "410.73")),
        # The level kept: instalment 1 asks 19,087.00 (18,533.45 of principal); instalment 2
        # is the 8,331.55 left and 8,331.55 x r = 253.42.
        (Prepayment.REDUCE_TENOR, ("18533.45", "918.55"), ("8331.55", "253.42")),
    ],
)
def test_a_prepayment_mid_period_re_prices_the_rest_of_the_period_by_its_days(mode, first, second):
    """Rs 36,500 at 36.5% over 2 months from 1 January 2025 (reducing, 30/360, r = 36.5%/12;
    actual/365 is 0.1% a day). 10,000.00 paid on 11 January: 365.00 is the profit earned in
    10 days, 9,635.00 principal, 26,865.00 left. The first period (1 January to 1 February,
    31 days) has 21 days to run: 26,865.00 x r x 21/31 = 553.55, so instalment 1's profit
    is 365.00 + 553.55 = 918.55 (not a whole month's on the new balance, 817.14, nor the
    booked 1,110.21); the rest is re-amortised from there."""
    terms = LoanTerms(
        principal=Decimal("36500"), annual_rate=Decimal("36.5"), tenor=2, start=date(2025, 1, 1)
    )
    state = booked_state(terms, mode)
    state = apply_allocation(state, allocate(state, Decimal("10000"), date(2025, 1, 11)))
    one, two = state.instalments
    assert (one.paid_principal, one.paid_profit) == (Decimal("9635.00"), Decimal("365.00"))
    assert (one.principal - one.paid_principal, one.profit) == tuple(map(Decimal, first))
    assert (two.principal, two.profit) == tuple(map(Decimal, second))
    assert payoff_quote(state, date(2025, 1, 11)).total == Decimal("26865.00")


@pytest.mark.parametrize("mode", [Prepayment.REDUCE_INSTALMENT, Prepayment.REDUCE_TENOR])
def test_a_prepayment_that_leaves_ten_paisa_leaves_instalment_one_open(mode):
    """The loan above, paid all but 0.10 of its payoff on 11 January: 0.10 earns nothing in
    the 21 days left (26,865.00 would earn 553.55; 0.10 earns 0.002), so instalment 1's profit
    is the 365.00 paid, and it is still short of 0.10 of principal: not paid. Instalment 2,
    re-amortised to nothing, is."""
    terms = LoanTerms(
        principal=Decimal("36500"), annual_rate=Decimal("36.5"), tenor=2, start=date(2025, 1, 1)
    )
    state = booked_state(terms, mode)
    on = date(2025, 1, 11)
    assert payoff_quote(state, on).total == Decimal("36865.00")
    state = apply_allocation(state, allocate(state, Decimal("36864.90"), on))
    one, two = state.instalments
    assert (one.principal - one.paid_principal, one.profit, one.paid_profit, one.paid_on) == (
        Decimal("0.10"),
        Decimal("365.00"),
        Decimal("365.00"),
        None,
    )
    assert (two.principal, two.profit, two.paid_on) == (Decimal("0"), Decimal("0"), on)
    assert not state.closed


def test_a_waiver_that_clears_the_last_of_a_late_fee_marks_the_instalment_paid():
    """Instalment 1 of Rs 60,000 over 6 months at 30% (reducing) paid on its due date; a
    Rs 500 late fee charged on it afterwards (a file row that came late) opens it
    again. 200.00 paid on 1 March goes to that fee; a waiver of 600.00 on 5 March takes the
    300.00 left (never more than is unpaid), and the instalment is paid in full that day."""
    terms = LoanTerms(principal=Decimal("60000"), annual_rate=Decimal("30"), tenor=6, start=START)
    book = book_of(state_from_schedule(build_schedule(terms)))
    due = book.due[0]
    asked = sum(book.owed[0])
    book.pay(asked, due, PARTS, False)
    assert book.paid_on[0] == due
    book.charge_late_fee(0, 50_000)
    assert book.paid_on[0] is None
    book.pay(20_000, date(2024, 3, 1), PARTS, False)
    assert book.paid[0][LATE] == 20_000 and book.paid_on[0] is None
    left = book.left
    assert book.waive_late_fee(0, 60_000, date(2024, 3, 5)) == 30_000
    assert (book.owed[0][LATE], book.waived[0], book.paid[0][LATE]) == (20_000, 30_000, 20_000)
    assert sum(book.paid[0]) == asked + 20_000
    assert (book.left, book.paid_on[0]) == (left - 30_000, date(2024, 3, 5))
    assert book.waive_late_fee(0, 100, date(2024, 3, 6)) == 0


@pytest.mark.parametrize("mode", [Prepayment.REDUCE_INSTALMENT, Prepayment.REDUCE_TENOR])
def test_a_one_day_first_period_prepaid_on_its_first_day_is_re_priced_whole(mode):
    """Rs 36,500 at 36.5% from 1 January 2025, the first instalment due the next day: its
    one-day period earns 36,500 x 0.1% = 36.50. 10,000.00 paid on 1 January (no day run,
    all principal) leaves 26,500.00, which earns the whole day: 26.50, not half of it."""
    terms = LoanTerms(
        principal=Decimal("36500"),
        annual_rate=Decimal("36.5"),
        tenor=2,
        start=date(2025, 1, 1),
        first_due=date(2025, 1, 2),
    )
    state = booked_state(terms, mode)
    assert state.instalments[0].profit == Decimal("36.50")
    state = apply_allocation(state, allocate(state, Decimal("10000"), date(2025, 1, 1)))
    one = state.instalments[0]
    assert (one.paid_principal, one.paid_profit, one.profit) == (
        Decimal("10000.00"),
        Decimal("0.00"),
        Decimal("26.50"),
    )
