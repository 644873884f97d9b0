"""Closed sets of the domain that are not money maths (those live in lending.finance)."""

from enum import StrEnum

# Owned by the finance engine; re-exported for the tables.
from lending.finance.enums import DayCount, Frequency, Method, Prepayment, TxnKind  # noqa: F401


class Role(StrEnum):
    ADMIN = "admin"
    UNDERWRITER = "underwriter"
    RETAILER = "retailer"
    BORROWER = "borrower"


STAFF_ROLES = frozenset({Role.ADMIN, Role.UNDERWRITER})


class EmploymentType(StrEnum):
    SALARIED = "salaried"
    SELF_EMPLOYED = "self_employed"
    FREELANCER = "freelancer"
    DAILY_WAGE = "daily_wage"
    OTHER = "other"


class ApplicationStatus(StrEnum):
    APPROVED = "approved"
    REFERRED = "referred"
    DECLINED = "declined"
    ACCEPTED = "accepted"
    EXPIRED = "expired"


class DecisionKind(StrEnum):
    AUTOMATIC = "automatic"
    UNDERWRITER = "underwriter"


class LoanStatus(StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    WRITTEN_OFF = "written_off"


class Bucket(StrEnum):
    CURRENT = "current"
    DPD_1_30 = "1-30"
    DPD_31_60 = "31-60"
    DPD_61_90 = "61-90"
    DPD_90_PLUS = "90+"


class Classification(StrEnum):
    """Prudential classification by days past due (the regulator profile's classes)."""

    REGULAR = "regular"
    WATCH = "watch"  # a watch list below the non-performing classes (SBP MFBs, 2006)
    OAEM = "oaem"  # other assets especially mentioned
    SUBSTANDARD = "substandard"
    DOUBTFUL = "doubtful"
    LOSS = "loss"


class PaymentChannel(StrEnum):
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    JAZZCASH = "jazzcash"
    EASYPAISA = "easypaisa"
    RAAST = "raast"
    CARD = "card"


COUNTER_CHANNELS = frozenset({PaymentChannel.CASH, PaymentChannel.CARD})
"""What a shop takes at the counter: cash, and a card on its own terminal."""
GATEWAY_CHANNELS = frozenset(set(PaymentChannel) - COUNTER_CHANNELS)
"""Rails that only the signed gateway callback and the settlement files may post."""


class PaymentStatus(StrEnum):
    POSTED = "posted"
    REVERSED = "reversed"


class FeeKind(StrEnum):
    PROCESSING = "processing"
    LATE = "late"


class OutboxChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed: never sent again automatically (at most once)
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # no longer true when its turn came (a lock for a loan now cured)


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Language(StrEnum):
    ENGLISH = "en"
    URDU = "ur"


class DisbursementStatus(StrEnum):
    RECORDED = "recorded"
    REVERSED = "reversed"


class InstalmentStatus(StrEnum):
    """How an instalment stands for the borrower on a given day."""

    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    DUE = "due"
    OVERDUE = "overdue"
    SETTLED = "settled"  # closed by an early settlement, its unearned profit waived
    CANCELLED = "cancelled"  # the loan was cancelled in its cooling-off period


class ReceiptStatus(StrEnum):
    RECEIVED = "received"
    POSTED = "posted"
    REJECTED = "rejected"


class DeviceSignal(StrEnum):
    LOCK = "lock"
    UNLOCK = "unlock"
    RELEASE = "release"


class AccountKind(StrEnum):
    """What an account of the chart is; assets and expenses carry debit balances."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


class ApprovalKind(StrEnum):
    """What a maker-checker approval decides."""

    WRITE_OFF = "write_off"
    REFUND = "refund"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
