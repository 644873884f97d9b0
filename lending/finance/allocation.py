"""Payments: the waterfall that allocates them and the payoff quote, on ONE code path.

`dues(state, on)` says, per instalment and part, what settles the loan in full on a date:
- instalments due on or before the date: every unpaid part (late fee, fee, profit, principal);
- the current instalment (the first not yet due): its unpaid principal and fees, and only
  the profit accrued to the date. Conventional loans accrue actual days since the previous
  due date (or disbursement) on the outstanding principal at the loan's rate (actual/365),
  capped at the instalment's scheduled profit. Murabaha (islamic) profit is fixed at
  booking; the default rebate (ibra) charges the current instalment's fixed profit pro rata
  to the days elapsed in its period;
- later instalments: unpaid principal and fees; their profit is not charged (not accrued,
  or rebated under Murabaha). The profit so left is `waived_profit`.
`payoff_quote` is the sum of those dues; `allocate` pays them in waterfall order, due
instalments first, then the future ones (a prepayment: the current period's accrued profit,
then principal of the next instalments, nearest first). A prepayment that falls short of
the payoff does not re-price the schedule: the profit of future instalments stays due as
booked when they fall due; only settlement in full drops it. Paying the payoff quote on its
date through `allocate` therefore closes the loan (property-tested).
"""

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from lending.finance.enums import Part
from lending.finance.errors import AllocationError
from lending.finance.kernel import days_period, div_half_up, period_profit
from lending.finance.money import ZERO, to_money, to_paisa
from lending.finance.schedule import Schedule

__all__ = [
    "Allocation",
    "AllocationLine",
    "InstalmentState",
    "LoanState",
    "Order",
    "Part",
    "PayoffQuote",
    "Waterfall",
    "allocate",
    "apply_allocation",
    "dues",
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
    late_fee: Decimal = ZERO  # late fees charged on this instalment so far
    paid_principal: Decimal = ZERO
    paid_profit: Decimal = ZERO
    paid_fee: Decimal = ZERO
    paid_late_fee: Decimal = ZERO

    def unpaid(self, part: Part) -> int:
        """Return the unpaid amount of a part, in paisa."""
        return to_paisa(getattr(self, part.value)) - to_paisa(getattr(self, f"paid_{part}"))


@dataclass(frozen=True)
class LoanState:
    """A booked loan as servicing sees it: schedule, payments so far, rate and kind."""

    start: date  # disbursement: the first period accrues from here
    annual_rate: Decimal  # percent
    instalments: tuple[InstalmentState, ...]
    islamic: bool = False
    closed: bool = False  # settled in full: nothing is due any more


@dataclass(frozen=True)
class AllocationLine:
    """What a payment (or a payoff quote) puts on one instalment."""

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
    unapplied: Decimal  # more than the payoff: returned or held, never a negative balance
    closes_loan: bool
    waived_profit: Decimal  # future profit dropped because this payment settles the loan


@dataclass(frozen=True)
class PayoffQuote:
    """What settles the loan in full on a date, per part and per instalment."""

    on: date
    principal: Decimal
    profit: Decimal
    fees: Decimal
    late_fees: Decimal
    total: Decimal
    waived_profit: Decimal  # scheduled profit not charged (not accrued, or rebated)
    lines: tuple[AllocationLine, ...] = field(default=())


@dataclass(frozen=True)
class _Due:
    n: int
    amounts: dict[Part, int]  # paisa
    future: bool


def dues(state: LoanState, on: date) -> tuple[_Due, ...]:
    """Return, per instalment, the paisa of each part that settles the loan in full on `on`."""
    if state.closed:
        return ()
    result, current = [], _current_index(state, on)
    for index, item in enumerate(state.instalments):
        amounts = {part: max(item.unpaid(part), 0) for part in Part}
        if current is not None and index >= current:
            amounts[Part.PROFIT] = _accrued(state, on, index) if index == current else 0
        result.append(_Due(item.n, amounts, current is not None and index >= current))
    return tuple(result)


def _current_index(state: LoanState, on: date) -> int | None:
    for index, item in enumerate(state.instalments):
        if item.due_date > on:
            return index
    return None


def _accrued(state: LoanState, on: date, index: int) -> int:
    """Return the unpaid profit of the current instalment accrued to `on`, in paisa."""
    item = state.instalments[index]
    opened = state.instalments[index - 1].due_date if index else state.start
    elapsed = max((on - opened).days, 0)
    scheduled = to_paisa(item.profit)
    if state.islamic:
        # Murabaha: a time share of the instalment's fixed profit (the default rebate rule).
        length = max((item.due_date - opened).days, 1)
        earned = div_half_up(scheduled * min(elapsed, length), length)
    else:
        outstanding = sum(max(i.unpaid(Part.PRINCIPAL), 0) for i in state.instalments[index:])
        rate_bp = int(state.annual_rate * 100)
        earned = min(period_profit(outstanding, rate_bp, days_period(elapsed)), scheduled)
    return max(earned - to_paisa(item.paid_profit), 0)


def _walk(items: tuple[_Due, ...], waterfall: Waterfall):
    """Yield (due, part) in waterfall order: due instalments first, then future ones."""
    for group in ([d for d in items if not d.future], [d for d in items if d.future]):
        if waterfall.order is Order.PER_INSTALMENT:
            yield from ((due, part) for due in group for part in waterfall.parts)
        else:
            yield from ((due, part) for part in waterfall.parts for due in group)


def allocate(
    state: LoanState, amount: Decimal, on: date, waterfall: Waterfall = Waterfall()
) -> Allocation:
    """Return how `amount` paid on `on` settles the loan's parts (see the module doc)."""
    if not isinstance(amount, Decimal) or amount < 0:
        raise AllocationError("amount must be a Decimal of 0 or more")
    left = to_paisa(amount)
    items = dues(state, on)
    paid: dict[int, dict[Part, int]] = {}
    for due, part in _walk(items, waterfall):
        take = min(left, due.amounts[part])
        if take:
            paid.setdefault(due.n, dict.fromkeys(Part, 0))[part] += take
            left -= take
    owed = sum(sum(d.amounts.values()) for d in items)
    closes = to_paisa(amount) - left == owed  # nothing is left to pay after this payment
    lines = tuple(_line(n, parts) for n, parts in sorted(paid.items()))
    return Allocation(
        on,
        amount,
        lines,
        to_money(to_paisa(amount) - left),
        to_money(left),
        closes,
        to_money(_waived(state, items)) if closes else ZERO,
    )


def _line(n: int, parts: dict[Part, int]) -> AllocationLine:
    return AllocationLine(n, **{part.value: to_money(parts.get(part, 0)) for part in Part})


def _waived(state: LoanState, items: tuple[_Due, ...]) -> int:
    scheduled = sum(max(i.unpaid(Part.PROFIT), 0) for i in state.instalments)
    return scheduled - sum(d.amounts[Part.PROFIT] for d in items)


def payoff_quote(state: LoanState, on: date) -> PayoffQuote:
    """Return what settles the loan in full on `on` (the same dues `allocate` pays)."""
    items = dues(state, on)

    def total(part: Part) -> Decimal:
        return to_money(sum(d.amounts[part] for d in items))

    lines = tuple(_line(d.n, d.amounts) for d in items if any(d.amounts.values()))
    grand = to_money(sum(sum(d.amounts.values()) for d in items))
    return PayoffQuote(
        on,
        total(Part.PRINCIPAL),
        total(Part.PROFIT),
        total(Part.FEE),
        total(Part.LATE_FEE),
        grand,
        to_money(_waived(state, items)),
        lines,
    )


def apply_allocation(state: LoanState, allocation: Allocation) -> LoanState:
    """Return the state after the allocation's amounts are recorded as paid."""
    by_n = {line.instalment: line for line in allocation.lines}
    updated = []
    for item in state.instalments:
        line = by_n.get(item.n)
        if line is None:
            updated.append(item)
            continue
        updated.append(
            replace(
                item,
                **{f"paid_{p}": getattr(item, f"paid_{p}") + getattr(line, p.value) for p in Part},
            )
        )
    return replace(state, instalments=tuple(updated), closed=allocation.closes_loan)


def overdue(state: LoanState, on: date) -> tuple[Decimal, int]:
    """Return the amount past due on `on` and the days past due of the oldest unpaid one."""
    late = [d for d in dues(state, on) if not d.future and any(d.amounts.values())]
    if not late:
        return ZERO, 0
    oldest = next(i for i in state.instalments if i.n == late[0].n)
    return to_money(sum(sum(d.amounts.values()) for d in late)), (on - oldest.due_date).days


def state_from_schedule(schedule: Schedule, islamic: bool | None = None) -> LoanState:
    """Return the unpaid LoanState of a freshly built Schedule."""
    terms = schedule.terms
    rows = tuple(
        InstalmentState(r.n, r.due_date, r.principal, r.profit, r.fee) for r in schedule.instalments
    )
    return LoanState(
        terms.start, terms.annual_rate, rows, terms.islamic if islamic is None else islamic
    )
