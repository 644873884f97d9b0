"""Reminders: one message per (instalment, offset, channel), in the borrower's language."""

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Applicant, Instalment, Loan, OutboxMessage
from lending.models.enums import Language, LoanStatus, OutboxChannel, OutboxStatus
from lending.models.products import ProductVersion
from lending.models.types import utcnow
from lending.services.nightly.sqlx import in_arrears

TEXTS = {
    Language.ENGLISH: {
        "before": "Qist: instalment {n} of {count} for your phone loan {loan}, {amount}, is due "
        "on {due}. Pay by JazzCash, Easypaisa, bank transfer or at the shop.",
        "due": "Qist: instalment {n} of {count} for your phone loan {loan}, {amount}, is due "
        "today ({due}).",
        "after": "Qist: instalment {n} of {count} for your phone loan {loan}, {amount}, was due "
        "on {due} and is {days} days late. Please pay to avoid charges.",
        "subject": "Phone loan {loan}: instalment {n} of {count}",
    },
    Language.URDU: {
        "before": "قسط: آپ کے فون قرض {loan} کی قسط {n}/{count}، {amount}، {due} کو واجب الادا "
        "ہے۔ جاز کیش، ایزی پیسہ، بینک یا دکان پر ادا کریں۔",
        "due": "قسط: آپ کے فون قرض {loan} کی قسط {n}/{count}، {amount}، آج ({due}) واجب الادا ہے۔",
        "after": "قسط: آپ کے فون قرض {loan} کی قسط {n}/{count}، {amount}، {due} کو واجب تھی اور "
        "{days} دن تاخیر ہو چکی ہے۔ اضافی چارجز سے بچنے کے لیے ادائیگی کریں۔",
        "subject": "فون قرض {loan}: قسط {n}/{count}",
    },
}


def remind(engine: Engine, as_of: date) -> dict:
    """Queue the reminders due on `as_of`, by the offsets of each loan's product version."""
    counts = {"sms": 0, "email": 0}
    with Session(engine) as session, session.begin():
        for version in session.exec(select(ProductVersion)).scalars():
            for offset in sorted(set(version.reminder_offsets or [])):
                for message in _for_offset(session, version, offset, as_of):
                    counts[str(message["channel"])] += 1
    return counts


def _for_offset(session, version, offset: int, as_of: date) -> list[dict]:
    due = as_of - timedelta(days=offset)
    rows = session.execute(
        select(
            Instalment.id,
            Instalment.n,
            Instalment.due_date,
            Instalment.total,
            Instalment.paid_principal,
            Instalment.paid_profit,
            Instalment.paid_fee,
            Loan.id.label("loan_id"),
            Loan.instalments_count,
            Applicant.language,
            Applicant.mobile,
            Applicant.email,
        )
        .join(Loan, Loan.id == Instalment.loan_id)
        .join(Applicant, Applicant.id == Loan.applicant_id)
        .where(
            Loan.product_id == version.product_id,
            Loan.product_version == version.version,
            Loan.status == LoanStatus.ACTIVE,
            Instalment.due_date == due,
            in_arrears(),  # paid ahead, or short by no more than the tolerance: no reminder
        )
        .order_by(Instalment.id)
    ).all()
    messages = [m for row in rows for m in _messages(row, offset)]
    keys = [m["dedupe_key"] for m in messages]
    existing = (
        set(
            session.execute(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
            ).scalars()
        )
        if keys
        else set()
    )
    fresh = [m for m in messages if m["dedupe_key"] not in existing]
    if fresh:
        now = utcnow()
        session.execute(insert(OutboxMessage), [m | {"created_at": now} for m in fresh])
    return fresh


def _messages(row, offset: int) -> list[dict]:
    """The outbox rows of one reminder (plain rows for one INSERT: an ORM object each cost
    more than the rest of the step together)."""
    language = Language(row.language)
    text = reminder_text(row, language, offset)
    key = f"reminder:{row.id}:{offset}"
    sms = {
        "channel": OutboxChannel.SMS,
        "recipient": row.mobile,
        "subject": "",
        "body": text,
        "dedupe_key": f"{key}:sms",
        "loan_id": row.loan_id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "last_error": "",
    }
    if not row.email:
        return [sms]
    subject = TEXTS[language]["subject"].format(
        loan=row.loan_id, n=row.n, count=row.instalments_count
    )
    email = sms | {
        "channel": OutboxChannel.EMAIL,
        "recipient": row.email,
        "subject": subject,
        "dedupe_key": f"{key}:email",
    }
    return [sms, email]


def reminder_text(row, language: Language, offset: int) -> str:
    """The reminder for an instalment `offset` days from its due date, in the language."""
    locale = "ur_PK" if language == Language.URDU else "en_PK"
    left = row.total - row.paid_principal - row.paid_profit - row.paid_fee
    values = {
        "n": row.n,
        "count": row.instalments_count,
        "loan": row.loan_id,
        "amount": _amount(left, locale),
        "due": _date(row.due_date, locale),
        "days": offset,
    }
    kind = "before" if offset < 0 else "due" if offset == 0 else "after"
    return TEXTS[language][kind].format(**values)


# A night formats the same few amounts and dates thousands of times; babel is slow at it.
@lru_cache(maxsize=4096)
def _amount(amount: Decimal, locale: str) -> str:
    return format_currency(
        amount, "PKR", format="¤\u00a0#,##0.00", locale=locale, currency_digits=False
    )


@lru_cache(maxsize=512)
def _date(day: date, locale: str) -> str:
    return format_date(day, "d MMM y", locale=locale)
