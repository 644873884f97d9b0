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
"""

from bisect import bisect_right
from datetime import date

from lending.finance.enums import Part
from lending.finance.kernel import days_period, div_half_up, period_profit, rate_units

PARTS = tuple(Part)  # index order in the lists below: late fee, fee, profit, principal
LATE, FEE, PROFIT, PRINCIPAL = range(4)
INDEX = {part: k for k, part in enumerate(PARTS)}


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
        "settled_on",
        "start",
        "tolerance",
        "waived",
    )

    def __init__(self, *, start: date, annual_rate, fixed: bool, islamic: bool, rebate_pct):
        self.start = start
        self.rate = rate_units(annual_rate)
        self.fixed = fixed  # flat or Murabaha: profit fixed at booking
        self.islamic = islamic
        self.rebate_pct = int(rebate_pct * 100)  # hundredths of a percent
        self.n: list[int] = []
        self.due: list[date] = []
        self.owed: list[
            list[int]
        ] = []  # per instalment, per part: charged (late fee net of waiver)
        self.paid: list[list[int]] = []
        self.waived: list[int] = []  # late fee waived
        self.tolerance: list[int] = []
        self.paid_on: list[date | None] = []
        self.left = 0  # everything charged and not yet paid, in paisa
        self.profit_after: list[int] | None = None  # [i]: scheduled profit from index i on
        self.kept_after: list[int] | None = None  # [i]: the part of it never rebated (fixed)
        self.closed = False
        self.settled_on: date | None = None
        self.acc_index: int | None = None  # the period whose accrual is tracked
        self.acc_mark: date = start
        self.acc_balance_days = 0

    def add(self, n: int, due_date: date, owed: list[int], paid: list[int], tolerance=0):
        """Append an instalment (amounts in paisa, in PARTS order)."""
        self.n.append(n)
        self.due.append(due_date)
        self.owed.append(list(owed))
        self.paid.append(list(paid))
        self.waived.append(0)
        self.tolerance.append(tolerance)
        self.paid_on.append(None)
        self.left += sum(owed) - sum(paid)
        self.profit_after = self.kept_after = None  # the suffix sums are made on first use

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
        if self.fixed:
            kept = scheduled * (10_000 - self.rebate_pct)  # the share never rebated
            if index > current:
                return div_half_up(kept, 10_000)
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

    def pay(self, amount: int, on: date, parts=PARTS, per_part: bool = False):
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
            return lines, amount - payoff, True
        lines: dict[int, list[int]] = {}
        left = amount
        for i, k in self._walk(on, parts, per_part):
            take = min(left, self.owed[i][k] - self.paid[i][k])
            if take > 0:
                lines.setdefault(i, [0, 0, 0, 0])[k] += take
                left -= take
                if not left:
                    break
        for i, row in lines.items():
            self._apply(i, row, on)
        return lines, left, False

    def _walk(self, on: date, parts, per_part: bool):
        """(instalment, part) in waterfall order: due instalments, then the next ones in full
        (instalments paid in full are passed over)."""
        current = self.current(on)
        split = len(self.n) if current is None else current
        order = [INDEX[p] for p in parts]
        owed, paid = self.owed, self.paid
        open_ = [i for i in range(len(self.n)) if owed[i] != paid[i]]
        for group in ([i for i in open_ if i < split], [i for i in open_ if i >= split]):
            if per_part:
                yield from ((i, k) for k in order for i in group)
            else:
                yield from ((i, k) for i in group for k in order)

    def _apply(self, index: int, row: list[int], on: date) -> None:
        paid = self.paid[index]
        for k in range(4):
            paid[k] += row[k]
        self.left -= sum(row)
        if self.paid_on[index] is None and all(paid[k] >= self.owed[index][k] for k in range(4)):
            self.paid_on[index] = on

    def charge_late_fee(self, index: int, amount: int) -> None:
        """Charge a late fee on an instalment."""
        self.owed[index][LATE] += amount
        self.left += amount
        self.paid_on[index] = None if amount else self.paid_on[index]

    def waive_late_fee(self, index: int, amount: int, on: date) -> int:
        """Waive up to `amount` of the unpaid late fee; return what was waived."""
        take = max(min(amount, self.owed[index][LATE] - self.paid[index][LATE]), 0)
        self.owed[index][LATE] -= take
        self.left -= take
        self.waived[index] += take
        self._apply(index, [0, 0, 0, 0], on)
        return take
