"""Pure money maths of the platform: no Flask, no database, no floats in any amount.

Plain values in (Decimal rupees, date, frozen dataclasses, StrEnum), plain values out;
inside, amounts are integer paisa, quantised ROUND_HALF_UP when they leave as Decimal.

Entry points:
- terms.LoanTerms(principal=, annual_rate=, tenor=, start=, method=, frequency=, day_count=,
  first_due=, fee=, fee_financed=, rounding=, roll_holidays=, islamic=): validated terms;
  bad terms raise errors.TermsError whose `errors` maps field -> [messages].
- schedule.build_schedule(terms) -> Schedule: rows (n, due_date, principal, profit, fee,
  total, balance_after), financed_amount, instalment_amount, total_profit, total_fees,
  total_payable, apr. "profit" is interest or Murabaha markup alike.
- apr.apr(advances, payments, unit_period) -> Decimal: Regulation Z Appendix J, percent.
- allocation.allocate(state, amount, on, waterfall) -> Allocation and
  allocation.payoff_quote(state, on) -> PayoffQuote, both answered by book.Book.
- replay.replay(ServicingTerms, [Txn], through) -> Replay: a loan's money state (paid parts,
  late fees, credit, days past due) as a pure function of its terms and dated transactions.
- late_fees.late_fee(rule, overdue, due_date, on, islamic) -> LateFee(amount, charity).
- batch.build_batch(BatchTerms) -> BatchSchedules: many loans at once in int64 paisa, equal
  to build_schedule to the paisa.

Decisions (each explained where it is made):
- The `fee` of a schedule row is always 0.00: a processing fee is financed (in principal,
  earning profit) or paid up front (a finance charge at time zero: in the APR and
  total_payable, not in the rows). LoanState keeps per-instalment fees for servicing fees.
- With roll_holidays, a due date on a Sunday (Pakistan's weekly holiday) or a Pakistani
  public holiday (the `holidays` package) moves to the next day that is neither; profit
  still accrues to the unrolled date, so a roll never changes an amount (dates.py, plan.py).
- Murabaha (islamic=True) prices like its method, then the sale price and profit are
  fixed; early settlement rebates future profit and charges the current instalment's profit
  pro rata to elapsed days; late fees are flagged charity (allocation.py, late_fees.py).
- Money beyond what is due pays the next instalments in full, profit included, oldest
  first; settlement charges profit only as earned on the balance actually outstanding and
  rebates profit paid ahead (book.py).
"""

from lending.finance.allocation import (
    Allocation,
    AllocationLine,
    InstalmentState,
    LoanState,
    Order,
    PayoffQuote,
    Waterfall,
    allocate,
    apply_allocation,
    payoff_quote,
    state_from_schedule,
)
from lending.finance.apr import CashFlow, UnitPeriod, apr
from lending.finance.batch import BatchSchedules, BatchTerms, build_batch
from lending.finance.enums import DayCount, Frequency, Method, Part
from lending.finance.errors import AllocationError, FinanceError, TermsError
from lending.finance.late_fees import LateFee, LateFeeRule, late_fee
from lending.finance.schedule import Instalment, Schedule, build_schedule
from lending.finance.terms import LoanTerms

__all__ = [
    "Allocation",
    "AllocationError",
    "AllocationLine",
    "BatchSchedules",
    "BatchTerms",
    "CashFlow",
    "DayCount",
    "FinanceError",
    "Frequency",
    "Instalment",
    "InstalmentState",
    "LateFee",
    "LateFeeRule",
    "LoanState",
    "LoanTerms",
    "Method",
    "Order",
    "Part",
    "PayoffQuote",
    "Schedule",
    "TermsError",
    "UnitPeriod",
    "Waterfall",
    "allocate",
    "apply_allocation",
    "apr",
    "build_batch",
    "build_schedule",
    "late_fee",
    "payoff_quote",
    "state_from_schedule",
]
