"""Provisions: what the regulator profile requires against the book, and its movement posted.

After the ageing has classified every loan, the night sums the principal outstanding of the
active loans by class, applies the profile's rates (a specific rate for a non-performing
class, the general rate for the performing ones), and posts the difference between what is
required and what the allowance account holds: provision expense against the allowance (a
release the other way round). One entry a night, dated the night's date; nothing when
nothing moved. The counts say what is required per class, so a month's figures can be read
back from the job runs.
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending import regulation
from lending.finance.money import ZERO
from lending.models import Instalment, Loan
from lending.models.enums import Classification, LoanStatus
from lending.models.ledger import GLAccount, JournalLine
from lending.services import ledger

ALLOWANCE, EXPENSE = ledger.ALLOWANCE, ledger.PROVISION_EXPENSE
CENT = Decimal("0.01")


def outstanding_by_class(session: Session) -> dict[Classification, Decimal]:
    """The principal outstanding of the active loans, by their stored class."""
    rows = session.execute(
        select(
            Loan.classification,
            func.sum(Instalment.principal - Instalment.paid_principal),
        )
        .join(Instalment, Instalment.loan_id == Loan.id)
        .where(Loan.status == LoanStatus.ACTIVE)
        .group_by(Loan.classification)
    ).all()
    found: dict[Classification, Decimal] = defaultdict(Decimal)
    for klass, amount in rows:
        found[Classification(klass)] += amount or ZERO
    return found


def required(by_class: dict[Classification, Decimal], profile) -> dict[Classification, Decimal]:
    """The provision each class requires, to the paisa (half up)."""
    return {
        klass: (amount * profile.provision_pct(klass) / 100).quantize(CENT, ROUND_HALF_UP)
        for klass, amount in by_class.items()
    }


def held(session: Session) -> Decimal:
    """What the allowance account holds (a credit balance, returned positive)."""
    total = session.execute(
        select(func.sum(JournalLine.amount))
        .join(GLAccount, GLAccount.id == JournalLine.account_id)
        .where(GLAccount.role == ALLOWANCE)
    ).scalar()
    return -(total or ZERO)


def provide(engine: Engine, as_of: date, now: datetime | None = None) -> dict:
    """Post the night's provision movement; the counts: required per class, held, moved."""
    now = now or datetime.now(UTC)
    profile = regulation.active()
    with Session(engine) as session, session.begin():
        needs = required(outstanding_by_class(session), profile)
        total = sum(needs.values(), ZERO)
        movement = total - held(session)
        if movement:
            ledger.post(
                session,
                ledger.Posting(
                    "provision",
                    as_of,
                    as_of,
                    now,
                    memo=f"Provisions by {profile.code}: Rs {total:,} required",
                ),
                [(EXPENSE, movement), (ALLOWANCE, -movement)],
            )
    return {
        "profile": profile.code,
        "required": str(total),
        "moved": str(movement),
        **{f"required_{k}": str(v) for k, v in sorted(needs.items()) if v},
    }
