"""incentive programmes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:50:48.100093
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, Rate

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incentive_programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("sponsor", sa.String(length=120), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("local_only", sa.Boolean(), nullable=False),
        sa.Column("max_device_price", Money(), nullable=True),
        sa.Column("markup_discount_bp", sa.Integer(), nullable=False),
        sa.Column("min_down_payment_pct", Rate(), nullable=True),
        sa.Column("subsidy_per_loan", Money(), nullable=False),
        sa.Column("budget_count", sa.Integer(), nullable=True),
        sa.Column("budget_amount", Money(), nullable=True),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("used_amount", Money(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incentive_programmes")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_incentive_programmes_code_version")),
    )
    with op.batch_alter_table("incentive_programmes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incentive_programmes_code"), ["code"], unique=False)

    op.create_table(
        "loan_incentives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("programme_code", sa.String(length=32), nullable=False),
        sa.Column("programme_version", sa.Integer(), nullable=False),
        sa.Column("manufacturer_id", sa.Integer(), nullable=True),
        sa.Column("markup_discount_bp", sa.Integer(), nullable=False),
        sa.Column("subsidy", Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_incentives_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["manufacturer_id"],
            ["manufacturers.id"],
            name=op.f("fk_loan_incentives_manufacturer_id_manufacturers"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["incentive_programmes.id"],
            name=op.f("fk_loan_incentives_programme_id_incentive_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_incentives")),
        sa.UniqueConstraint(
            "loan_id", "programme_id", name=op.f("uq_loan_incentives_loan_id_programme_id")
        ),
    )
    with op.batch_alter_table("loan_incentives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_incentives_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_loan_incentives_programme_id"), ["programme_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("loan_incentives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_incentives_programme_id"))
        batch_op.drop_index(batch_op.f("ix_loan_incentives_loan_id"))

    op.drop_table("loan_incentives")
    with op.batch_alter_table("incentive_programmes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incentive_programmes_code"))

    op.drop_table("incentive_programmes")
