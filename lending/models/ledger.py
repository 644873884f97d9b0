"""The general ledger: accounts, journal entries and their lines, closed periods.

A line's amount is signed: a debit is positive, a credit negative; the lines of an entry sum to
zero, which the database enforces (migration 0009: a deferred constraint trigger on
PostgreSQL, django-hordak's way; on SQLite the entry's row goes in after its lines and a
trigger refuses it unless they balance, and the lines' foreign key to it is checked at
commit). Entries, lines and closes are append-only: a correction is a new entry.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money, timestamp
from lending.models.enums import AccountKind, ApprovalKind, ApprovalStatus
from lending.models.types import UTCDateTime


class GLAccount(SQLModel, table=True):
    """An account of the lender's chart; `role` names what the postings use it for by
    default (a product may map a role to another account: `GLProductAccount`)."""

    __tablename__ = "gl_accounts"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=10, unique=True)
    name: str = Field(max_length=120)
    name_ur: str = Field(default="", max_length=120)
    kind: AccountKind = enum_field(AccountKind)
    role: str | None = Field(default=None, max_length=40, unique=True)
    created_at: datetime = created_at()


class GLProductAccount(SQLModel, table=True):
    """A product's own account for a role (Fineract's product-to-GL mapping)."""

    __tablename__ = "gl_product_accounts"
    __table_args__ = (UniqueConstraint("product_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id")
    role: str = Field(max_length=40)
    account_id: int = Field(foreign_key="gl_accounts.id")


class JournalEntry(SQLModel, table=True):
    """A balanced entry: posted on a business date of an open period; `value_date` is the date
    the event it records took effect (earlier for a backdated payment)."""

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_loan_id_posted_on", "loan_id", "posted_on"),)

    id: int | None = Field(default=None, primary_key=True)
    posted_on: date = Field(index=True)
    value_date: date
    kind: str = Field(max_length=32)
    loan_id: int | None = Field(default=None, foreign_key="loans.id")
    transaction_id: int | None = Field(default=None, foreign_key="loan_transactions.id")
    reverses_id: int | None = Field(default=None, foreign_key="journal_entries.id")
    memo: str = Field(default="", max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = created_at()


class JournalLine(SQLModel, table=True):
    """One leg of an entry: a debit (positive) or a credit (negative) to an account."""

    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_journal_lines_account_id_entry_id", "account_id", "entry_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Checked at commit: on SQLite the lines are written before their entry's row.
    entry_id: int = Field(
        sa_column_args=[
            ForeignKey("journal_entries.id", deferrable=True, initially="DEFERRED"),
        ],
        index=True,
    )
    account_id: int = Field(foreign_key="gl_accounts.id")
    amount: Decimal = money()


class LedgerClose(SQLModel, table=True):
    """A month-end close: no entry may be posted on or before `closed_through` any more."""

    __tablename__ = "ledger_closes"

    id: int | None = Field(default=None, primary_key=True)
    closed_through: date
    closed_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = created_at()


class Approval(SQLModel, table=True):
    """Maker-checker: a write-off or a refund one staff member proposes and another decides.

    The database refuses a decision by the proposer (CHECK), whatever the code does.
    """

    __tablename__ = "approvals"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> proposed_by_id", name="four_eyes"
        ),
        Index("ix_approvals_status_loan_id", "status", "loan_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: ApprovalKind = enum_field(ApprovalKind)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    amount: Decimal = money()  # a refund's amount; a write-off's principal when proposed
    reason: str = Field(max_length=500)
    status: ApprovalStatus = enum_field(ApprovalStatus, default=ApprovalStatus.PENDING)
    proposed_by_id: int = Field(foreign_key="users.id")
    proposed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = timestamp()
    note: str = Field(default="", max_length=500)
    transaction_id: int | None = Field(default=None, foreign_key="loan_transactions.id")


class SubsidyReceipt(SQLModel, table=True):
    """A sponsor's payment of a month's incentive claim for one programme (append-only)."""

    __tablename__ = "subsidy_receipts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("programme_code", "reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_code: str = Field(max_length=40, index=True)
    month: str = Field(max_length=7)  # YYYY-MM: the claim it pays
    amount: Decimal = money()
    reference: str = Field(max_length=80)
    received_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = created_at()


class GLBalance(SQLModel, table=True):
    """An account's debits and credits through a date, as the night found them: the entries
    posted on or before `as_of` up to entry `through_entry_id`. A cache the trial balance
    starts from (it adds what came after), rewritten when a night runs again; never money."""

    __tablename__ = "gl_balances"
    __table_args__ = (UniqueConstraint("as_of", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    as_of: date = Field(index=True)
    through_entry_id: int
    account_id: int = Field(foreign_key="gl_accounts.id")
    debit: Decimal = money()
    credit: Decimal = money()
