"""product versions: a snapshot of every version of a product's terms

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 03:03:38.379401
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, Rate

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The term columns as they are at this revision (products and product_versions share them).
TERMS = (
    "name, method, islamic, frequency, day_count, annual_rate, tenors, processing_fee_pct, "
    "processing_fee_fixed, fee_financed, min_down_payment_pct, min_price, max_price, "
    "max_dbr_pct, rounding, roll_holidays, late_fee_fixed, late_fee_pct, late_fee_cap, "
    "grace_days, reminder_offsets, lock_after_dpd, cooling_off_hours, offer_valid_days"
)


def upgrade() -> None:
    op.create_table(
        "product_versions",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("islamic", sa.Boolean(), nullable=False),
        sa.Column("frequency", sa.String(length=32), nullable=False),
        sa.Column("day_count", sa.String(length=32), nullable=False),
        sa.Column("annual_rate", Rate(), nullable=False),
        sa.Column("tenors", sa.JSON(), nullable=False),
        sa.Column("processing_fee_pct", Rate(), nullable=False),
        sa.Column("processing_fee_fixed", Money(), nullable=False),
        sa.Column("fee_financed", sa.Boolean(), nullable=False),
        sa.Column("min_down_payment_pct", Rate(), nullable=False),
        sa.Column("min_price", Money(), nullable=False),
        sa.Column("max_price", Money(), nullable=False),
        sa.Column("max_dbr_pct", Rate(), nullable=False),
        sa.Column("rounding", Rate(), nullable=False),
        sa.Column("roll_holidays", sa.Boolean(), nullable=False),
        sa.Column("late_fee_fixed", Money(), nullable=False),
        sa.Column("late_fee_pct", Rate(), nullable=False),
        sa.Column("late_fee_cap", Money(), nullable=True),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("reminder_offsets", sa.JSON(), nullable=False),
        sa.Column("lock_after_dpd", sa.Integer(), nullable=False),
        sa.Column("cooling_off_hours", sa.Integer(), nullable=False),
        sa.Column("offer_valid_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_versions_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_versions")),
        sa.UniqueConstraint(
            "product_id", "version", name=op.f("uq_product_versions_product_id_version")
        ),
    )
    # Existing products: their live terms are the terms of their current version.
    op.execute(
        f"INSERT INTO product_versions ({TERMS}, product_id, version, created_at) "
        f"SELECT {TERMS}, id, version, created_at FROM products"
    )


def downgrade() -> None:
    op.drop_table("product_versions")
