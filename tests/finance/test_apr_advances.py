"""APR of a loan advanced in more than one tranche, worked by hand.

Advances of 1,000.00 on 15 January and 1,000.00 on 15 February 2025, repaid by one payment
of 2,030.10 on 15 March: at 1% a month, 1,000 x 1.01^2 + 1,000 x 1.01 = 1,020.10 + 1,010.00 =
2,030.10 exactly, so the APR is 12 x 1% = 12.00%. Appendix J places every flow from the FIRST
advance (the earliest date, whatever the order they are listed in).
"""

from datetime import date
from decimal import Decimal

import pytest

from lending.finance.apr import CashFlow, UnitPeriod, apr

D = Decimal
JAN, FEB = CashFlow(D("1000.00"), date(2025, 1, 15)), CashFlow(D("1000.00"), date(2025, 2, 15))


@pytest.mark.parametrize("advances", [[JAN, FEB], [FEB, JAN]], ids=["in order", "reversed"])
def test_two_advances_one_month_apart_at_one_percent_a_month(advances):
    assert apr(advances, [CashFlow(D("2030.10"), date(2025, 3, 15))], UnitPeriod.MONTH) == D(
        "12.00"
    )


def test_the_same_repayment_for_both_advanced_on_the_first_day_is_a_lower_rate():
    """2,000.00 all advanced on 15 January for the same 2,030.10 on 15 March: the borrower
    holds the second 1,000.00 a month longer, so the rate is lower: 2,000 x (1 + i)^2 =
    2,030.10, i = sqrt(1.01505) - 1 = 0.74969% a month, 12 x i = 9.00%."""
    both = [CashFlow(D("2000.00"), date(2025, 1, 15))]
    assert apr(both, [CashFlow(D("2030.10"), date(2025, 3, 15))], UnitPeriod.MONTH) == D("9.00")
