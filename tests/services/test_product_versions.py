"""Product versions: every version has its snapshot, including products made before 0004."""

from decimal import Decimal

from sqlalchemy import MetaData, Table, create_engine, inspect
from sqlmodel import Session, select

from lending.migrate import downgrade, upgrade
from lending.models import Loan, Product, ProductVersion
from lending.services.products import booked_version, terms_for_loan
from tests import factories as f


def test_migration_0004_snapshots_the_products_that_exist(database_url):
    downgrade(database_url, "0003")
    engine = create_engine(database_url)
    with engine.begin() as conn:  # Core: no ORM event, as before versioning existed
        existing = {c["name"] for c in inspect(conn).get_columns("products")}
        conn.execute(
            _table_of(existing)
            .insert()
            .values(
                code="OLD",
                name="Old product",
                method="flat",
                annual_rate=Decimal("24"),
                tenors=[6],
                late_fee_fixed=Decimal("250.50"),
                version=3,
                **_defaults(existing),
            )
        )
    upgrade(database_url)
    with Session(engine) as session:
        version = session.exec(select(ProductVersion)).one()
    engine.dispose()
    assert (version.version, version.late_fee_fixed, version.tenors) == (3, Decimal("250.50"), [6])


def _table_of(existing: set[str]) -> Table:
    """The products table as it was at 0003: the model's columns that existed then."""
    columns = [c._copy() for c in Product.__table__.columns if c.name in existing]
    return Table("products", MetaData(), *columns)


def _defaults(existing: set[str]) -> dict:
    columns = Product.__table__.columns
    skip = {"id", "code", "name", "method", "annual_rate", "tenors", "late_fee_fixed", "version"}
    return {
        c.name: Product.model_fields[c.name].get_default(call_default_factory=True)
        for c in columns
        if c.name not in skip and c.name in existing
    }


def test_a_new_product_and_each_new_version_write_their_snapshot(session):
    product = f.ProductFactory(late_fee_fixed=Decimal("100"))
    product.late_fee_fixed, product.version = Decimal("150"), 2
    session.commit()
    product.active = False  # not a term: no new version
    session.commit()
    rows = session.exec(
        select(ProductVersion.version, ProductVersion.late_fee_fixed)
        .where(ProductVersion.product_id == product.id)
        .order_by(ProductVersion.version)
    ).all()
    assert rows == [(1, Decimal("100.00")), (2, Decimal("150.00"))]


def test_a_loan_is_serviced_by_its_own_version(session):
    loan = f.LoanFactory()
    product = session.get(Product, loan.product_id)
    product.late_fee_fixed, product.grace_days, product.version = Decimal("800"), 9, 2
    session.commit()
    terms = terms_for_loan(session, loan)
    assert (terms.version, terms.late_fee.fixed, terms.late_fee.grace_days) == (
        1,
        Decimal("0.00"),
        3,
    )
    assert terms.reminder_offsets == (-3, 0, 1, 7, 30) and terms.lock_after_dpd == 30


def test_set_based_sql_joins_each_loan_to_its_version(session):
    old = f.LoanFactory()
    product = session.get(Product, old.product_id)
    product.lock_after_dpd, product.version = 45, 2
    session.commit()
    new = f.LoanFactory(
        application=f.ApplicationFactory(product_id=product.id, product_version=2),
        product_version=2,
    )
    rows = session.exec(
        select(Loan.id, ProductVersion.lock_after_dpd)
        .join(ProductVersion, booked_version())
        .order_by(Loan.id)
    ).all()
    assert rows == [(old.id, 30), (new.id, 45)]
