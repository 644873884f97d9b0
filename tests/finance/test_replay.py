"""The replay: a loan's money state from its booked terms and dated transactions.

The loan of these tests: 100,000 at 30% a year, reducing, six monthly instalments from
15 January 2024 (booked rows: 18,155.00 each but the last; instalment 1 is 15,655.00
principal + 2,500.00 profit, instalment 2 is 16,046.37 + 2,108.63, instalment 3 is
16,447.53 + 1,707.47). Late fee: Rs 500 after 3 grace days.
"""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lending.finance.allocation import allocate, payoff_quote, state_from_schedule
from lending.finance.enums import Method, TxnKind
from lending.finance.late_fees import LateFeeRule
from lending.finance.replay import ReplayError, ServicingTerms, Txn, replay, resume
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal
START = date(2024, 1, 15)
DUE1, DUE2 = date(2024, 2, 15), date(2024, 3, 15)
FEE = LateFeeRule(fixed=D("500"), grace_days=3)


def terms(tolerance="0", **overrides) -> ServicingTerms:
    values = dict(principal=D("100000"), annual_rate=D("30"), tenor=6, start=START)
    state = state_from_schedule(build_schedule(LoanTerms(**{**values, **overrides})))
    rows = tuple(replace(i, tolerance=D(tolerance)) for i in state.instalments)
    return ServicingTerms(replace(state, instalments=rows), FEE)


def pay(id_: int, on: date, amount: str) -> Txn:
    return Txn(id_, TxnKind.PAYMENT, on, D(amount))


def item(result, n):
    return result.state.instalments[n - 1]


def test_paying_instalment_one_on_the_day_of_booking_pays_it_in_full():
    # Seen from outside: the money went to principal only, instalment 1 stayed partly paid
    # and the night after its due date charged a fee and counted the borrower late.
    result = replay(terms(), [pay(1, START, "18155")], DUE1 + timedelta(days=10))
    first = item(result, 1)
    assert (first.paid_principal, first.paid_profit) == (D("15655.00"), D("2500.00"))
    assert first.paid_on == START
    assert result.late_fees == () and result.days_past_due == 0
    assert item(result, 2).paid_principal == D("0.00")


def test_payoff_after_paying_half_on_day_zero_charges_profit_on_what_is_left():
    # 50,000 paid on the day of booking; 15 days later the borrower owes the other 50,000
    # and 15 days of 30% on it: 50,000 x 0.30 x 15 / 365 = 616.438... -> 616.44.
    book = replay(terms(), [pay(1, START, "50000")], START).state
    quote = payoff_quote(book, START + timedelta(days=15))
    assert quote.total == D("50616.44")
    assert payoff_quote(book, START).total == D("50000.00")
    # And a payment of the quote settles the loan on that date, one code path.
    settle = allocate(book, quote.total, START + timedelta(days=15))
    assert settle.closes_loan and settle.unapplied == D("0.00")


def test_payoff_mid_period_after_a_payment_inside_it_counts_each_day_s_balance():
    # Instalment 1 paid on its due date; 10,000 more on 25 Feb; payoff on 15 Mar (due 2 today:
    # its profit is due in full) and on 5 Mar: the period from 15 Feb earns 10 days on
    # 84,345.00 and 8 days on 84,345.00 - 10,000 paid ahead (the next instalment's profit
    # 2,108.63 first, then 7,891.37 of its principal) = 74,345.00:
    # (84,345 x 10 + 74,345 x 8) x 0.30 / 365 = 431,463 / 365 = 1,182.0904 -> 1,182.09.
    txns = [pay(1, DUE1, "18155"), pay(2, date(2024, 2, 25), "10000")]
    state = replay(terms(), txns, date(2024, 3, 4)).state
    quote = payoff_quote(state, date(2024, 3, 4))
    assert quote.principal == D("84345.00") - D("7891.37")
    assert quote.profit == D("1182.09") - D("2108.63")  # the profit paid ahead comes back
    assert quote.total == D("76453.63") + D("1182.09") - D("2108.63")


def test_reversing_the_first_of_two_payments_replays_the_second_oldest_first():
    txns = [pay(1, DUE1, "18155"), pay(2, DUE2, "18155")]
    txns.append(Txn(3, TxnKind.REVERSAL, date(2024, 3, 20), D("18155"), reverses=1))
    result = replay(terms(), txns, date(2024, 3, 20))
    assert 1 not in result.allocations and result.reversed == {1}
    # Instalment 1 was unpaid through its grace days: its fee is charged, on 19 February.
    assert [(f.n, f.on) for f in result.late_fees][0] == (1, date(2024, 2, 19))
    # The second payment goes to instalment 1 (fee first), not to instalment 2.
    (line,) = result.allocations[2]
    assert (line.instalment, line.late_fee, line.profit, line.principal) == (
        1,
        D("500.00"),
        D("2500.00"),
        D("15155.00"),
    )
    assert item(result, 2).paid_principal == D("0.00")
    # Rs 500 of instalment 1 is still unpaid: the loan is late from its due date, and
    # instalment 2 (unpaid, past its grace days on 19 March) has its own fee.
    assert result.days_past_due == 34
    assert [f.n for f in result.late_fees] == [1, 2]
    assert result.overdue == D("500.00") + D("18155.00") + D("500.00")


def test_reversal_with_enough_money_left_leaves_the_loan_current():
    # Two instalments' worth in two payments, the first reversed: the second still covers
    # instalment 1 (no fee rule here), so nothing is overdue and instalment 2 is simply due.
    no_fee = replace(terms(), late_fee=LateFeeRule())
    txns = [
        pay(1, DUE1, "18155"),
        pay(2, DUE1, "18155"),
        Txn(3, TxnKind.REVERSAL, DUE2, D("18155"), reverses=1),
    ]
    result = replay(no_fee, txns, DUE2)
    assert item(result, 1).paid_on == DUE1 and item(result, 2).paid_principal == D("0.00")
    assert result.days_past_due == 0


def test_a_backdated_settlement_row_takes_back_the_fee_it_makes_undue():
    late = replay(terms(), [], date(2024, 2, 20))
    assert [(f.n, f.amount) for f in late.late_fees] == [(1, D("500"))]
    backdated = [pay(1, date(2024, 2, 14), "18155")]  # arrives on the 20th, paid the 14th
    result = replay(terms(), backdated, date(2024, 2, 20))
    assert result.late_fees == () and result.days_past_due == 0


def test_paid_within_grace_is_not_charged_and_after_it_is():
    on_time = replay(terms(), [pay(1, date(2024, 2, 18), "18155")], date(2024, 3, 1))
    assert on_time.late_fees == ()
    late = replay(terms(), [pay(1, date(2024, 2, 19), "18155")], date(2024, 3, 1))
    assert [f.on for f in late.late_fees] == [date(2024, 2, 19)]  # charged before that day's money
    assert late.allocations[1][0].late_fee == D("500.00")


def test_a_shortfall_within_the_tolerance_is_not_overdue():
    short = [pay(1, DUE1, "18105")]  # Rs 50 short
    assert replay(terms("50"), short, date(2024, 3, 1)).late_fees == ()
    assert replay(terms("50"), short, date(2024, 3, 1)).days_past_due == 0
    result = replay(terms("49.99"), short, date(2024, 3, 1))
    assert result.days_past_due == 15 and len(result.late_fees) == 1


def test_a_waived_fee_is_not_owed_and_a_paid_ahead_instalment_is_never_late():
    txns = [
        Txn(1, TxnKind.WAIVER, date(2024, 2, 21), D("500"), instalment_n=1),
        pay(2, date(2024, 2, 22), "54465"),  # instalments 1, 2 and 3 in full
    ]
    result = replay(terms(), txns, date(2024, 4, 30))
    assert result.waived == {1: D("500.00")}
    assert item(result, 1).late_fee_waived == D("500.00")
    assert item(result, 3).paid_profit == D("1707.47")
    assert [f.n for f in result.late_fees] == [1] and result.days_past_due == 0
    assert result.overdue == D("0.00")


def test_money_beyond_the_payoff_is_a_credit_that_can_be_refunded():
    quote = payoff_quote(terms().state, DUE1).total
    txns = [pay(1, DUE1, str(quote + D("250")))]
    result = replay(terms(), txns, DUE1)
    assert result.settled_on == DUE1 and result.credit_balance == D("250.00")
    refunded = replay(terms(), [*txns, Txn(2, TxnKind.REFUND, DUE2, D("250"))], DUE2)
    assert refunded.credit_balance == D("0.00")
    with pytest.raises(ReplayError):
        replay(terms(), [*txns, Txn(2, TxnKind.REFUND, DUE2, D("250.01"))], DUE2)


def test_murabaha_settlement_rebates_at_the_product_share():
    # Flat Murabaha: 2,500 fixed profit a month. Settled on 1 April (17 of the 31 days of
    # instalment 3's period): 2 due instalments' profit + 17/31 of the third = 6,370.97 with a
    # full rebate. With a 50% rebate, half of the unearned profit stays: half of instalment
    # 3's unearned 1,129.03 (564.52) and of instalments 4-6 (3 x 1,250) = 4,314.52 more.
    base = terms(method=Method.FLAT, islamic=True)
    full = payoff_quote(base.state, date(2024, 4, 1))
    assert full.profit == D("6370.97")
    half = payoff_quote(replace(base.state, rebate_pct=D("50")), date(2024, 4, 1))
    assert half.profit == D("6370.97") + D("4314.52")


def test_the_replay_is_the_same_whatever_order_transactions_were_recorded_in():
    a, b = pay(1, DUE1, "9000"), pay(2, date(2024, 2, 10), "9155")
    first, second = replay(terms(), [a, b], DUE2), replay(terms(), [b, a], DUE2)
    assert first.state == second.state and first.late_fees == second.late_fees


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 30_000_00)), min_size=2, max_size=12),
    st.integers(1, 11),
    st.sampled_from([{}, {"method": Method.FLAT}, {"method": Method.FLAT, "islamic": True}]),
)
def test_resuming_from_the_stored_state_equals_the_full_replay(payments, cut, kind):
    """A payment dated after everything stored, applied to the stored state, gives what the
    whole history replayed gives: the payment path's shortcut is no second rule."""
    base = terms(**kind)
    txns, on = [], START
    for k, (gap, paisa) in enumerate(payments):
        on += timedelta(days=gap)
        txns.append(pay(k + 1, on, str(D(paisa) / 100)))
    cut = min(cut, len(txns) - 1)
    head, tail = txns[:cut], txns[cut:]
    since, through = head[-1].value_date, tail[-1].value_date + timedelta(days=10)
    stored = replay(base, head, since)
    assume(stored.settled_on is None)  # a settled loan takes no more payments
    full = replay(base, txns, through)
    resumed = resume(base, stored.state, stored.credit_balance, tail, since, through)
    assert resumed.state.instalments == full.state.instalments
    assert (resumed.credit_balance, resumed.days_past_due, resumed.settled_on) == (
        full.credit_balance,
        full.days_past_due,
        full.settled_on,
    )
    assert {t.id: full.allocations[t.id] for t in tail} == dict(resumed.allocations)
    assert [f for f in full.late_fees if f.on > since] == list(resumed.late_fees)
