"""A loan's money state as a pure function of its booked terms and its dated transactions.

`replay(terms, transactions, through)` starts from the booked schedule and applies the
transactions in value-date order (then in the order they were recorded), with every late fee
the product's rule charges on the way: an instalment still in arrears (short by more than its
tolerance) at the end of its grace days is charged on the day after them, on what is then
unpaid; one charge per instalment. A reversed payment drops out of the history, so a reversal
or a payment dated before others (a backdated receipt, a late settlement file) re-allocates
everything after it and re-derives the fees: a fee whose instalment turns out to have been paid
in time is simply not in the new result. A prepayment on a loan that reduces principal
re-amortises its schedule inside the engine (`lending.finance.book`), so the state says the
new amounts, and since every replay starts from the booked schedule, one without that
prepayment (reversed, or not yet posted) gives the booked amounts back. Nothing here is
stored: services compare the result with what they stored and append the difference
(Fineract's reverse-replay, done as one function that tests can run from scratch).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lending.finance.allocation import (
    AllocationLine,
    LoanState,
    Order,
    Waterfall,
    book_of,
    line_of,
    state_of,
)
from lending.finance.book import Book
from lending.finance.enums import TxnKind
from lending.finance.errors import FinanceError
from lending.finance.late_fees import LateFeeRule, chargeable_from, late_fee
from lending.finance.money import ZERO, to_money, to_paisa

__all__ = ["FeeCharge", "Replay", "ReplayError", "ServicingTerms", "Txn", "replay", "resume"]

INPUTS = frozenset(
    {TxnKind.DISBURSEMENT, TxnKind.PAYMENT, TxnKind.REVERSAL, TxnKind.WAIVER, TxnKind.REFUND}
)


class ReplayError(FinanceError):
    """A history that cannot be replayed (a refund of more than the credit, an unknown kind)."""


@dataclass(frozen=True)
class Txn:
    """One recorded transaction, as the replay reads it."""

    id: int
    kind: TxnKind
    value_date: date
    amount: Decimal = ZERO
    instalment_n: int | None = None  # a waiver's instalment
    reverses: int | None = None  # a reversal's payment transaction


@dataclass(frozen=True)
class ServicingTerms:
    """What a loan was booked with: the unpaid schedule as booked (tolerances in it, and what
    re-amortising needs if it reduces principal) and its rules."""

    state: LoanState
    late_fee: LateFeeRule = field(default_factory=LateFeeRule)
    waterfall: Waterfall = field(default_factory=Waterfall)


@dataclass(frozen=True)
class FeeCharge:
    """A late fee the rule charges: on instalment n, on a date, charity if Islamic."""

    n: int
    on: date
    amount: Decimal
    charity: bool


@dataclass(frozen=True)
class Replay:
    """A loan's money state through a date, and how each transaction was applied."""

    through: date
    state: LoanState  # what the stored instalments must say
    allocations: Mapping[int, tuple[AllocationLine, ...]]  # payment transaction id -> lines
    unapplied: Mapping[int, Decimal]  # payment transaction id -> what settled nothing
    late_fees: tuple[FeeCharge, ...]
    waived: Mapping[int, Decimal]  # waiver transaction id -> late fee actually waived
    credit_balance: Decimal
    settled_on: date | None
    days_past_due: int
    overdue: Decimal
    reversed: frozenset[int]  # payment transaction ids that no longer count


def replay(terms: ServicingTerms, transactions: Iterable[Txn], through: date) -> Replay:
    """Return the state through `through` of a loan with these terms and transactions."""
    txns = [t for t in transactions if t.kind in INPUTS]
    reversed_ids = frozenset(t.reverses for t in txns if t.kind is TxnKind.REVERSAL)
    events = sorted(
        (t for t in txns if t.kind is not TxnKind.REVERSAL and t.id not in reversed_ids),
        key=lambda t: (t.value_date, t.id),
    )
    run = _Run(terms, book_of(terms.state))
    return run.play(events, through, terms.state, reversed_ids)


def resume(
    terms: ServicingTerms,
    state: LoanState,
    credit: Decimal,
    transactions: Iterable[Txn],
    since: date,
    through: date,
) -> Replay:
    """Apply new transactions, each dated on or after `since`, to the state a replay left a
    loan in when its latest transaction was dated `since` (and `credit` its credit balance).

    Equal to the full replay, which would reach that state before the new transactions: fee
    days up to `since` are decided (charged or not), and every later one is met by the state
    as it stands. The result's allocations, unapplied parts and late fees are the new ones.
    """
    events = sorted(
        (t for t in transactions if t.kind in INPUTS), key=lambda t: (t.value_date, t.id)
    )
    if any(t.value_date < since or t.kind is TxnKind.REVERSAL for t in events):
        raise ReplayError("only payments dated on or after the latest transaction resume")
    run = _Run(terms, book_of(state), after=since)
    run.credit = to_paisa(credit)
    return run.play(events, through, state, frozenset())


class _Run:
    """One replay in progress."""

    def __init__(self, terms: ServicingTerms, book: Book, after: date | None = None):
        self.terms, self.book = terms, book
        self.allocations: dict[int, tuple[AllocationLine, ...]] = {}
        self.unapplied: dict[int, Decimal] = {}
        self.waived: dict[int, Decimal] = {}
        self.fees: list[FeeCharge] = []
        self.credit = 0
        rule = terms.late_fee
        # Fee days in date order: (the first day an unpaid instalment is charged, index);
        # resuming, only those after the latest transaction on instalments not yet charged.
        self.pending = sorted(
            (chargeable_from(rule, due), index)
            for index, due in enumerate(book.due)
            if after is None
            or (chargeable_from(rule, due) > after and not book.late_fee_charged(index))
        )

    def play(self, events, through: date, template: LoanState, reversed_ids) -> Replay:
        """Apply the events in order, with the fee days before each, and say where it ends."""
        for txn in events:
            self.fees_until(txn.value_date, through)
            self.apply(txn)
        self.fees_until(through, through)
        amount, days = self.book.overdue(through)
        return Replay(
            through=through,
            state=state_of(self.book, template),
            allocations=self.allocations,
            unapplied=self.unapplied,
            late_fees=tuple(self.fees),
            waived=self.waived,
            credit_balance=to_money(self.credit),
            settled_on=self.book.settled_on,
            days_past_due=days,
            overdue=to_money(amount),
            reversed=reversed_ids,
        )

    def fees_until(self, day: date, through: date) -> None:
        """Charge the late fees of every fee day up to `day` (inclusive), not past `through`."""
        book, rule = self.book, self.terms.late_fee
        while self.pending and self.pending[0][0] <= min(day, through):
            on, index = self.pending.pop(0)
            if book.closed or not book.in_arrears(index):
                continue
            unpaid = to_money(book.unpaid(index))
            charge = late_fee(rule, unpaid, book.due[index], on, book.islamic)
            if charge.amount > 0:
                book.charge_late_fee(index, to_paisa(charge.amount))
                self.fees.append(FeeCharge(book.n[index], on, charge.amount, charge.charity))

    def apply(self, txn: Txn) -> None:
        book = self.book
        if txn.kind is TxnKind.DISBURSEMENT:
            return  # the booked schedule is the disbursement
        if txn.kind is TxnKind.PAYMENT:
            waterfall = self.terms.waterfall
            lines, left, _ = book.pay(
                to_paisa(txn.amount),
                txn.value_date,
                waterfall.parts,
                waterfall.order is Order.PER_PART,
            )
            self.allocations[txn.id] = tuple(
                line_of(book.n[i], row) for i, row in sorted(lines.items())
            )
            self.unapplied[txn.id] = to_money(left)
            self.credit += left
        elif txn.kind is TxnKind.WAIVER:
            index = book.n.index(txn.instalment_n)
            taken = book.waive_late_fee(index, to_paisa(txn.amount), txn.value_date)
            self.waived[txn.id] = to_money(taken)
        elif txn.kind is TxnKind.REFUND:
            self.credit -= to_paisa(txn.amount)
            if self.credit < 0:
                raise ReplayError("a refund of more than the loan's credit balance")
        else:  # pragma: no cover - INPUTS names every kind handled above
            raise ReplayError(f"cannot replay a {txn.kind} transaction")
