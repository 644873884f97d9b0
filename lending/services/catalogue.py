"""Products and the device registry as the services need them."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, select

from lending.errors import InvalidInput
from lending.finance.terms import LoanTerms
from lending.models import DeviceModel, DeviceTac, Manufacturer, Product
from lending.models.snapshot import Snapshot
from lending.services import reference

PAISA = Decimal("0.01")


@dataclass(frozen=True)
class Device:
    """What the registry knows of an IMEI (model and manufacturer are None for unknown TACs)."""

    imei: str
    tac: str
    model: Snapshot | None  # of a DeviceModel
    manufacturer: Snapshot | None  # of a Manufacturer

    @property
    def known(self) -> bool:
        return self.model is not None


def active_product(session: Session, code: str) -> Snapshot:
    """The active product with this code (a read-only snapshot), or a 422 on `product_code`."""
    product = active_products(session).get(code)
    if product is None:
        raise InvalidInput({"product_code": ["Unknown or inactive product."]})
    return product


def active_products(session: Session) -> dict[str, Snapshot]:
    """Every active product by code, from the reference cache."""

    def load() -> dict[str, Snapshot]:
        rows = session.exec(select(Product).where(Product.active)).all()
        return {row.code: Snapshot(row) for row in rows}

    return reference.cached(session, "products", load)


def lookup_device(session: Session, imei: str) -> Device:
    """IMEI -> TAC -> model -> manufacturer; an unknown TAC is not an error."""
    tac = imei[:8]

    def load() -> tuple[Snapshot, Snapshot] | None:
        row = session.exec(
            select(DeviceModel, Manufacturer)
            .join(DeviceTac, DeviceTac.device_model_id == DeviceModel.id)
            .join(Manufacturer, Manufacturer.id == DeviceModel.manufacturer_id)
            .where(DeviceTac.tac == tac)
        ).first()
        return (Snapshot(row[0]), Snapshot(row[1])) if row else None

    found = reference.cached(session, ("tac", tac), load)
    return Device(
        imei=imei,
        tac=tac,
        model=found[0] if found else None,
        manufacturer=found[1] if found else None,
    )


def processing_fee(product: Product, principal: Decimal) -> Decimal:
    """The product's processing fee on a principal: percent plus fixed, to the paisa."""
    percent = (principal * product.processing_fee_pct / 100).quantize(PAISA, ROUND_HALF_UP)
    return percent + product.processing_fee_fixed


def loan_terms(
    product: Product, *, principal: Decimal, tenor: int, start, annual_rate: Decimal | None = None
) -> LoanTerms:
    """The finance engine's terms for a principal under a product (or a discounted rate)."""
    return LoanTerms(
        principal=principal,
        annual_rate=product.annual_rate if annual_rate is None else annual_rate,
        tenor=tenor,
        start=start,
        method=product.method,
        frequency=product.frequency,
        day_count=product.day_count,
        fee=processing_fee(product, principal),
        fee_financed=product.fee_financed,
        rounding=product.rounding.normalize(),
        roll_holidays=product.roll_holidays,
        islamic=product.islamic,
    )
