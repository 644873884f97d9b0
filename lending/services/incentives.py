"""Incentive programmes: which apply to a phone, what they grant, and their budgets.

Pakistan's Mobile Device Manufacturing Policy favours locally assembled phones; a programme
grants a markup discount, a lower minimum down payment and a subsidy per loan that the lender
claims from the sponsor each month. Matching programmes are snapshotted on the application (and
on the loan when booked), so a later edit of a programme never rewrites history.

Budgets are consumed when an application is tagged and not declined, by one conditional UPDATE
per programme: the row lock it takes makes concurrent applications queue on PostgreSQL, so the
cap is never passed, and a declined application gives its reservation back in its own
transaction.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, select

from lending.models import IncentiveProgramme
from lending.models.snapshot import Snapshot
from lending.services import reference
from lending.services.catalogue import Device

DEVICE_UNKNOWN = "device_unknown"
ASSEMBLED_IN_PK = "assembled_in_pk"


@dataclass(frozen=True)
class Benefits:
    """What the matched programmes grant together."""

    markup_discount_bp: int = 0
    min_down_payment_pct: Decimal | None = None

    def rate(self, annual_rate: Decimal) -> Decimal:
        """The annual rate after the discount, never below zero."""
        return max(annual_rate - Decimal(self.markup_discount_bp) / 100, Decimal("0"))

    def down_payment_pct(self, product_pct: Decimal) -> Decimal:
        """The lower of the product's and the programmes' minimum down payment."""
        if self.min_down_payment_pct is None:
            return product_pct
        return min(product_pct, self.min_down_payment_pct)


def eligible_programmes(
    session: Session, *, device: Device, price: Decimal, on: date
) -> list[Snapshot]:
    """Live programmes whose window, assembly rule, price cap and budget admit this phone."""
    local = bool(device.manufacturer and device.manufacturer.assembled_in_pk)
    return [
        p
        for p in current_programmes(session)
        if p.valid_from <= on <= p.valid_to
        and (p.max_device_price is None or p.max_device_price >= price)
        and (local or not p.local_only)
        and _has_budget(p)
    ]


def current_programmes(session: Session) -> list[Snapshot]:
    """The live version of every programme, by code (from the reference cache: budget
    counters may be a few seconds old, `reserve` is what enforces them)."""

    def load() -> list[Snapshot]:
        query = (
            select(IncentiveProgramme)
            .where(IncentiveProgramme.current)
            .order_by(IncentiveProgramme.code)
        )
        return [Snapshot(p) for p in session.exec(query)]

    return reference.cached(session, "programmes", load)


def _has_budget(programme: IncentiveProgramme) -> bool:
    if programme.budget_count is not None and programme.used_count >= programme.budget_count:
        return False
    return programme.budget_amount is None or (
        programme.used_amount + programme.subsidy_per_loan <= programme.budget_amount
    )


def benefits_of(tags: list[dict]) -> Benefits:
    """Combine the benefits recorded in tags: discounts add up, the lowest down payment wins."""
    programmes = [t for t in tags if t.get("kind") == "programme"]
    downs = [
        Decimal(t["min_down_payment_pct"])
        for t in programmes
        if t.get("min_down_payment_pct") is not None
    ]
    return Benefits(
        markup_discount_bp=sum(int(t["markup_discount_bp"]) for t in programmes),
        min_down_payment_pct=min(downs) if downs else None,
    )


_CODE = bindparam("programme_code")
_SUBSIDY = bindparam("subsidy", type_=IncentiveProgramme.used_amount.type)
# Built once (every application on a local phone runs them): one unit of budget, taken only
# while some is left, and given back.
_RESERVE = (
    update(IncentiveProgramme)
    .where(
        IncentiveProgramme.code == _CODE,
        IncentiveProgramme.current,
        or_(
            IncentiveProgramme.budget_count.is_(None),
            IncentiveProgramme.used_count < IncentiveProgramme.budget_count,
        ),
        or_(
            IncentiveProgramme.budget_amount.is_(None),
            IncentiveProgramme.used_amount + _SUBSIDY <= IncentiveProgramme.budget_amount,
        ),
    )
    .values(
        used_count=IncentiveProgramme.used_count + 1,
        used_amount=IncentiveProgramme.used_amount + _SUBSIDY,
    )
)
_RELEASE = (
    update(IncentiveProgramme)
    .where(IncentiveProgramme.code == _CODE, IncentiveProgramme.current)
    .values(
        used_count=IncentiveProgramme.used_count - 1,
        used_amount=IncentiveProgramme.used_amount - _SUBSIDY,
    )
)


def reserve(session: Session, programmes: list) -> list:
    """Take one unit of budget from each programme; return those that still had some."""
    granted = []
    connection = session.connection()
    for programme in programmes:
        params = {"programme_code": programme.code, "subsidy": programme.subsidy_per_loan}
        if connection.execute(_RESERVE, params).rowcount == 1:
            granted.append(programme)
        else:
            reference.forget(session)  # spent: let the next application see it
    return granted


def release(session: Session, programmes: list) -> None:
    """Give back the budget that `reserve` took (a declined application)."""
    connection = session.connection()
    for programme in programmes:
        params = {"programme_code": programme.code, "subsidy": programme.subsidy_per_loan}
        connection.execute(_RELEASE, params)


def tags_for(device: Device, programmes: list[IncentiveProgramme]) -> list[dict]:
    """The snapshot recorded on the application: the device's status and each programme."""
    tags: list[dict] = []
    if not device.known:
        tags.append({"kind": "device", "code": DEVICE_UNKNOWN, "tac": device.tac})
    elif device.manufacturer.assembled_in_pk:
        tags.append(
            {
                "kind": "device",
                "code": ASSEMBLED_IN_PK,
                "manufacturer": device.manufacturer.name,
                "manufacturer_id": device.manufacturer.id,
                "model": device.model.name,
            }
        )
    for p in programmes:
        tags.append(
            {
                "kind": "programme",
                "code": p.code,
                "programme_id": p.id,
                "version": p.version,
                "name": p.name,
                "sponsor": p.sponsor,
                "markup_discount_bp": p.markup_discount_bp,
                "min_down_payment_pct": None
                if p.min_down_payment_pct is None
                else str(p.min_down_payment_pct),
                "subsidy": str(p.subsidy_per_loan),
                "manufacturer_id": device.manufacturer.id if device.manufacturer else None,
            }
        )
    return tags
