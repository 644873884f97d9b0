"""Reduce-principal prepayments: the schedule re-amortised on the lower balance.

The loan of these tests (as in test_replay.py): 100,000 at 30% a year, reducing, 30/360, six
monthly instalments from 15 January 2024, booked at 18,155.00 each but the last. Instalment 1
(15,655.00 principal + 2,500.00 profit) is paid on its due date, 15 February, leaving 84,345.00.
On 1 March, 15 days into instalment 2's 29-day period (15 February to 15 March 2024), the
borrower pays 20,000.00 more. Worked by hand (and again below with Fractions):
- profit earned to 1 March, actual/365 on the balance: 84,345 x 0.30 x 15 / 365 = 1,039.87;
- the rest is principal: 20,000 - 1,039.87 = 18,960.13; the balance is 65,384.87;
- the rest of period 2 earns its 30/360 profit (a twelfth of 30%) on the new balance for the
  14 of its 29 days still to run: 65,384.87 x 0.025 x 14 / 29 = 789.13, so instalment 2's
  profit is 1,039.87 + 789.13 = 1,829.00 (booked: 2,108.63);
- later periods earn 2.5% a month on the balance, half up to the paisa.
"""

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from finance_strategies import any_terms
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.finance.allocation import (
    LoanState,
    allocate,
    apply_allocation,
    booked_state,
    payoff_quote,
    state_from_schedule,
)
from lending.finance.enums import Method, Prepayment, TxnKind
from lending.finance.errors import TermsError
from lending.finance.replay import ServicingTerms, Txn, replay
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal
F = Fraction
START, DUE1, PREPAID_ON = date(2024, 1, 15), date(2024, 2, 15), date(2024, 3, 1)
DUES = [date(2024, m, 15) for m in range(2, 8)]
TERMS = LoanTerms(principal=D("100000"), annual_rate=D("30"), tenor=6, start=START)
REDUCE = (Prepayment.REDUCE_TENOR, Prepayment.REDUCE_INSTALMENT)


def cents(x: Fraction) -> Decimal:
    """A Fraction of rupees, half up to the paisa."""
    return (D(x.numerator) / D(x.denominator)).quantize(D("0.01"), ROUND_HALF_UP)


def state(mode: Prepayment, terms: LoanTerms = TERMS) -> LoanState:
    return state_from_schedule(build_schedule(terms), prepayment=mode)


def pay(state: LoanState, amount: str, on: date) -> tuple[LoanState, object]:
    allocation = allocate(state, D(amount), on)
    return apply_allocation(state, allocation), allocation


def prepaid(mode: Prepayment) -> LoanState:
    after_one, _ = pay(state(mode), "18155", DUE1)
    return pay(after_one, "20000", PREPAID_ON)[0]


def asks(item) -> Decimal:
    """What an instalment still asks (principal and profit)."""
    return item.principal + item.profit - item.paid_principal - item.paid_profit


def still(item) -> tuple[Decimal, Decimal]:
    """The principal and the profit an instalment still asks."""
    return item.principal - item.paid_principal, item.profit - item.paid_profit


def expected_rows(level: Fraction) -> list[tuple[Decimal, Decimal]]:
    """(asks principal, profit) of instalments 2-6 after the prepayment, from the rule with
    Fractions: instalment 2's profit is 789.13 (the rest of its period), later ones 2.5% a
    month on the balance; each pays `level` less its profit, the last what is left."""
    balance, rows = F("65384.87"), []
    for k in range(5):
        profit = F("789.13") if k == 0 else F(str(cents(balance * F(1, 40))))
        part = balance if k == 4 else min(max(level - profit, F(0)), balance)
        rows.append((cents(part), cents(profit)))
        balance -= part
    return rows


def test_the_prepayment_pays_the_profit_earned_then_principal():
    assert cents(F(84345) * F(3, 10) * 15 / 365) == D("1039.87")
    assert cents(F("65384.87") * F(3, 10) / 12 * F(14, 29)) == D("789.13")
    for mode in REDUCE:
        after_one, _ = pay(state(mode), "18155", DUE1)
        after, allocation = pay(after_one, "20000", PREPAID_ON)
        (line,) = allocation.lines
        assert (line.instalment, line.profit, line.principal) == (2, D("1039.87"), D("18960.13"))
        second = after.instalments[1]
        assert second.profit == D("1829.00") and second.paid_profit == D("1039.87")
        assert sum(i.principal for i in after.instalments) == D("100000.00")


def test_reduce_tenor_keeps_the_instalment_and_drops_the_last():
    # Instalment 2 still asks 18,155.00 on 15 March: 789.13 profit and 17,365.87 principal.
    rows = expected_rows(F(18155))
    assert rows == [
        (D("17365.87"), D("789.13")),
        (D("16954.52"), D("1200.48")),  # 48,019.00 x 2.5% = 1,200.475
        (D("17378.39"), D("776.61")),  # 31,064.48 x 2.5% = 776.612
        (D("13686.09"), D("342.15")),  # the new last one: what is left, 14,028.24
        (D("0.00"), D("0.00")),  # dropped
    ]
    after = prepaid(Prepayment.REDUCE_TENOR)
    assert [still(i) for i in after.instalments[1:]] == rows
    second = after.instalments[1]
    assert second.principal == D("18960.13") + D("17365.87") == D("36326.00")
    assert [asks(i) for i in after.instalments[1:]] == [
        D("18155.00"),
        D("18155.00"),
        D("18155.00"),
        D("14028.24"),
        D("0.00"),
    ]
    assert after.instalments[5].paid_on == PREPAID_ON  # nothing is left to pay on it


def test_reduce_instalment_keeps_the_count_and_lowers_the_level():
    # The level that repays 65,384.87 at each period's own rate (2.5% x 14/29 for the rest of
    # period 2, then 2.5% a month), rounded up to the rupee like the booked one.
    first = 1 + F(1, 40) * F(14, 29)
    discount = [1 / (first * F(41, 40) ** k) for k in range(5)]
    level = F("65384.87") / sum(discount)
    assert F(13896) < level < F(13897)
    rows = expected_rows(F(13897))
    assert [a + p for a, p in rows] == [D("13897.00")] * 4 + [D("13893.52")]
    after = prepaid(Prepayment.REDUCE_INSTALMENT)
    assert [still(i) for i in after.instalments[1:]] == rows


@pytest.mark.parametrize("mode", REDUCE)
def test_the_payoff_after_the_prepayment_is_the_balance_and_the_profit_it_earns(mode):
    after = prepaid(mode)
    assert payoff_quote(after, PREPAID_ON).total == D("65384.87")
    # Ten days on: the period earned 15 days on 84,345.00 and 10 on 65,384.87, actual/365,
    # of which 1,039.87 is paid: (1,265,175 + 653,848.70) x 0.30 / 365 = 1,577.28.
    earned = cents((F(84345) * 15 + F("65384.87") * 10) * F(3, 10) / 365)
    assert earned == D("1577.28")
    quote = payoff_quote(after, PREPAID_ON + timedelta(days=10))
    assert quote.total == D("65384.87") + earned - D("1039.87") == D("65922.28")
    assert quote.principal == D("65384.87")
    # And a payment of the quote settles the loan then: one code path.
    settle = allocate(after, quote.total, PREPAID_ON + timedelta(days=10))
    assert settle.closes_loan and settle.unapplied == 0


@pytest.mark.parametrize("mode", REDUCE)
def test_paying_the_new_schedule_on_time_closes_the_loan_exactly(mode):
    current = prepaid(mode)
    for n in range(2, 7):
        item = current.instalments[n - 1]
        due = asks(item)
        if due == 0:
            assert current.closed  # dropped instalments are never asked for
            continue
        current, allocation = pay(current, str(due), DUES[n - 1])
        assert allocation.applied == due and allocation.unapplied == 0
        assert allocation.closes_loan == (n == (5 if mode is Prepayment.REDUCE_TENOR else 6))
    assert current.closed
    assert all(asks(i) == 0 for i in current.instalments)
    assert sum(i.paid_principal for i in current.instalments) == D("100000.00")


@pytest.mark.parametrize("mode", REDUCE)
def test_a_reversal_of_the_prepayment_gives_back_the_booked_schedule(mode):
    terms = ServicingTerms(state(mode))
    one = Txn(1, TxnKind.PAYMENT, DUE1, D("18155"))
    two = Txn(2, TxnKind.PAYMENT, PREPAID_ON, D("20000"))
    back = Txn(3, TxnKind.REVERSAL, date(2024, 3, 5), D("20000"), reverses=2)
    through = date(2024, 3, 5)
    moved = replay(terms, [one, two], through).state
    assert moved.instalments[1].principal == (
        D("36326.00") if mode is Prepayment.REDUCE_TENOR else D("32068.00")
    )
    restored = replay(terms, [one, two, back], through).state
    assert restored == replay(terms, [one], through).state
    booked = build_schedule(TERMS).instalments
    assert [(i.principal, i.profit, i.tolerance) for i in restored.instalments] == [
        (r.principal, r.profit, D("0.00")) for r in booked
    ]


def test_next_instalments_is_unchanged_by_the_modes():
    after = prepaid(Prepayment.NEXT_INSTALMENTS)
    booked = build_schedule(TERMS).instalments
    assert [(i.principal, i.profit) for i in after.instalments] == [
        (r.principal, r.profit) for r in booked
    ]
    assert after.instalments[1].paid_profit == D("2108.63")  # the next instalment in full


def test_a_prepayment_on_a_due_date_reprices_like_a_booking_of_the_balance():
    # 38,155.00 on 15 February: instalment 1, then 20,000.00 of principal with nothing earned
    # yet: the rest is a loan of 64,345.00 over 5 months from that day.
    after, _ = pay(state(Prepayment.REDUCE_INSTALMENT), "38155", DUE1)
    fresh = build_schedule(replace(TERMS, principal=D("64345"), tenor=5, start=DUE1))
    assert [(asks(i), i.profit) for i in after.instalments[1:]] == [
        (r.total, r.profit) for r in fresh.instalments
    ]
    assert after.instalments[1].principal == D("20000.00") + fresh.instalments[0].principal


def test_a_prepayment_never_makes_the_period_dearer_than_booked():
    # Rs 100 on 16 January, a day into a 31-day month: 82.19 earned, 17.81 of principal. The
    # rest of the month would be 99,982.19 x 2.5% x 30 / 31 = 2,418.92, 2,501.11 in all: more
    # than the 2,500.00 booked on the higher balance, so the period keeps 2,500.00.
    assert cents(F(100000) * F(3, 10) / 365) == D("82.19")
    assert cents(F("99982.19") * F(1, 40) * F(30, 31)) == D("2418.92")
    for mode in REDUCE:
        after, _ = pay(state(mode), "100", date(2024, 1, 16))
        first = after.instalments[0]
        assert (first.profit, first.paid_profit, first.paid_principal) == (
            D("2500.00"),
            D("82.19"),
            D("17.81"),
        )


def test_two_prepayments_in_one_period():
    after = prepaid(Prepayment.REDUCE_INSTALMENT)
    again, allocation = pay(after, "5000", date(2024, 3, 8))
    # Seven more days on 65,384.87 earned (1,265,175 + 65,384.87 x 7) x 0.30 / 365 - 1,039.87.
    earned = cents((F(84345) * 15 + F("65384.87") * 7) * F(3, 10) / 365) - D("1039.87")
    (line,) = allocation.lines
    assert (line.profit, line.principal) == (earned, D("5000") - earned)
    assert payoff_quote(again, date(2024, 3, 8)).total == D("65384.87") - D("5000") + earned


def test_the_arrears_tolerance_is_recomputed_on_what_each_instalment_asks():
    base = booked_state(TERMS, Prepayment.REDUCE_TENOR, (D("50"), D("1")))
    assert base.instalments[0].tolerance == D("181.55")  # 1% of 18,155.00 (more than 50)
    after, _ = pay(base, "18155", DUE1)
    after, _ = pay(after, "20000", PREPAID_ON)
    assert [i.tolerance for i in after.instalments[1:]] == [
        D("181.55"),  # 1% of the 18,155.00 still asked, not of the 38,155.00 total
        D("181.55"),
        D("181.55"),
        D("140.28"),
        D("50.00"),  # asks nothing: the amount
    ]


@pytest.mark.parametrize(
    "changes",
    [
        dict(method=Method.FLAT),
        dict(method=Method.FLAT, islamic=True),
        dict(islamic=True),
        dict(method=Method.EQUAL_PRINCIPAL),
    ],
)
def test_reduce_modes_are_refused_where_profit_is_fixed_or_the_instalment_not_level(changes):
    for mode in REDUCE:
        with pytest.raises(TermsError) as raised:
            state(mode, replace(TERMS, **changes))
        assert "prepayment" in raised.value.errors
    with pytest.raises(TermsError):
        state_from_schedule(build_schedule(TERMS), islamic=True, prepayment=REDUCE[0])


@settings(max_examples=150, deadline=None)
@given(
    any_terms(methods=(Method.REDUCING,), islamic=st.just(False)),
    st.sampled_from(REDUCE),
    st.integers(0, 600),
    st.integers(1, 10_000_000),
)
def test_a_prepayment_then_the_schedule_on_time_closes_the_loan(terms, mode, day, paisa):
    """Instalments paid on time, then what is due on a random day and a random amount more:
    the payoff right after a prepayment is the principal left; no part is paid beyond what it
    owes, no profit is negative, the principal parts still sum to the financed amount; paying
    what each instalment asks on its due date closes the loan exactly; and a reversal of the
    payment gives back the state before it."""
    loan = state(mode, terms)
    on = terms.start + timedelta(days=day)
    history = [(i.due_date, i.principal + i.profit) for i in loan.instalments if i.due_date < on]
    for due, amount in history:
        loan, _ = pay(loan, str(amount), due)
    before = loan
    amount = sum(asks(i) for i in loan.instalments if i.due_date <= on) + D(paisa) / 100
    if amount >= payoff_quote(loan, on).total:
        return
    loan, allocation = pay(loan, str(amount), on)
    current = next(i.n for i in loan.instalments if i.due_date > on)
    if any(line.principal and line.instalment == current for line in allocation.lines):
        left = sum(i.principal - i.paid_principal for i in loan.instalments)
        assert payoff_quote(loan, on).total == left
    financed = D(terms.financed_paisa) / 100
    for item in loan.instalments:
        assert 0 <= item.paid_principal <= item.principal and item.profit >= 0
        assert item.paid_profit <= item.profit
    assert sum(i.principal for i in loan.instalments) == financed
    for item in loan.instalments:
        if item.due_date > on and not loan.closed:
            loan, step = pay(loan, str(asks(item)), item.due_date)
            assert step.applied == asks(item) and step.unapplied == 0
    assert loan.closed and sum(i.paid_principal for i in loan.instalments) == financed
    txns = [Txn(k, TxnKind.PAYMENT, due, a) for k, (due, a) in enumerate(history)]
    paid = Txn(len(txns), TxnKind.PAYMENT, on, amount)
    back = Txn(len(txns) + 1, TxnKind.REVERSAL, on, amount, reverses=paid.id)
    assert replay(ServicingTerms(state(mode, terms)), [*txns, paid, back], on).state == before


@settings(max_examples=100, deadline=None)
@given(any_terms())
def test_the_booked_state_is_the_booked_schedule_without_its_apr(terms):
    """Servicing rebuilds a reduce-principal loan's booked schedule with `booked_state`."""
    assert booked_state(terms) == state_from_schedule(build_schedule(terms))
