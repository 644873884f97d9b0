"""Payoff quotes worked by hand: after a partial prepayment, and inside a holiday-rolled period.

The rule (README, "Servicing"): a payoff charges profit only as earned, actual/365 at the
loan's rate, on the balance actually outstanding (principal unpaid less profit paid ahead),
never more than the instalment's scheduled profit; profit paid ahead comes back.
"""

from datetime import date
from decimal import Decimal

from lending.finance.allocation import allocate, apply_allocation, booked_state, payoff_quote
from lending.finance.terms import LoanTerms

D = Decimal


def prepaid_loan():
    """Rs 100,000 at 36% over 12 months (30/360) from 10 Jan 2025, as booked.

    Level: 100,000 x 0.03 / (1 - 1.03^-12) = 10,046.21 -> 10,047.00.
    Row 1 (due 10 Feb): profit 3,000.00, principal 7,047.00, balance 92,953.00.
    Row 2 (due 10 Mar): profit 92,953.00 x 0.03 = 2,788.59, principal 7,258.41.
    On 10 Feb the borrower pays 15,047.00: row 1 (10,047.00), then 5,000.00 ahead on row 2,
    profit first (2,788.59) then principal (2,211.41).
    """
    state = booked_state(
        LoanTerms(principal=D("100000"), annual_rate=D("36"), tenor=12, start=date(2025, 1, 10))
    )
    first, second = state.instalments[:2]
    assert (first.principal, first.profit) == (D("7047.00"), D("3000.00"))
    assert (second.principal, second.profit) == (D("7258.41"), D("2788.59"))
    paid = allocate(state, D("15047.00"), date(2025, 2, 10))
    assert [(line.instalment, line.profit, line.principal) for line in paid.lines] == [
        (1, D("3000.00"), D("7047.00")),
        (2, D("2788.59"), D("2211.41")),
    ]
    return apply_allocation(state, paid)


def test_payoff_after_a_partial_prepayment_by_hand():
    """Quoted on 25 Feb, 15 days into row 2's period.

    Principal unpaid: 92,953.00 - 2,211.41 = 90,741.59. The 2,788.59 of profit paid ahead is
    money the borrower no longer owes, so the balance that earns is 90,741.59 - 2,788.59 =
    87,953.00 (= 92,953.00 - the 5,000.00 paid ahead). Earned: 87,953.00 x 0.36 x 15 / 365 =
    1,301.2225 -> 1,301.22. Row 2's profit due is 1,301.22 - 2,788.59 = -1,487.37 (a
    rebate), so the payoff is 90,741.59 - 1,487.37 = 89,254.22 = 87,953.00 + 1,301.22.
    """
    state = prepaid_loan()
    quote = payoff_quote(state, date(2025, 2, 25))
    assert quote.principal == D("90741.59")
    assert quote.profit == D("-1487.37")
    assert quote.total == D("89254.22")
    # Paying the quote settles the loan to the paisa; a paisa less does not.
    assert allocate(state, D("89254.21"), date(2025, 2, 25)).closes_loan is False
    settled = allocate(state, D("89254.22"), date(2025, 2, 25))
    assert settled.closes_loan and settled.unapplied == D("0.00")


def test_payoff_on_the_day_of_the_prepayment_is_the_balance_less_the_money_ahead():
    # No day has run in row 2's period: nothing is earned; 92,953.00 - 5,000.00 = 87,953.00.
    assert payoff_quote(prepaid_loan(), date(2025, 2, 10)).total == D("87953.00")


def rolled_loan():
    """Rs 50,000 at 36% over 6 months (30/360) from 31 Jan 2025, due dates rolled.

    Level: 50,000 x 0.03 / (1 - 1.03^-6) = 9,229.88 -> 9,230.00. Row 1 (28 Feb): profit
    1,500.00, principal 7,730.00, balance 42,270.00. Row 2 falls on 31 Mar 2025, Eid
    al-Fitr (31 Mar - 2 Apr), and rolls to Thursday 3 Apr; its profit stays 42,270.00 x 0.03
    = 1,268.10 (accrual is on the nominal date), but its period now runs 34 days.
    """
    state = booked_state(
        LoanTerms(
            principal=D("50000"),
            annual_rate=D("36"),
            tenor=6,
            start=date(2025, 1, 31),
            roll_holidays=True,
        )
    )
    first, second = state.instalments[:2]
    assert (first.due_date, first.principal, first.profit) == (
        date(2025, 2, 28),
        D("7730.00"),
        D("1500.00"),
    )
    assert (second.due_date, second.profit) == (date(2025, 4, 3), D("1268.10"))
    return apply_allocation(state, allocate(state, D("9230.00"), date(2025, 2, 28)))


def test_payoff_inside_a_holiday_rolled_period_earns_at_most_the_scheduled_profit():
    state = rolled_loan()
    # 25 days in: 42,270.00 x 0.36 x 25 / 365 = 1,042.27 earned, below the 1,268.10 cap.
    assert payoff_quote(state, date(2025, 3, 25)).total == D("43312.27")
    # 33 days in (2 Apr, still before the rolled due date): 42,270.00 x 0.36 x 33 / 365 =
    # 1,375.80 would be earned, more than the instalment's 1,268.10: capped at 1,268.10.
    capped = payoff_quote(state, date(2025, 4, 2))
    assert (capped.profit, capped.total) == (D("1268.10"), D("43538.10"))
    assert allocate(state, D("43538.10"), date(2025, 4, 2)).closes_loan
