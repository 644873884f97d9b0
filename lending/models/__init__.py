"""SQLModel tables, one module per aggregate; importing this package registers them all."""

from lending.models.applications import Applicant, Application, Decision
from lending.models.devices import DeviceModel, DeviceTac, Manufacturer
from lending.models.incentives import IncentiveProgramme, LoanIncentive
from lending.models.ledger import (
    Approval,
    GLAccount,
    GLBalance,
    GLProductAccount,
    JournalEntry,
    JournalLine,
    LedgerClose,
    SubsidyReceipt,
)
from lending.models.loans import Fee, Instalment, Loan, LoanTransaction
from lending.models.nightly import JobBatch, LoanSnapshot, PaymentReceipt
from lending.models.ops import AuditEvent, JobRun, OutboxMessage
from lending.models.payments import Payment, PaymentAllocation
from lending.models.products import Product, ProductVersion
from lending.models.servicing import ActivationCode, Disbursement
from lending.models.users import ApiToken, Retailer, User

__all__ = [
    "Applicant",
    "Application",
    "Decision",
    "DeviceModel",
    "DeviceTac",
    "Manufacturer",
    "Fee",
    "Instalment",
    "Loan",
    "LoanTransaction",
    "AuditEvent",
    "JobRun",
    "OutboxMessage",
    "Payment",
    "PaymentAllocation",
    "Product",
    "ProductVersion",
    "ActivationCode",
    "Disbursement",
    "ApiToken",
    "Retailer",
    "User",
    "IncentiveProgramme",
    "LoanIncentive",
    "LoanSnapshot",
    "JobBatch",
    "PaymentReceipt",
    "GLAccount",
    "GLProductAccount",
    "JournalEntry",
    "JournalLine",
    "LedgerClose",
    "Approval",
    "SubsidyReceipt",
    "GLBalance",
]
