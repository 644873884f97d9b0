"""Payments: the waterfall that allocates them and the payoff quote, on ONE code path.

Both are answered by `lending.finance.book.Book` (its module doc says what settles a loan on
a date and where money beyond the due instalments goes). A payment of at least the payoff
quote on its date settles the loan; below it, money pays the due instalments oldest first in
waterfall order and then the next instalments in full, profit included. Profit paid ahead is
rebated when the loan settles, so the payoff always charges profit only on the balance
actually outstanding. A reducing loan whose product reduces principal instead
(`Reamortisation`) puts money beyond the due instalments and the profit earned to date on
principal and re-amortises the rest of its schedule: an Allocation then carries the state
after it, which `apply_allocation` returns. `lending.finance.replay` runs the same engine
over a loan's history.
"""

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from lending.finance.book import INDEX, PARTS, Book, Reduce, arrears_tolerance
from lending.finance.enums import Method, Part, Prepayment
from lending.finance.errors import AllocationError, TermsError
from lending.finance.kernel import Period
from lending.finance.money import ZERO, to_money, to_paisa
from lending.finance.schedule import Instalment, Schedule, booked_rows, periods_of
from lending.finance.terms import ROUND_RUPEE, LoanTerms

__all__ = [
    "Accrual",
    "Allocation",
    "AllocationLine",
    "InstalmentState",
    "LoanState",
    "Order",
    "Part",
    "PayoffQuote",
    "Reamortisation",
    "Waterfall",
    "allocate",
    "apply_allocation",
    "book_of",
    "booked_state",
    "overdue",
    "payoff_quote",
    "state_from_schedule",
]


class Order(StrEnum):
    """How the waterfall walks instalments and parts."""

    PER_INSTALMENT = "per_instalment"  # every part of the oldest instalment, then the next
    PER_PART = "per_part"  # the first part across all instalments (oldest first), then the next


@dataclass(frozen=True)
class Waterfall:
    """The order in which a payment settles parts; default late fee, fee, profit, principal."""

    parts: tuple[Part, ...] = (Part.LATE_FEE, Part.FEE, Part.PROFIT, Part.PRINCIPAL)
    order: Order = Order.PER_INSTALMENT

    def __post_init__(self) -> None:
        if sorted(self.parts) != sorted(Part):
            raise AllocationError("a waterfall must name every part exactly once")


@dataclass(frozen=True)
class InstalmentState:
    """A scheduled instalment and what has been paid of each part (rupees)."""

    n: int
    due_date: date
    principal: Decimal
    profit: Decimal
    fee: Decimal = ZERO
    late_fee: Decimal = ZERO  # late fee charged on this instalment, net of any waiver
    paid_principal: Decimal = ZERO
    paid_profit: Decimal = ZERO
    paid_fee: Decimal = ZERO
    paid_late_fee: Decimal = ZERO
    tolerance: Decimal = ZERO  # unpaid up to this much, it is not in arrears
    late_fee_waived: Decimal = ZERO
    paid_on: date | None = None

    def unpaid(self, part: Part) -> int:
        """Return the unpaid amount of a part, in paisa."""
        return to_paisa(getattr(self, part.value)) - to_paisa(getattr(self, f"paid_{part}"))


@dataclass(frozen=True)
class Accrual:
    """Where the current period's accrual stands: its instalment, up to when, balance x days."""

    index: int
    mark: date
    balance_days: int  # paisa x days


# Why the reduce modes are refused rather than quietly treated as next_instalments: a product
# that promises to reduce the principal must not do something else. Flat and Murabaha profit
# is fixed at booking (the sale price cannot be re-priced on a lower balance), and an
# equal-principal loan has no level instalment to keep or lower.
REDUCE_REFUSED = (
    "Reducing the principal is offered on reducing (annuity) loans only: flat and Murabaha "
    "profit is fixed at booking, and equal-principal instalments are not level."
)


@dataclass(frozen=True)
class Reamortisation:
    """What a reduce-principal loan re-amortises its schedule with (see lending.finance.book)."""

    mode: Prepayment  # REDUCE_TENOR or REDUCE_INSTALMENT
    periods: tuple[Period, ...]  # each instalment's accrual period (num, den), as booked
    level: Decimal  # the booked level instalment
    rounding: Decimal = ROUND_RUPEE  # the product's instalment rounding unit (1 or 0.01)
    tolerance_amount: Decimal = ZERO  # the arrears tolerance rule, for re-amortised rows
    tolerance_pct: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.mode not in (Prepayment.REDUCE_TENOR, Prepayment.REDUCE_INSTALMENT):
            raise TermsError({"prepayment": ["must be reduce_tenor or reduce_instalment"]})

    def engine(self) -> Reduce:
        """The rule in the engine's units."""
        tolerance = (to_paisa(self.tolerance_amount), self.tolerance_pct)
        tenor = self.mode is Prepayment.REDUCE_TENOR
        return Reduce(tenor, self.periods, to_paisa(self.level), to_paisa(self.rounding), tolerance)


@dataclass(frozen=True)
class LoanState:
    """A booked loan as servicing sees it: schedule, payments so far, rate and kind."""

    start: date  # disbursement: the first period accrues from here
    annual_rate: Decimal  # percent
    instalments: tuple[InstalmentState, ...]
    islamic: bool = False
    closed: bool = False  # settled in full: nothing is due any more
    fixed_profit: bool | None = None  # flat or Murabaha (None: as `islamic`)
    rebate_pct: Decimal = Decimal("100")  # of unearned fixed profit, on early settlement
    accrual: Accrual | None = None  # None: no principal was paid inside the current period
    reduce: Reamortisation | None = None  # None: money ahead pays the next instalments

    def __post_init__(self) -> None:
        if self.reduce is None:
            return
        if self.islamic if self.fixed_profit is None else self.fixed_profit:
            raise TermsError({"prepayment": [REDUCE_REFUSED]})
        if len(self.reduce.periods) != len(self.instalments):
            raise TermsError({"prepayment": ["needs the accrual period of every instalment"]})


@dataclass(frozen=True)
class AllocationLine:
    """What a payment (or a payoff quote) puts on one instalment; a rebate is negative profit."""

    instalment: int
    late_fee: Decimal = ZERO
    fee: Decimal = ZERO
    profit: Decimal = ZERO
    principal: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Return the sum of the parts."""
        return self.late_fee + self.fee + self.profit + self.principal


@dataclass(frozen=True)
class Allocation:
    """A payment split over instalments; applied + unapplied == amount, exactly."""

    on: date
    amount: Decimal
    lines: tuple[AllocationLine, ...]
    applied: Decimal
    unapplied: Decimal  # more than the payoff: a credit, never a negative balance
    closes_loan: bool
    waived_profit: Decimal  # scheduled profit not charged because this payment settles the loan
    # The loan's state after the payment: paid parts, paid dates, where the period's accrual
    # stands and (reduce modes) the re-amortised schedule. `apply_allocation` returns it.
    after: LoanState | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PayoffQuote:
    """What settles the loan in full on a date, per part and per instalment."""

    on: date
    principal: Decimal
    profit: Decimal
    fees: Decimal
    late_fees: Decimal
    total: Decimal
    waived_profit: Decimal  # scheduled profit not charged (not earned, or rebated)
    lines: tuple[AllocationLine, ...] = field(default=())


# The attribute names of the parts in PARTS order (read per instalment: no enum look-ups).
_OWED = tuple(p.value for p in PARTS)
_PAID = tuple(f"paid_{p.value}" for p in PARTS)


def book_of(state: LoanState) -> Book:
    """The engine's paisa state of a LoanState."""
    fixed = state.islamic if state.fixed_profit is None else state.fixed_profit
    accrual = state.accrual
    book = Book(
        start=state.start,
        annual_rate=state.annual_rate,
        fixed=fixed,
        islamic=state.islamic,
        rebate_pct=state.rebate_pct,
        reduce=None if state.reduce is None else state.reduce.engine(),
        closed=state.closed,
        accrual=None if accrual is None else (accrual.index, accrual.mark, accrual.balance_days),
    )
    for item in state.instalments:
        owed = [to_paisa(getattr(item, name)) for name in _OWED]
        paid = [to_paisa(getattr(item, name)) for name in _PAID]
        waived = to_paisa(item.late_fee_waived)
        book.add(item.n, item.due_date, owed, paid, to_paisa(item.tolerance), waived, item.paid_on)
    return book


def state_of(book: Book, template: LoanState) -> LoanState:
    """The LoanState of an engine state (the template, which the book was made of, gives the
    loan's fixed terms and the instalments the book has not changed)."""
    rows = []
    for i, item in enumerate(template.instalments):
        if i not in book.touched:
            rows.append(item)
            continue
        owed, paid = book.owed[i], book.paid[i]
        values = {name: to_money(owed[k]) for k, name in enumerate(_OWED)}
        values.update({name: to_money(paid[k]) for k, name in enumerate(_PAID)})
        values["late_fee_waived"] = to_money(book.waived[i])
        values["tolerance"] = to_money(book.tolerance[i])  # re-amortised rows recompute it
        rows.append(replace(item, **values, paid_on=book.paid_on[i]))
    accrual = None
    if book.acc_index is not None:
        accrual = Accrual(book.acc_index, book.acc_mark, book.acc_balance_days)
    return replace(template, instalments=tuple(rows), closed=book.closed, accrual=accrual)


def line_of(n: int, row: list[int]) -> AllocationLine:
    """An AllocationLine from a paisa row in PARTS order."""
    return AllocationLine(n, **{name: to_money(row[k]) for k, name in enumerate(_OWED)})


def allocate(
    state: LoanState, amount: Decimal, on: date, waterfall: Waterfall = Waterfall()
) -> Allocation:
    """Return how `amount` paid on `on` settles the loan's parts (see the module doc)."""
    if not isinstance(amount, Decimal) or amount < 0:
        raise AllocationError("amount must be a Decimal of 0 or more")
    book = book_of(state)
    lines, left, closes = book.pay(
        to_paisa(amount), on, waterfall.parts, waterfall.order is Order.PER_PART
    )
    return Allocation(
        on,
        amount,
        tuple(line_of(book.n[i], row) for i, row in sorted(lines.items())),
        to_money(to_paisa(amount) - left),
        to_money(left),
        closes,
        to_money(_profit_left(book)) if closes else ZERO,
        state_of(book, state),
    )


def _profit_left(book: Book) -> int:
    """Scheduled profit not yet paid, in paisa."""
    k = INDEX[Part.PROFIT]
    return sum(owed[k] - paid[k] for owed, paid in zip(book.owed, book.paid, strict=True))


def payoff_quote(state: LoanState, on: date) -> PayoffQuote:
    """Return what settles the loan in full on `on` (the same dues `allocate` pays)."""
    book = book_of(state)
    rows = book.dues(on)
    sums = [sum(row[k] for row in rows) for k in range(4)]
    lines = tuple(line_of(book.n[i], row) for i, row in enumerate(rows) if any(row))
    return PayoffQuote(
        on,
        principal=to_money(sums[INDEX[Part.PRINCIPAL]]),
        profit=to_money(sums[INDEX[Part.PROFIT]]),
        fees=to_money(sums[INDEX[Part.FEE]]),
        late_fees=to_money(sums[INDEX[Part.LATE_FEE]]),
        total=to_money(sum(sums)),
        waived_profit=ZERO
        if book.closed
        else to_money(_profit_left(book) - sums[INDEX[Part.PROFIT]]),
        lines=lines,
    )


def apply_allocation(state: LoanState, allocation: Allocation) -> LoanState:
    """Return the state after the allocation's amounts are recorded as paid: the state
    `allocate` left when it made the allocation on `state` (the one engine that allocates;
    a second way of adding the lines up had no caller and no test)."""
    if allocation.after is None:
        raise AllocationError("an allocation made by allocate() on this state is needed")
    return allocation.after


def overdue(state: LoanState, on: date) -> tuple[Decimal, int]:
    """Return the amount past due on `on` and the days past due of the oldest in arrears."""
    amount, days = book_of(state).overdue(on)
    return to_money(amount), days


def state_from_schedule(
    schedule: Schedule,
    islamic: bool | None = None,
    prepayment: Prepayment = Prepayment.NEXT_INSTALMENTS,
) -> LoanState:
    """Return the unpaid LoanState of a freshly built Schedule; a reduce mode on terms that
    cannot reduce principal raises TermsError (`REDUCE_REFUSED`)."""
    terms = schedule.terms
    state = _state(terms, schedule.instalments, schedule.instalment_amount, prepayment)
    if islamic is None or islamic == terms.islamic:
        return state
    return replace(state, islamic=islamic, fixed_profit=islamic or terms.method is Method.FLAT)


def booked_state(
    terms: LoanTerms,
    prepayment: Prepayment = Prepayment.NEXT_INSTALMENTS,
    tolerance: tuple[Decimal, Decimal] = (ZERO, ZERO),
) -> LoanState:
    """Return the unpaid LoanState of terms as `build_schedule` would book them (without the
    APR), each row's arrears tolerance by the rule (amount, percent of its total)."""
    rows, level = booked_rows(terms)
    return _state(terms, rows, level, prepayment, tolerance)


def _state(
    terms: LoanTerms,
    rows: tuple[Instalment, ...],
    level: Decimal,
    prepayment: Prepayment,
    tolerance: tuple[Decimal, Decimal] = (ZERO, ZERO),
) -> LoanState:
    amount, pct = tolerance
    rule = (to_paisa(amount), pct)
    items = tuple(
        InstalmentState(
            r.n,
            r.due_date,
            r.principal,
            r.profit,
            r.fee,
            tolerance=to_money(arrears_tolerance(to_paisa(r.total), *rule)) if any(rule) else ZERO,
        )
        for r in rows
    )
    reduce = None
    if Prepayment(prepayment) is not Prepayment.NEXT_INSTALMENTS:
        if terms.method is not Method.REDUCING or terms.islamic:
            raise TermsError({"prepayment": [REDUCE_REFUSED]})
        reduce = Reamortisation(
            Prepayment(prepayment), periods_of(terms), level, terms.rounding, amount, pct
        )
    fixed = terms.islamic or terms.method is Method.FLAT
    return LoanState(
        terms.start, terms.annual_rate, items, terms.islamic, fixed_profit=fixed, reduce=reduce
    )
