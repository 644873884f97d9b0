"""Products as versions: an edit of terms adds a version; a loan keeps the one it was booked under.

The `products` row is the live version; a mapper event in lending.models.products writes the
`product_versions` snapshot of every version in the same transaction. Servicing (late fees,
grace, reminders, device lock) reads the loan's version through `terms_for_loan`, or joins
`ProductVersion` on `booked_version()` in set-based SQL.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_
from sqlmodel import Session, select

from lending.errors import Conflict, InvalidInput, NotFound
from lending.finance.late_fees import LateFeeRule
from lending.models import Application, Loan, Product, ProductVersion
from lending.models.products import TERM_FIELDS
from lending.services import audit


@dataclass(frozen=True)
class ServicingTerms:
    """What servicing applies to one loan: the late fee, reminders and lock of its version."""

    product_id: int
    version: int
    late_fee: LateFeeRule
    islamic: bool
    reminder_offsets: tuple[int, ...]
    lock_after_dpd: int


def version_of(session: Session, product_id: int, version: int) -> ProductVersion:
    """The snapshot of one version of a product; 404 if there is none."""
    row = session.exec(
        select(ProductVersion).where(
            ProductVersion.product_id == product_id, ProductVersion.version == version
        )
    ).first()
    if row is None:
        raise NotFound(f"Product {product_id} has no version {version}.")
    return row


def booked_version(owner: type = Loan):
    """SQL join condition from loans (or applications) to the product version they name."""
    return and_(
        ProductVersion.product_id == owner.product_id,
        ProductVersion.version == owner.product_version,
    )


def servicing_terms(version: ProductVersion, islamic: bool) -> ServicingTerms:
    """The servicing terms of a version (islamic as booked on the loan)."""
    return ServicingTerms(
        product_id=version.product_id,
        version=version.version,
        late_fee=LateFeeRule(
            fixed=version.late_fee_fixed,
            percent=version.late_fee_pct.normalize(),
            cap=version.late_fee_cap,
            grace_days=version.grace_days,
        ),
        islamic=islamic,
        reminder_offsets=tuple(version.reminder_offsets),
        lock_after_dpd=version.lock_after_dpd,
    )


def terms_for_loan(session: Session, loan: Loan) -> ServicingTerms:
    """The servicing terms of the product version the loan was booked under."""
    return servicing_terms(version_of(session, loan.product_id, loan.product_version), loan.islamic)


def terms_for_application(session: Session, application: Application) -> ProductVersion:
    """The pricing terms the application's offer was made under (for booking it)."""
    return version_of(session, application.product_id, application.product_version)


def create_product(*, session: Session, data: dict, user_id: int | None) -> Product:
    """Create version 1 of a product; the code must be new."""
    if session.exec(select(Product).where(Product.code == data["code"])).first():
        raise InvalidInput({"code": ["A product with this code exists; edit it instead."]})
    product = Product(**data, version=1)
    session.add(product)
    session.flush()
    audit.record(
        session, action="product.created", actor_id=user_id, obj=product, after=snapshot(product)
    )
    return product


def revise_product(
    *, session: Session, code: str, data: dict, user_id: int | None, based_on: int | None = None
) -> Product:
    """Apply an edit: changed terms make a new version; booked loans keep theirs."""
    product = session.exec(select(Product).where(Product.code == code).with_for_update()).first()
    if product is None:
        raise NotFound(f"No product {code}.")
    if based_on is not None and based_on != product.version:
        raise Conflict(
            f"Someone else changed {code} (now version {product.version}); reload and edit again."
        )
    before = snapshot(product)
    changed = [f for f in TERM_FIELDS if f in data and _differs(getattr(product, f), data[f])]
    if not changed and data.get("active", product.active) == product.active:
        return product
    for name in (*changed, "active"):
        setattr(product, name, data.get(name, getattr(product, name)))
    if changed:
        product.version += 1
    session.flush()
    audit.record(
        session,
        action="product.revised",
        actor_id=user_id,
        obj=product,
        before=before,
        after=snapshot(product),
        detail={"changed": changed},
    )
    return product


def _differs(old, new) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (old is None) != (new is None) or (old is not None and Decimal(old) != new)
    return old != new


def snapshot(product: Product) -> dict:
    """The product's terms as plain JSON values, for the audit trail."""
    values = {f: getattr(product, f) for f in TERM_FIELDS}
    doc = {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}
    return {**doc, "code": product.code, "version": product.version, "active": product.active}
