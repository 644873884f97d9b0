"""A loan's money state in integer paisa, changed in place: the one engine behind payments.

Allocation, the payoff quote and the replay all go through `Book`, so what a quote asks for is
exactly what a payment of that amount settles, on any date.

What settles the loan on a date (`dues`), per instalment and part:
- instalments due on or before the date: every unpaid part, scheduled profit in full;
- the current instalment (the first not yet due): its principal and fees, and the profit
  earned to the date. Conventional loans earn the loan's rate, actual/365, on the balance
  actually outstanding each day of the period (principal unpaid less profit paid ahead; a
  payment inside the period lowers it from its date on), at most the instalment's profit.
  Flat and Murabaha loans fix the profit at booking: the current period earns its time
  share, and the rest of the unearned profit is rebated at the product's rebate (ibra) share;
- later instalments: principal and fees; their profit is not earned (rebated under flat and
  Murabaha at the rebate share).
A part's due is what it should have received less what it has: profit paid ahead of being
earned comes back at settlement (a negative due: the rebate), so the payoff falls by exactly
what each payment pays.

`pay` settles the loan when the amount reaches the payoff (more is unapplied: a credit);
below it, money pays the due instalments oldest first in waterfall order, then the next
instalments in full, profit included, oldest first, so a borrower who pays ahead is never late.

Reduce-principal loans (`Reduce`: conventional reducing loans whose product says so) pay the
due instalments the same way; what is beyond them pays any charge on the instalments not yet
due, then the current period's profit earned to the date, and the rest is principal, put on
the current instalment: the balance falls by it from that day, and the current and later
instalments are re-amortised on it at the loan's rate, on the same due dates
(`schedule.reamortise`): REDUCE_INSTALMENT keeps the count and rounds a new level instalment
like the booked one, REDUCE_TENOR keeps the booked level and the rows after the balance runs
out owe 0; the last row takes what is left. The current instalment's profit becomes what it
earned to the date (paid) plus the rest of its period on the new balance: the product's
profit for the period (its booked (num, den)) in proportion of the period's actual days still
to run, so a prepayment on a due date re-prices the next period exactly as booking would, and
never more than the instalment's profit was. The days already run were accrued actual/365 on
the daily balance, as every payoff is. No profit is ever paid ahead of being earned, so the
balance a period earns on is the principal left, and the payoff right after a prepayment is
that principal; paid parts never exceed the new ones. An instalment's arrears tolerance is
recomputed on what it asks at its due date.
"""

from bisect import bisect_right
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from lending.finance.enums import Part
from lending.finance.kernel import Period, days_period, div_half_up, period_profit, rate_units
from lending.finance.money import to_money, to_paisa
from lending.finance.schedule import reamortise

PARTS = tuple(Part)  # index order in the lists below: late fee, fee, profit, principal
LATE, FEE, PROFIT, PRINCIPAL = range(4)
INDEX = {part: k for k, part in enumerate(PARTS)}


class Reduce(NamedTuple):
    """How a reduce-principal loan re-amortises after a prepayment, in the engine's units."""

    tenor: bool  # REDUCE_TENOR: the booked level, fewer instalments; else the same count
    periods: tuple[Period, ...]  # each instalment's accrual period, as booked
    level: int  # the booked level instalment, paisa
    unit: int  # the instalment's rounding unit, paisa (100 or 1)
    tolerance: tuple[int, Decimal]  # arrears tolerance: paisa, percent


def arrears_tolerance(asks: int, amount: int, percent: Decimal) -> int:
    """How short an instalment asking `asks` paisa may be and not be in arrears: the larger of
    `amount` and `percent` of it, half up (services.booking.tolerance, in paisa)."""
    return max(amount, to_paisa(to_money(asks) * percent / 100))


class Book:
    """The mutable paisa state of one loan; built fresh for each question, never shared."""

    __slots__ = (
        "acc_balance_days",
        "acc_index",
        "acc_mark",
        "closed",
        "due",
        "fixed",
        "islamic",
        "kept_after",
        "left",
        "n",
        "owed",
        "paid",
        "paid_on",
        "profit_after",
        "rate",
        "rebate_pct",
        "reduce",
        "settled_on",
        "start",
        "tolerance",
        "touched",
        "waived",
    )

    def __init__(
        self,
        *,
        start: date,
        annual_rate,
        fixed: bool,
        islamic: bool,
        rebate_pct,
        reduce: "Reduce | None",
        closed: bool,
        accrual: tuple[int, date, int] | None,
    ):
        self.start = start
        self.rate = rate_units(annual_rate)
        self.fixed = fixed  # flat or Murabaha: profit fixed at booking
        self.islamic = islamic
        self.rebate_pct = int(rebate_pct * 100)  # hundredths of a percent
        self.reduce = reduce  # None: money ahead pays the next instalments
        self.n: list[int] = []
        self.due: list[date] = []
        self.owed: list[list[int]] = []  # per instalment, per part (late fee net of waiver)
        self.paid: list[list[int]] = []
        self.waived: list[int] = []  # late fee waived
        self.tolerance: list[int] = []
        self.paid_on: list[date | None] = []
        self.left = 0  # everything charged and not yet paid, in paisa
        # [i]: scheduled profit from index i on, and the part of it never rebated (fixed):
        # made on first use, once every instalment is in (rows are added only while the book
        # is made), and made again when a re-amortisation changes the profit
        self.profit_after: list[int] | None
        self.kept_after: list[int] | None
        self.profit_after = self.kept_after = None
        self.closed = closed
        self.settled_on: date | None = None
        # The period whose accrual is tracked, the date it is folded to and its balance x
        # days so far; none until a payment (`advance` sets all three) or a stored replay.
        self.acc_index, self.acc_mark, self.acc_balance_days = accrual or (None, None, None)
        self.touched: set[int] = set()  # instalments changed since the book was made

    def add(self, n: int, due_date: date, owed, paid, tolerance: int, waived: int, paid_on):
        """Append an instalment (amounts in paisa, in PARTS order)."""
        self.n.append(n)
        self.due.append(due_date)
        self.owed.append(list(owed))
        self.paid.append(list(paid))
        self.waived.append(waived)
        self.tolerance.append(tolerance)
        self.paid_on.append(paid_on)
        self.left += sum(owed) - sum(paid)

    def _suffixes(self) -> None:
        """Scheduled profit of the instalments from index i on, and the part never rebated."""
        profit, kept = [0], [0]
        for owed in reversed(self.owed):
            profit.append(profit[-1] + owed[PROFIT])
            kept.append(kept[-1] + div_half_up(owed[PROFIT] * (10_000 - self.rebate_pct), 10_000))
        self.profit_after, self.kept_after = profit[::-1], kept[::-1]

    # -- time -----------------------------------------------------------------------------

    def current(self, on: date) -> int | None:
        """The index of the first instalment not yet due on `on` (None: all are due)."""
        index = bisect_right(self.due, on)  # due dates ascend
        return index if index < len(self.due) else None

    def opened(self, index: int) -> date:
        """The date the period of instalment `index` starts."""
        return self.due[index - 1] if index else self.start

    def advance(self, on: date) -> None:
        """Move the tracked accrual to the period `on` falls in (events come in date order)."""
        index = self.current(on)
        if index != self.acc_index:
            self.acc_index = index
            self.acc_mark = self.opened(index) if index is not None else on
            self.acc_balance_days = 0

    def _balance(self, index: int) -> int:
        """The balance the current period earns on: principal not yet paid, less profit paid
        ahead of being earned (money the borrower has handed over is not lent any more)."""
        rows = range(index, len(self.n))
        owed = sum(self.owed[i][PRINCIPAL] - self.paid[i][PRINCIPAL] for i in rows)
        if self.reduce is not None:  # profit is only ever paid as earned: none is ahead
            return max(owed, 0)
        return max(owed - sum(self.paid[i][PROFIT] for i in rows), 0)

    def _fold(self, on: date) -> None:
        """Fold the outstanding balance x days up to `on` into the period's accrual."""
        if self.acc_index is not None and on > self.acc_mark:
            self.acc_balance_days += self._balance(self.acc_index) * (on - self.acc_mark).days
            self.acc_mark = on

    # -- what is owed ---------------------------------------------------------------------

    def earned(self, index: int, on: date, current: int | None) -> int:
        """The profit of instalment `index` earned by `on`, in paisa."""
        scheduled = self.owed[index][PROFIT]
        if current is None or index < current:
            return scheduled
        if self.fixed:  # the days run of its period (none yet for a later one), and the
            # share never rebated of the rest
            opened = self.opened(index)
            length = max((self.due[index] - opened).days, 1)
            elapsed = min(max((on - opened).days, 0), length)
            share = div_half_up(scheduled * elapsed, length)
            return share + div_half_up((scheduled - share) * (10_000 - self.rebate_pct), 10_000)
        if index > current:
            return 0
        if self.acc_index == index:
            days = self.acc_balance_days + self._balance(index) * max((on - self.acc_mark).days, 0)
        else:
            days = self._balance(index) * max((on - self.opened(index)).days, 0)
        return min(period_profit(days, self.rate, days_period(1)), scheduled)

    def dues(self, on: date) -> list[list[int]]:
        """Per instalment, the signed paisa per part that settles the loan on `on`."""
        if self.closed:
            return [[0, 0, 0, 0] for _ in self.n]
        current = self.current(on)
        result = []
        for i in range(len(self.n)):
            owed, paid = self.owed[i], self.paid[i]
            row = [owed[k] - paid[k] for k in range(4)]
            row[PROFIT] = self.earned(i, on, current) - paid[PROFIT]
            result.append(row)
        return result

    def payoff(self, on: date) -> int:
        """What settles the loan on `on`, in paisa: the sum of `dues`, without building them."""
        if self.closed:
            return 0
        current = self.current(on)
        if current is None:
            return self.left
        if self.profit_after is None:
            self._suffixes()
        later = self.profit_after[current + 1] - (self.kept_after[current + 1] if self.fixed else 0)
        unearned = self.owed[current][PROFIT] - self.earned(current, on, current)
        return self.left - later - unearned

    def unpaid(self, index: int) -> int:
        """What is left of an instalment's scheduled parts (its late fee aside)."""
        owed, paid = self.owed[index], self.paid[index]
        return sum(owed[k] - paid[k] for k in (FEE, PROFIT, PRINCIPAL))

    def in_arrears(self, index: int) -> bool:
        """Short by more than the tolerance (the nightly SQL's `in_arrears`)."""
        return self.unpaid(index) > self.tolerance[index]

    def overdue(self, on: date) -> tuple[int, int]:
        """Paisa past due on `on` and the days past due of the oldest instalment in arrears."""
        if self.closed:
            return 0, 0
        late = [i for i in range(len(self.n)) if self.due[i] < on and self.in_arrears(i)]
        if not late:
            return 0, 0
        amount = sum(self.unpaid(i) + self.owed[i][LATE] - self.paid[i][LATE] for i in late)
        return amount, (on - self.due[late[0]]).days

    # -- paying ---------------------------------------------------------------------------

    def pay(self, amount: int, on: date, parts, per_part: bool):
        """Apply `amount` paisa paid on `on`; return (lines {index: [4]}, unapplied, closes)."""
        if self.closed:  # nothing to pay: all of it is a credit
            return {}, amount, True
        self.advance(on)
        self._fold(on)
        payoff = self.payoff(on)
        if amount >= payoff:
            lines = {i: row for i, row in enumerate(self.dues(on)) if any(row)}
            for i, row in lines.items():
                self._apply(i, row, on)
            self.closed, self.settled_on = True, on
            for i in range(len(self.n)):
                self.paid_on[i] = self.paid_on[i] or on
            self.touched.update(range(len(self.n)))
            return lines, amount - payoff, True
        lines: dict[int, list[int]] = {}
        left = self._take(lines, self._walk(on, parts, per_part), amount)
        prepaid, current = 0, self.current(on)
        if left and self.reduce is not None:  # below the payoff: an instalment is current
            prepaid, left = self._take(lines, self._ahead(current, on), left), 0
            if prepaid:
                lines.setdefault(current, [0, 0, 0, 0])[PRINCIPAL] += prepaid
        for i, row in lines.items():
            self._apply(i, row, on)
        if prepaid:
            self._reamortise(current, on)
        return lines, left, False

    @staticmethod
    def _take(lines: dict, walk, left: int) -> int:
        """Put up to `left` paisa on each (instalment, part, room) in turn; return the rest."""
        for i, k, room in walk:
            take = min(left, room)
            if take > 0:
                lines.setdefault(i, [0, 0, 0, 0])[k] += take
                left -= take
                if not left:
                    break
        return left

    def _walk(self, on: date, parts, per_part: bool):
        """(instalment, part, unpaid) in waterfall order: due instalments, then the next ones
        in full unless the loan reduces principal (instalments paid in full passed over)."""
        current = self.current(on)
        split = len(self.n) if current is None else current
        order = [INDEX[p] for p in parts]
        owed, paid = self.owed, self.paid
        open_ = [i for i in range(len(self.n)) if owed[i] != paid[i]]
        groups = [[i for i in open_ if i < split]]
        if self.reduce is None:
            groups.append([i for i in open_ if i >= split])
        for group in groups:
            if per_part:
                pairs = ((i, k) for k in order for i in group)
            else:
                pairs = ((i, k) for i in group for k in order)
            yield from ((i, k, owed[i][k] - paid[i][k]) for i, k in pairs)

    def _ahead(self, current: int, on: date):
        """Reduce modes, past the due instalments: charges on those not yet due, then the
        current period's profit earned to `on` (what is left after them is principal)."""
        owed, paid = self.owed, self.paid
        for i in range(current, len(self.n)):
            yield from ((i, k, owed[i][k] - paid[i][k]) for k in (LATE, FEE))
        yield current, PROFIT, self.earned(current, on, current) - paid[current][PROFIT]

    def _reamortise(self, index: int, on: date) -> None:
        """Re-amortise instalments `index`.. on the principal left by a prepayment on `on`."""
        tenor, periods, level, unit, _ = self.reduce
        owed, paid, rows = self.owed, self.paid, range(index, len(self.n))
        balance = sum(owed[i][PRINCIPAL] - paid[i][PRINCIPAL] for i in rows)
        # The rest of the current period: its booked profit rate, for the share of its actual
        # days still to run, on the new balance; never more than the instalment asked before.
        opened, due = self.opened(index), self.due[index]
        length = max((due - opened).days, 1)
        still = min(max((due - on).days, 0), length)
        num, den = periods[index]
        broken = periods[index] if still == length else (num * still, den * length)
        rest = period_profit(balance, self.rate, broken)
        rest = min(rest, max(owed[index][PROFIT] - paid[index][PROFIT], 0))
        kept = level if tenor else None
        new = reamortise(balance, rest, self.rate, (broken, *periods[index + 1 :]), kept, unit)
        for k, i in enumerate(rows):
            self._reset(i, new.principal[k], new.profit[k], on)
        self.profit_after = self.kept_after = None

    def _reset(self, index: int, principal: int, profit: int, on: date) -> None:
        """Make an instalment ask `principal` and `profit` beyond what it has been paid."""
        owed, paid = self.owed[index], self.paid[index]
        new = [owed[LATE], owed[FEE], paid[PROFIT] + profit, paid[PRINCIPAL] + principal]
        self.left += sum(new) - sum(owed)
        self.owed[index] = new
        self.tolerance[index] = arrears_tolerance(self.unpaid(index), *self.reduce.tolerance)
        settled = all(paid[k] >= new[k] for k in range(4))
        self.paid_on[index] = (self.paid_on[index] or on) if settled else None
        self.touched.add(index)

    def _apply(self, index: int, row: list[int], on: date) -> None:
        paid = self.paid[index]
        for k in range(4):
            paid[k] += row[k]
        self.left -= sum(row)
        self.touched.add(index)
        if self.paid_on[index] is None and all(paid[k] >= self.owed[index][k] for k in range(4)):
            self.paid_on[index] = on

    def late_fee_charged(self, index: int) -> bool:
        """Whether the instalment has had its (one) late fee, paid, waived or not."""
        return bool(self.owed[index][LATE] or self.waived[index] or self.paid[index][LATE])

    def charge_late_fee(self, index: int, amount: int) -> None:
        """Charge a late fee on an instalment."""
        self.owed[index][LATE] += amount
        self.left += amount
        self.touched.add(index)
        self.paid_on[index] = None if amount else self.paid_on[index]

    def waive_late_fee(self, index: int, amount: int, on: date) -> int:
        """Waive up to `amount` of the unpaid late fee; return what was waived."""
        take = max(min(amount, self.owed[index][LATE] - self.paid[index][LATE]), 0)
        self.owed[index][LATE] -= take
        self.left -= take
        self.waived[index] += take
        self._apply(index, [0, 0, 0, 0], on)
        return take
