"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 02:35:53.916748
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, Rate

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applicants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cnic", sa.String(length=13), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("mobile", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applicants")),
        sa.UniqueConstraint("cnic", name=op.f("uq_applicants_cnic")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_job"), ["job"], unique=False)

    op.create_table(
        "manufacturers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("brands", sa.String(length=240), nullable=False),
        sa.Column("assembled_in_pk", sa.Boolean(), nullable=False),
        sa.Column("assembler", sa.String(length=120), nullable=False),
        sa.Column("authorisation_ref", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manufacturers")),
        sa.UniqueConstraint("name", name=op.f("uq_manufacturers_name")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
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
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("code", name=op.f("uq_products_code")),
    )
    op.create_table(
        "retailers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=240), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retailers")),
        sa.UniqueConstraint("name", name=op.f("uq_retailers_name")),
    )
    op.create_table(
        "device_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manufacturer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("list_price", Money(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manufacturer_id"],
            ["manufacturers.id"],
            name=op.f("fk_device_models_manufacturer_id_manufacturers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_models")),
    )
    with op.batch_alter_table("device_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_models_manufacturer_id"), ["manufacturer_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("retailer_id", sa.Integer(), nullable=True),
        sa.Column("applicant_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["applicants.id"], name=op.f("fk_users_applicant_id_applicants")
        ),
        sa.ForeignKeyConstraint(
            ["retailer_id"], ["retailers.id"], name=op.f("fk_users_retailer_id_retailers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_applicant_id"), ["applicant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=True)
        batch_op.create_index(batch_op.f("ix_users_retailer_id"), ["retailer_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_on", sa.Date(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("retailer_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("monthly_income", Money(), nullable=False),
        sa.Column("monthly_obligations", Money(), nullable=False),
        sa.Column("employment_type", sa.String(length=32), nullable=False),
        sa.Column("imei", sa.String(length=15), nullable=False),
        sa.Column("device_model_id", sa.Integer(), nullable=True),
        sa.Column("device_price", Money(), nullable=False),
        sa.Column("down_payment", Money(), nullable=False),
        sa.Column("tenor", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("dbr_pct", Rate(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("incentive_tags", sa.JSON(), nullable=False),
        sa.Column("offer", sa.JSON(), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["applicants.id"],
            name=op.f("fk_applications_applicant_id_applicants"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_applications_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["device_model_id"],
            ["device_models.id"],
            name=op.f("fk_applications_device_model_id_device_models"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_applications_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["retailer_id"], ["retailers.id"], name=op.f("fk_applications_retailer_id_retailers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_applications_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_applications_imei"), ["imei"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_applications_retailer_id"), ["retailer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_applications_status"), ["status"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)

    op.create_table(
        "device_tacs",
        sa.Column("tac", sa.String(length=8), nullable=False),
        sa.Column("device_model_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_model_id"],
            ["device_models.id"],
            name=op.f("fk_device_tacs_device_model_id_device_models"),
        ),
        sa.PrimaryKeyConstraint("tac", name=op.f("pk_device_tacs")),
    )
    with op.batch_alter_table("device_tacs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_tacs_device_model_id"), ["device_model_id"], unique=False
        )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("scorecard_version", sa.String(length=40), nullable=False),
        sa.Column("bureau", sa.JSON(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_decisions_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_decisions_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decisions_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("retailer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("imei", sa.String(length=15), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=32), nullable=False),
        sa.Column("day_count", sa.String(length=32), nullable=False),
        sa.Column("islamic", sa.Boolean(), nullable=False),
        sa.Column("annual_rate", Rate(), nullable=False),
        sa.Column("device_price", Money(), nullable=False),
        sa.Column("down_payment", Money(), nullable=False),
        sa.Column("principal", Money(), nullable=False),
        sa.Column("instalment_amount", Money(), nullable=False),
        sa.Column("instalments_count", sa.Integer(), nullable=False),
        sa.Column("apr", Rate(), nullable=False),
        sa.Column("total_payable", Money(), nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.Column("first_due_on", sa.Date(), nullable=False),
        sa.Column("maturity_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("aged_on", sa.Date(), nullable=True),
        sa.Column("device_locked", sa.Boolean(), nullable=False),
        sa.Column("cooling_off_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("incentive_tags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["applicants.id"], name=op.f("fk_loans_applicant_id_applicants")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_loans_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_loans_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["retailer_id"], ["retailers.id"], name=op.f("fk_loans_retailer_id_retailers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("application_id", name=op.f("uq_loans_application_id")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_applicant_id"), ["applicant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_imei"), ["imei"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_retailer_id"), ["retailer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_status"), ["status"], unique=False)

    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal", Money(), nullable=False),
        sa.Column("profit", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("total", Money(), nullable=False),
        sa.Column("balance_after", Money(), nullable=False),
        sa.Column("paid_principal", Money(), nullable=False),
        sa.Column("paid_profit", Money(), nullable=False),
        sa.Column("paid_fee", Money(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_instalments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("loan_id", "n", name=op.f("uq_instalments_loan_id_n")),
    )
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instalments_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_instalments_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_outbox_messages_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_messages_dedupe_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_status"), ["status"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("unapplied", Money(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("posted_by_id", sa.Integer(), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_payments_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["posted_by_id"], ["users.id"], name=op.f("fk_payments_posted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("channel", "reference", name=op.f("uq_payments_channel_reference")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("paid_amount", Money(), nullable=False),
        sa.Column("charity", sa.Boolean(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instalment_id"], ["instalments.id"], name=op.f("fk_fees_instalment_id_instalments")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_fees_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fees")),
        sa.UniqueConstraint("instalment_id", "kind", name=op.f("uq_fees_instalment_id_kind")),
    )
    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fees_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("late_fee", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("profit", Money(), nullable=False),
        sa.Column("principal", Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name=op.f("fk_payment_allocations_instalment_id_instalments"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_allocations_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
    )
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_allocations_instalment_id"), ["instalment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_allocations_payment_id"), ["payment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_allocations_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payment_allocations_instalment_id"))

    op.drop_table("payment_allocations")
    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fees_loan_id"))

    op.drop_table("fees")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_loan_id"))

    op.drop_table("payments")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_messages_loan_id"))

    op.drop_table("outbox_messages")
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instalments_loan_id"))
        batch_op.drop_index(batch_op.f("ix_instalments_due_date"))

    op.drop_table("instalments")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_status"))
        batch_op.drop_index(batch_op.f("ix_loans_retailer_id"))
        batch_op.drop_index(batch_op.f("ix_loans_imei"))
        batch_op.drop_index(batch_op.f("ix_loans_applicant_id"))

    op.drop_table("loans")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_application_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("device_tacs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_tacs_device_model_id"))

    op.drop_table("device_tacs")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_status"))
        batch_op.drop_index(batch_op.f("ix_applications_retailer_id"))
        batch_op.drop_index(batch_op.f("ix_applications_imei"))
        batch_op.drop_index(batch_op.f("ix_applications_applicant_id"))

    op.drop_table("applications")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_retailer_id"))
        batch_op.drop_index(batch_op.f("ix_users_email"))
        batch_op.drop_index(batch_op.f("ix_users_applicant_id"))

    op.drop_table("users")
    with op.batch_alter_table("device_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_models_manufacturer_id"))

    op.drop_table("device_models")
    op.drop_table("retailers")
    op.drop_table("products")
    op.drop_table("manufacturers")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_runs_job"))

    op.drop_table("job_runs")
    op.drop_table("applicants")
