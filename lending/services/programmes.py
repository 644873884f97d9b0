"""Incentive programmes: created and revised as versions, never edited in place."""

from sqlmodel import Session, select

from lending.errors import Conflict, NotFound
from lending.models import IncentiveProgramme
from lending.services import audit


def create_programme(*, session: Session, data: dict, user_id: int | None) -> IncentiveProgramme:
    """Create version 1 of a programme; the code must be new."""
    if session.exec(
        select(IncentiveProgramme).where(IncentiveProgramme.code == data["code"])
    ).first():
        raise Conflict(f"A programme with code {data['code']} exists; revise it instead.")
    programme = IncentiveProgramme(**data, version=1, current=True)
    session.add(programme)
    session.flush()
    audit.record(
        session,
        action="programme.created",
        actor_id=user_id,
        obj=programme,
        after=_snapshot(programme),
    )
    return programme


def revise_programme(
    *, session: Session, code: str, data: dict, user_id: int | None
) -> IncentiveProgramme:
    """Add a new version with new terms; tags already made keep the version they name."""
    old = session.exec(
        select(IncentiveProgramme)
        .where(IncentiveProgramme.code == code, IncentiveProgramme.current)
        .with_for_update()
    ).first()
    if old is None:
        raise NotFound(f"No programme {code}.")
    old.current = False
    session.flush()  # one current version per code at any moment
    new = IncentiveProgramme(
        **{**data, "code": code},
        version=old.version + 1,
        current=True,
        used_count=old.used_count,
        used_amount=old.used_amount,
    )
    session.add(new)
    session.flush()
    audit.record(
        session,
        action="programme.revised",
        actor_id=user_id,
        obj=new,
        before=_snapshot(old),
        after=_snapshot(new),
    )
    return new


def _snapshot(p: IncentiveProgramme) -> dict:
    return {
        "code": p.code,
        "version": p.version,
        "valid_from": str(p.valid_from),
        "valid_to": str(p.valid_to),
        "local_only": p.local_only,
        "max_device_price": str(p.max_device_price),
        "discount_bp": p.markup_discount_bp,
        "min_down_payment_pct": str(p.min_down_payment_pct),
        "subsidy": str(p.subsidy_per_loan),
        "budget_count": p.budget_count,
        "budget_amount": str(p.budget_amount),
    }
