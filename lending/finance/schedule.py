"""The one-loan engine: exact instalment schedules in integer paisa, returned as Decimal.

Rounding rules (shared with lending.finance.batch through lending.finance.kernel):
- reducing: level instalment = numpy-financial pmt (or, for irregular periods, the annuity
  at each period's own rate), converted once to paisa and rounded up to the product's unit;
  each period's profit is balance x period rate, half up; principal = instalment - profit.
- flat: markup = principal x rate x term in years (term = sum of the periods), half up,
  spread over the instalments in proportion to period length (evenly for regular periods)
  by cumulative rounding; instalment = (principal + markup) / tenor up to the unit.
- equal_principal: principal part = financed / tenor up to the unit; profit as reducing.
- every principal part is kept between 0 and the balance, and the last instalment takes
  the remaining balance, so the principal parts sum exactly to the financed amount. (A
  principal tiny against the tenor, e.g. PKR 1,000 over 41 months rounded up to the rupee,
  is repaid before the end: its last rows are then 0.00; products' minimum prices keep
  real loans far from this.)
- the `fee` column is always 0.00 here: a processing fee is either financed (it is part of
  principal and earns profit) or paid up front at disbursement (a finance charge in the
  APR and in total_payable, never in an instalment). The column is kept for servicing fees.
- re-amortising (`reamortise`, a reduce-principal prepayment in servicing) follows the
  reducing rules from a balance on a date: the first instalment's profit is given (the rest
  of a broken period), a new level is rounded like the booked one, the last row takes what is
  left; kept at the booked level, the balance runs out early and the rows after owe 0.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from lending.finance.apr import CashFlow, UnitPeriod, apr
from lending.finance.enums import Frequency, Method
from lending.finance.kernel import (
    Period,
    div_half_up,
    flat_markup,
    flat_weight,
    instalment_from_float,
    level_payment,
    period_profit,
    unit_share,
)
from lending.finance.money import ZERO, to_money
from lending.finance.plan import DateKey, Plan, make_plan
from lending.finance.terms import LoanTerms

UNIT_PERIOD = {
    Frequency.MONTHLY: UnitPeriod.MONTH,
    Frequency.FORTNIGHTLY: UnitPeriod.TWO_WEEKS,
    Frequency.WEEKLY: UnitPeriod.WEEK,
}


@dataclass(frozen=True)
class Instalment:
    """One row of a schedule (amounts in rupees)."""

    n: int
    due_date: date
    principal: Decimal
    profit: Decimal
    fee: Decimal
    total: Decimal
    balance_after: Decimal


@dataclass(frozen=True)
class Schedule:
    """A priced loan: the rows, their totals and the APR; `profit` is interest or markup."""

    terms: LoanTerms
    financed_amount: Decimal  # what the rows repay: principal plus a financed fee
    instalment_amount: Decimal  # the level instalment (the first one for equal_principal)
    instalments: tuple[Instalment, ...]
    total_profit: Decimal
    total_fees: Decimal  # the processing fee, financed or paid up front
    total_payable: Decimal  # every instalment plus a fee paid up front
    apr: Decimal  # percent, two places, Reg Z Appendix J, fees included
    amount_advanced: Decimal  # what the borrower actually received (less an up-front fee)
    upfront_fee: Decimal

    @property
    def frequency(self) -> Frequency:
        """Return how often the instalments fall due."""
        return self.terms.frequency

    @property
    def sale_price(self) -> Decimal:
        """Return the Murabaha sale price fixed at booking (financed amount plus profit)."""
        return self.financed_amount + self.total_profit


@dataclass(frozen=True)
class Rows:
    """Integer-paisa columns of a schedule, the engines' common output."""

    principal: tuple[int, ...]
    profit: tuple[int, ...]
    level: int  # the level instalment (or first principal part) before the last-row fix


def date_key(terms: LoanTerms) -> DateKey:
    """Return what the calendar of terms depends on."""
    return DateKey(
        terms.start, terms.first_due, terms.frequency, terms.day_count, terms.roll_holidays
    )


def build_schedule(terms: LoanTerms) -> Schedule:
    """Return the instalment schedule, totals and APR of valid terms."""
    plan = make_plan(date_key(terms), terms.tenor)
    rows = compute_rows(terms, plan)
    return _assemble(terms, plan, rows)


def periods_of(terms: LoanTerms) -> tuple[Period, ...]:
    """Return each instalment's accrual period (num, den) of terms, as the rows were priced."""
    return make_plan(date_key(terms), terms.tenor).periods


def booked_rows(terms: LoanTerms) -> tuple[tuple[Instalment, ...], Decimal]:
    """Return the rows and the level instalment of terms, as `build_schedule` makes them but
    without its totals and APR (servicing rebuilds a booked schedule with this)."""
    plan = make_plan(date_key(terms), terms.tenor)
    rows = compute_rows(terms, plan)
    first = rows.principal[0] + rows.profit[0]
    level = first if terms.method is Method.EQUAL_PRINCIPAL else rows.level
    return _instalments(terms, plan, rows), to_money(level)


def reamortise(
    balance: int, first: int, rate: int, periods: tuple[Period, ...], level: int | None, unit: int
) -> Rows:
    """Return the paisa rows repaying `balance` over one instalment per period: the first earns
    `first` (the rest of a broken period, at most its rate over periods[0]), the others `rate`
    over their periods. `level` None: a new level instalment at the periods' own rates, rounded
    up to `unit` like a booked one; else that level, so the balance may run out early (the
    rows after it owe 0). The last row takes what is left."""
    if level is None:
        one = np.array([1], dtype=np.int64)
        payment = level_payment(one * balance, one * rate, one * len(periods), periods, False)
        level = int(instalment_from_float(payment, unit)[0])
    principal, profit, last = [], [], len(periods) - 1
    for k, period in enumerate(periods):
        charge = first if k == 0 else period_profit(balance, rate, period)
        part = balance if k == last else min(max(level - charge, 0), balance)
        principal.append(part)
        profit.append(charge)
        balance -= part
    return Rows(tuple(principal), tuple(profit), level)


def compute_rows(terms: LoanTerms, plan: Plan) -> Rows:
    """Return the integer-paisa principal and profit columns of terms over plan."""
    engine = {
        Method.REDUCING: _reducing,
        Method.FLAT: _flat,
        Method.EQUAL_PRINCIPAL: _equal_principal,
    }[terms.method]
    return engine(terms, plan)


def _one(value: int) -> np.ndarray:
    return np.array([value], dtype=np.int64)


def _reducing(terms: LoanTerms, plan: Plan) -> Rows:
    financed, rate, n = terms.financed_paisa, terms.rate_units, terms.tenor
    payment = level_payment(_one(financed), _one(rate), _one(n), plan.periods, plan.regular)
    level = int(instalment_from_float(payment, terms.unit_paisa)[0])
    balance, principal, profit = financed, [], []
    for k, period in enumerate(plan.periods):
        charge = period_profit(balance, rate, period)
        part = balance if k == n - 1 else min(max(level - charge, 0), balance)
        principal.append(part)
        profit.append(charge)
        balance -= part
    return Rows(tuple(principal), tuple(profit), level)


def _flat(terms: LoanTerms, plan: Plan) -> Rows:
    financed, n, per_year = terms.financed_paisa, terms.tenor, terms.frequency.per_year
    cumulative, running = [], 0
    for period in plan.periods:
        running += flat_weight(period, per_year)
        cumulative.append(running)
    markup = flat_markup(financed, terms.rate_units, running, per_year)
    level = unit_share(financed + markup, n, terms.unit_paisa)
    balance, earned, principal, profit = financed, 0, [], []
    for k, weight in enumerate(cumulative):
        to_date = div_half_up(markup * weight, running)
        charge, earned = to_date - earned, to_date
        part = balance if k == n - 1 else min(max(level - charge, 0), balance)
        principal.append(part)
        profit.append(charge)
        balance -= part
    return Rows(tuple(principal), tuple(profit), level)


def _equal_principal(terms: LoanTerms, plan: Plan) -> Rows:
    financed, rate, n = terms.financed_paisa, terms.rate_units, terms.tenor
    level = unit_share(financed, n, terms.unit_paisa)
    balance, principal, profit = financed, [], []
    for k, period in enumerate(plan.periods):
        profit.append(period_profit(balance, rate, period))
        part = balance if k == n - 1 else min(level, balance)
        principal.append(part)
        balance -= part
    return Rows(tuple(principal), tuple(profit), level)


def _assemble(terms: LoanTerms, plan: Plan, rows: Rows) -> Schedule:
    instalments = _instalments(terms, plan, rows)
    upfront = 0 if terms.fee_financed else terms.fee_paisa
    repaid = sum(rows.principal) + sum(rows.profit)
    first = rows.principal[0] + rows.profit[0]
    level = first if terms.method is Method.EQUAL_PRINCIPAL else rows.level
    advances = [CashFlow(to_money(terms.advanced_paisa), terms.start)]
    payments = [CashFlow(row.total, row.due_date) for row in instalments]
    return Schedule(
        terms=terms,
        financed_amount=to_money(terms.financed_paisa),
        instalment_amount=to_money(level),
        instalments=instalments,
        total_profit=to_money(sum(rows.profit)),
        total_fees=to_money(terms.fee_paisa),
        total_payable=to_money(repaid + upfront),
        apr=apr(advances, payments, UNIT_PERIOD[terms.frequency]),
        amount_advanced=to_money(terms.advanced_paisa),
        upfront_fee=to_money(upfront),
    )


def _instalments(terms: LoanTerms, plan: Plan, rows: Rows) -> tuple[Instalment, ...]:
    balance, instalments = terms.financed_paisa, []
    for k, (part, charge) in enumerate(zip(rows.principal, rows.profit, strict=True)):
        balance -= part
        total = to_money(part + charge)
        instalments.append(
            Instalment(
                k + 1, plan.due[k], to_money(part), to_money(charge), ZERO, total, to_money(balance)
            )
        )
    return tuple(instalments)
