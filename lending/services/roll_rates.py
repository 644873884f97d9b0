"""Roll rates between buckets from one month end to the next, from the nightly snapshots.

The nightly ageing writes a `loan_snapshots` row per active loan on each month's last day.
A loan in a snapshot but not in the next one has left the active book (paid off, settled,
written off or cancelled). Months without snapshots are reported as missing, not guessed.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from lending.models import LoanSnapshot
from lending.models.enums import Bucket
from lending.models.types import Money
from lending.services.ratios import percent

LEFT = "left"  # left the active book before the next month end
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Transition:
    """Loans in bucket `origin` at one month end and where they were at the next."""

    origin: str
    to: dict[str, int]  # bucket (or LEFT) -> loans
    outstanding: Decimal  # at the first month end

    @property
    def loans(self) -> int:
        return sum(self.to.values())

    def pct(self, to: str) -> Decimal | None:
        return percent(self.to.get(to, 0), self.loans)

    @property
    def forward(self) -> str | None:
        """The next worse bucket (None from 90+)."""
        order = [str(b) for b in Bucket]
        index = order.index(self.origin)
        return order[index + 1] if index + 1 < len(order) else None


@dataclass(frozen=True)
class Period:
    """One month end to the next; `rows` per origin bucket, empty if a snapshot is missing."""

    start: date
    end: date
    rows: dict[str, Transition] = field(default_factory=dict)
    missing: bool = False


@dataclass(frozen=True)
class RollRates:
    periods: list[Period]  # oldest first

    @property
    def latest(self) -> Period | None:
        """The most recent period that has snapshots at both ends."""
        return next((p for p in reversed(self.periods) if not p.missing), None)


def month_ends(as_of: date, count: int) -> list[date]:
    """The last `count` month ends on or before as_of, oldest first."""
    year, month = as_of.year, as_of.month
    ends = []
    while len(ends) < count:
        end = date(year, month, calendar.monthrange(year, month)[1])
        if end <= as_of:
            ends.append(end)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(ends))


def roll_rates(session: Session, as_of: date, months: int = 12) -> RollRates:
    """Transitions between consecutive month ends for the last `months` periods."""
    ends = month_ends(as_of, months + 1)
    present = set(
        session.exec(select(LoanSnapshot.as_of).where(LoanSnapshot.as_of.in_(ends)).distinct())
    )
    counted = _counts(session, ends)
    periods = []
    for start, end in zip(ends, ends[1:], strict=False):
        if start not in present or end not in present:
            periods.append(Period(start, end, missing=True))
        else:
            periods.append(Period(start, end, _transitions(counted.get(start, []))))
    return RollRates(periods)


def _counts(session: Session, ends: list[date]) -> dict[date, list]:
    """(from bucket, to bucket or None, loans, outstanding) per first month end, in SQL."""
    first, second = aliased(LoanSnapshot), aliased(LoanSnapshot)
    following = case(
        *[(first.as_of == a, literal(b)) for a, b in zip(ends, ends[1:], strict=False)]
    )
    rows = session.exec(
        select(
            first.as_of,
            first.bucket,
            second.bucket,
            func.count(),
            type_coerce(func.sum(first.outstanding_principal), Money()),
        )
        .outerjoin(second, and_(second.loan_id == first.loan_id, second.as_of == following))
        .where(first.as_of.in_(ends[:-1]))
        .group_by(first.as_of, first.bucket, second.bucket)
    ).all()
    found: dict[date, list] = {}
    for start, origin, to, loans, amount in rows:
        found.setdefault(start, []).append((str(origin), str(to) if to else LEFT, loans, amount))
    return found


def _transitions(rows: list) -> dict[str, Transition]:
    grouped: dict[str, dict] = {}
    for origin, to, loans, amount in rows:
        entry = grouped.setdefault(origin, {"to": {}, "amount": ZERO})
        entry["to"][to] = entry["to"].get(to, 0) + loans
        entry["amount"] += amount or ZERO
    return {
        str(b): Transition(str(b), grouped[str(b)]["to"], grouped[str(b)]["amount"])
        for b in Bucket
        if str(b) in grouped
    }
