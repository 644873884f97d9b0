"""The batch engine: schedules of many loans at once, in int64 paisa, never float.

Loans are grouped by method, rounding unit and the sequence of accrual periods (all
regular 30/360 loans of one frequency accrue alike whatever their dates) and sorted by
tenor, longest first, so that at period k the loans still running are a prefix of their
group: every step is a handful of whole-array integer operations, no masks. The rounding
rules are the one-loan engine's, taken from lending.finance.kernel, so every principal,
profit, total and balance equals lending.finance.schedule.build_schedule's to the paisa
(tested). Due dates are computed once per distinct calendar.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import pairwise

import numpy as np

from lending.finance.batch_steps import RATE_BITS, Group, Part, run_group
from lending.finance.enums import Method
from lending.finance.errors import TermsError
from lending.finance.kernel import MAX_RATE_UNITS
from lending.finance.plan import DateKey, make_plan
from lending.finance.schedule import date_key
from lending.finance.terms import MAX_PRINCIPAL, MAX_TENOR, LoanTerms

METHODS = tuple(Method)  # method codes are indexes into this tuple
# Principal plus a fee below the principal: 31 bits, so financed << RATE_BITS | rate (20 bits)
# is still a non-negative int64 (tested).
_MAX_FINANCED = int(MAX_PRINCIPAL) * 100 * 2
_SPAN = MAX_TENOR + 1


@dataclass(frozen=True, eq=False)
class BatchTerms:
    """Column-wise terms of many loans (int64 columns); amounts in paisa."""

    financed: np.ndarray  # principal plus any financed fee, paisa
    rate_units: np.ndarray  # annual rate in rate units (kernel.rate_units: 9.4822% -> 94822)
    tenor: np.ndarray
    method: np.ndarray  # index into METHODS
    unit: np.ndarray  # instalment rounding unit in paisa: 100 (rupee) or 1
    calendar: np.ndarray  # index into calendars
    calendars: tuple[DateKey, ...]

    def __post_init__(self) -> None:
        errors = _check_columns(self)
        if errors:
            raise TermsError(errors)

    @classmethod
    def from_terms(cls, terms: Sequence[LoanTerms]) -> "BatchTerms":
        """Return the columns of already validated LoanTerms."""
        keys: dict[DateKey, int] = {}
        calendar = [keys.setdefault(date_key(t), len(keys)) for t in terms]

        def column(values) -> np.ndarray:
            return np.fromiter(values, dtype=np.int64, count=len(terms))

        return cls(
            column(t.financed_paisa for t in terms),
            column(t.rate_units for t in terms),
            column(t.tenor for t in terms),
            column(METHODS.index(t.method) for t in terms),
            column(t.unit_paisa for t in terms),
            column(calendar),
            tuple(keys),
        )


def _check_columns(terms: BatchTerms) -> dict[str, list[str]]:
    size = len(terms.financed)
    bounds = {
        "financed": (1, _MAX_FINANCED),
        "rate_units": (0, MAX_RATE_UNITS),
        "tenor": (1, MAX_TENOR),
        "method": (0, len(METHODS) - 1),
        "unit": (1, 100),
        "calendar": (0, len(terms.calendars) - 1),
    }
    errors: dict[str, list[str]] = {}
    for name, (low, high) in bounds.items():
        column = getattr(terms, name)
        if (
            not isinstance(column, np.ndarray)
            or column.shape != (size,)
            or column.dtype != np.int64
        ):
            errors[name] = [f"must be an int64 column of {size} values"]
        elif size and (column.min() < low or column.max() > high):
            errors[name] = [f"every value must be from {low} to {high}"]
    if "unit" not in errors and np.count_nonzero((terms.unit != 1) & (terms.unit != 100)):
        errors["unit"] = ["every value must be 1 or 100"]
    return errors


@dataclass(frozen=True, eq=False)
class BatchSchedules:
    """Schedules of a batch; ask for loan i's columns, they are the one-loan engine's."""

    terms: BatchTerms
    order: np.ndarray  # loan indexes, group by group, longest tenor first
    groups: tuple[Group, ...]

    @cached_property
    def _position(self) -> np.ndarray:
        position = np.empty_like(self.order)
        position[self.order] = np.arange(len(self.order))
        return position

    @cached_property
    def _starts(self) -> np.ndarray:
        return np.array([group.start for group in self.groups], dtype=np.int64)

    def _locate(self, i: int) -> tuple[Group, int]:
        position = int(self._position[i])
        g = int(np.searchsorted(self._starts, position, side="right")) - 1
        return self.groups[g], position - self.groups[g].start

    def columns(self, i: int) -> tuple[list[int], list[int]]:
        """Return loan i's principal and profit parts, in paisa."""
        group, row = self._locate(i)
        tenor = int(self.terms.tenor[i])
        return (
            [int(group.principal[k][row]) for k in range(tenor)],
            [int(group.profit[k][row]) for k in range(tenor)],
        )

    def rows(self, i: int) -> list[tuple[int, date, int, int, int, int]]:
        """Return loan i's rows as (n, due_date, principal, profit, total, balance_after)."""
        principal, profit = self.columns(i)
        due = self.due_dates(i)
        balance, rows = int(self.terms.financed[i]), []
        for k, (part, charge) in enumerate(zip(principal, profit, strict=True)):
            balance -= part
            rows.append((k + 1, due[k], part, charge, part + charge, balance))
        return rows

    def due_dates(self, i: int) -> tuple[date, ...]:
        """Return loan i's due dates."""
        key = self.terms.calendars[self.terms.calendar[i]]
        return make_plan(key, int(self.terms.tenor[i])).due

    def level(self, i: int) -> int:
        """Return loan i's level instalment in paisa (first principal part: equal_principal)."""
        group, row = self._locate(i)
        return int(group.level[row])


def build_batch(terms: BatchTerms) -> BatchSchedules:
    """Return the schedules of every loan in terms."""
    order, parts = _layout(terms)
    # One gather of one packed column: random access costs a cache miss per column.
    packed = ((terms.financed << RATE_BITS) | terms.rate_units)[order]
    groups = []
    for part in parts:
        stop = part.start + int(part.counts.sum())
        groups.append(run_group(part, packed[part.start : stop]))
    return BatchSchedules(terms, order, tuple(groups))


def _signatures(terms: BatchTerms) -> tuple[np.ndarray, list[DateKey]]:
    """Return each calendar's accrual signature and one calendar per signature."""
    longest = int(terms.tenor.max()) if len(terms.tenor) else 1
    signatures: dict[tuple, int] = {}
    representative: list[DateKey] = []
    of_calendar = np.empty(len(terms.calendars), dtype=np.int64)
    for c, key in enumerate(terms.calendars):
        # Calendars whose periods accrue alike share a group whatever their dates: every
        # regular 30/360 one of a frequency, and e.g. every weekly actual/365 one.
        plan = make_plan(key, longest)
        signature = (key.frequency, plan.regular, plan.periods)
        if signature not in signatures:
            signatures[signature] = len(signatures)
            representative.append(key)
        of_calendar[c] = signatures[signature]
    return of_calendar, representative


def _layout(terms: BatchTerms) -> tuple[np.ndarray, list[Part]]:
    """Return the loan order (group, then tenor descending) and the groups in it."""
    of_calendar, representative = _signatures(terms)
    signature = terms.method * len(representative) + of_calendar[terms.calendar]
    group = signature * 2 + (terms.unit == 100)
    key = group * _SPAN + (MAX_TENOR - terms.tenor)
    sizes = np.bincount(key)  # the loans of every key below the largest (none: empty)
    # Sorted as the smallest unsigned type that holds every key (each is below len(sizes)):
    # a stable sort of 16-bit keys is a radix sort, several times an int64 sort's speed.
    order = np.argsort(key.astype(np.min_scalar_type(len(sizes))), kind="stable")
    return order, _parts(sizes, representative)


def _parts(sizes: np.ndarray, representative: list[DateKey]) -> list[Part]:
    """Return the groups of the sorted order from the loan count of every sort key."""
    present = np.flatnonzero(sizes)
    if not len(present):
        return []
    group_of = present // _SPAN
    edges = [0, *(np.flatnonzero(np.diff(group_of)) + 1).tolist(), len(present)]
    parts, start = [], 0
    for lo, hi in pairwise(edges):
        signature, rupee = divmod(int(group_of[lo]), 2)
        method, signature = divmod(signature, len(representative))
        key = representative[signature]
        tenors = MAX_TENOR - present[lo:hi] % _SPAN  # descending: the sort key is reversed
        counts = sizes[present[lo:hi]]
        plan = make_plan(key, int(tenors[0]))
        unit = 100 if rupee else 1
        parts.append(
            Part(start, METHODS[method], unit, plan, key.frequency.per_year, tenors, counts)
        )
        start += int(counts.sum())
    return parts
