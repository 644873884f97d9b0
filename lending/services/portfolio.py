"""The portfolio report: buckets, PAR, monthly disbursements and collections, incentive share.

Every figure is an aggregate the database computes (GROUP BY, SUM, COUNT); no loan is loaded.
Buckets and days past due are the ones the nightly ageing wrote on the loans.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, literal, type_coerce
from sqlmodel import Session, select

from lending import regulation
from lending.models import Instalment, JobRun, Loan, LoanIncentive, Payment
from lending.models.enums import Bucket, Classification, JobStatus, LoanStatus, PaymentStatus
from lending.models.types import Money
from lending.services.ratios import percent
from lending.services.roll_rates import RollRates, roll_rates

ZERO = Decimal("0.00")
PAR_BUCKETS = {
    30: (Bucket.DPD_31_60, Bucket.DPD_61_90, Bucket.DPD_90_PLUS),  # more than 30 days
    90: (Bucket.DPD_90_PLUS,),  # more than 90 days
}


def money_sum(expression):
    """SUM of a money expression, 0 when empty, read back as Decimal on both databases."""
    return type_coerce(func.coalesce(func.sum(expression), 0), Money())


@dataclass(frozen=True)
class BucketLine:
    bucket: Bucket
    loans: int
    outstanding: Decimal


@dataclass(frozen=True)
class ClassLine:
    """Active loans of a prudential class, their principal and the provision it requires."""

    classification: Classification
    loans: int
    outstanding: Decimal
    provision_pct: Decimal
    provision: Decimal


@dataclass(frozen=True)
class MonthLine:
    month: str  # YYYY-MM
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Share:
    """Incentive-tagged loans against all loans booked, by count and amount financed."""

    loans: int
    tagged_loans: int
    amount: Decimal
    tagged_amount: Decimal

    @property
    def count_pct(self) -> Decimal | None:
        return percent(self.tagged_loans, self.loans)

    @property
    def amount_pct(self) -> Decimal | None:
        return percent(self.tagged_amount, self.amount)


@dataclass(frozen=True)
class Portfolio:
    """The whole report for one business date."""

    as_of: date
    aged_on: date | None  # the latest ageing of the active book
    not_aged: int  # active loans the nightly job has not aged for `as_of`
    buckets: list[BucketLine]
    classes: list[ClassLine]  # by the regulator profile's classes, highest DPD last
    profile: str  # the regulator profile's code
    disbursements: list[MonthLine]
    collections: list[MonthLine]
    incentives: Share
    roll: RollRates

    @property
    def loans(self) -> int:
        return sum(line.loans for line in self.buckets)

    @property
    def outstanding(self) -> Decimal:
        return sum((line.outstanding for line in self.buckets), ZERO)

    def par_amount(self, days: int) -> Decimal:
        """Outstanding principal of the loans more than `days` past due."""
        return sum((x.outstanding for x in self.buckets if x.bucket in PAR_BUCKETS[days]), ZERO)

    def par(self, days: int) -> Decimal | None:
        """PAR30 / PAR90 in percent of the outstanding principal."""
        return percent(self.par_amount(days), self.outstanding)


def portfolio(session: Session, as_of: date, timezone: str) -> Portfolio:
    """Compute the report for `as_of` (loans booked up to that day)."""
    aged_on, not_aged = _ageing(session, as_of)
    months = month_windows(as_of)
    owed = _owed(session, as_of)
    return Portfolio(
        as_of=as_of,
        aged_on=aged_on,
        not_aged=not_aged,
        buckets=bucket_lines(owed),
        classes=class_lines(owed),
        profile=regulation.active().code,
        disbursements=disbursements(session, months, as_of),
        collections=collections(session, months, as_of, timezone),
        incentives=incentive_share(session, as_of),
        roll=roll_rates(session, as_of),
    )


def _active(as_of: date):
    return (Loan.status == LoanStatus.ACTIVE) & (Loan.disbursed_on <= as_of)


AGEING_JOBS = ("nightly.ageing", "nightly.replay.ageing")


def _ageing(session: Session, as_of: date) -> tuple[date | None, int]:
    """The last date the night aged the book (up to `as_of`), and how many active loans it
    has not aged for `as_of`: none once it ran for that date (a night ages the whole book;
    it rewrites only the loans whose days past due change), else every one of them."""
    aged_on = session.exec(
        select(func.max(JobRun.as_of)).where(
            JobRun.job.in_(AGEING_JOBS),
            JobRun.status == JobStatus.SUCCEEDED,
            JobRun.as_of <= as_of,
        )
    ).one()
    if aged_on is None or aged_on >= as_of:
        return aged_on, 0
    active = session.exec(select(func.count()).select_from(Loan).where(_active(as_of))).one()
    return aged_on, active


def _owed(session: Session, as_of: date) -> list[tuple[Bucket, Classification, int, Decimal]]:
    """Active loans and their outstanding principal by bucket and class, in one read."""
    owed = Instalment.principal - Instalment.paid_principal
    rows = session.exec(
        select(
            Loan.bucket, Loan.classification, func.count(func.distinct(Loan.id)), money_sum(owed)
        )
        .outerjoin(Instalment, Instalment.loan_id == Loan.id)
        .where(_active(as_of))
        .group_by(Loan.bucket, Loan.classification)
    ).all()
    return [(Bucket(b), Classification(k), n, amount) for b, k, n, amount in rows]


def bucket_lines(owed) -> list[BucketLine]:
    """Active loans and their outstanding principal per bucket, every bucket listed."""
    found: dict[Bucket, tuple[int, Decimal]] = {}
    for bucket, _, loans, amount in owed:
        n, total = found.get(bucket, (0, ZERO))
        found[bucket] = (n + loans, total + amount)
    return [BucketLine(b, *found.get(b, (0, ZERO))) for b in Bucket]


def class_lines(owed) -> list[ClassLine]:
    """Active loans, their outstanding principal and the provision required, per class of
    the regulator profile (every class listed, lowest first)."""
    found: dict[Classification, tuple[int, Decimal]] = {}
    for _, klass, loans, amount in owed:
        n, total = found.get(klass, (0, ZERO))
        found[klass] = (n + loans, total + amount)
    profile = regulation.active()
    lines = []
    for band in reversed(profile.bands):
        loans, amount = found.get(band.klass, (0, ZERO))
        pct = profile.provision_pct(band.klass)
        provision = (amount * pct / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        lines.append(ClassLine(band.klass, loans, amount, pct, provision))
    return lines


def month_windows(as_of: date, count: int = 12) -> list[tuple[date, date]]:
    """The first days of the last `count` months up to as_of's, each with the next month's."""
    starts = []
    year, month = as_of.year, as_of.month
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    starts.reverse()
    return [(s, date(s.year + s.month // 12, s.month % 12 + 1, 1)) for s in starts]


def _by_month(session: Session, bounds: list, moment, amount, where) -> dict[int, tuple]:
    """COUNT and SUM per month window; `bounds` are the windows' ends, in order."""
    label = case(*[(moment < end, literal(i)) for i, end in enumerate(bounds)], else_=literal(-1))
    inner = select(label.label("month"), amount.label("amount")).where(where).subquery()
    rows = session.exec(
        select(inner.c.month, func.count(), money_sum(inner.c.amount)).group_by(inner.c.month)
    ).all()
    return {month: (n, total) for month, n, total in rows}


def disbursements(session: Session, months, as_of: date) -> list[MonthLine]:
    """Loans booked and amount financed per month (cancelled loans left out)."""
    where = (
        (Loan.disbursed_on >= months[0][0])
        & (Loan.disbursed_on <= as_of)
        & (Loan.status != LoanStatus.CANCELLED)
    )
    found = _by_month(session, [end for _, end in months], Loan.disbursed_on, Loan.principal, where)
    return [_line(start, found.get(i)) for i, (start, _) in enumerate(months)]


def collections(session: Session, months, as_of: date, timezone: str) -> list[MonthLine]:
    """Payments posted and not reversed, per month of the business time zone."""
    zone = ZoneInfo(timezone)

    def instant(day: date) -> datetime:
        return datetime.combine(day, time(0), zone)

    ends = [instant(min(end, as_of + timedelta(days=1))) for _, end in months]
    where = (
        (Payment.paid_at >= instant(months[0][0]))
        & (Payment.paid_at < ends[-1])
        & (Payment.status == PaymentStatus.POSTED)
    )
    found = _by_month(session, ends, Payment.paid_at, Payment.amount, where)
    return [_line(start, found.get(i)) for i, (start, _) in enumerate(months)]


def _line(start: date, found) -> MonthLine:
    count, amount = found or (0, ZERO)
    return MonthLine(start.strftime("%Y-%m"), count, amount)


def incentive_share(session: Session, as_of: date) -> Share:
    """Loans booked up to as_of (not cancelled) with an incentive tag, against all of them."""
    tagged = exists().where(LoanIncentive.loan_id == Loan.id)
    loans, amount, tagged_loans, tagged_amount = session.exec(
        select(
            func.count(),
            money_sum(Loan.principal),
            func.count().filter(tagged),
            money_sum(case((tagged, Loan.principal), else_=literal(0))),
        ).where(Loan.disbursed_on <= as_of, Loan.status != LoanStatus.CANCELLED)
    ).one()
    return Share(loans, tagged_loans, amount, tagged_amount)
