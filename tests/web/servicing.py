"""Helpers of the servicing tests: book a loan through the API, pay it, sign gateway callbacks."""

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlmodel import select

from lending.models import Instalment
from tests.web.helpers import AGENT, NOW, body, post

WEBHOOK_SECRET = "whsec_test_0123456789"
STAFF = {"Authorization": "Bearer lnd_underwriter_token"}
ADMIN = {"Authorization": "Bearer lnd_admin_token"}  # a second member of staff


def refund(client, loan_id: int, amount: str, reason: str = "Back to the borrower."):
    """Refund a credit balance as maker-checker does: the underwriter proposes, the admin
    approves; the approval's answer."""
    proposed = client.post(
        f"/api/v1/loans/{loan_id}/refunds", json={"amount": amount, "reason": reason}, headers=STAFF
    )
    assert proposed.status_code == 201, proposed.json
    return client.post(
        f"/api/v1/approvals/{proposed.json['id']}/approve", json={"note": "Checked."}, headers=ADMIN
    )


def book_loan(client, **changes) -> int:
    """Submit a good application and accept its offer; return the loan id."""
    doc = post(client, body(**changes)).json
    assert doc["status"] == "approved", doc
    accepted = client.post(f"/api/v1/applications/{doc['id']}/accept", headers=AGENT)
    assert accepted.status_code == 201, accepted.json
    return accepted.json["loan_id"]


def pay(client, loan_id: int, amount: str, key: str | None, headers=AGENT, **fields):
    """POST a counter payment (cash, paid now unless `paid_at` is given)."""
    doc = {"amount": amount, "paid_at": NOW.isoformat(), "channel": "cash", **fields}
    extra = {} if key is None else {"Idempotency-Key": key}
    return client.post(f"/api/v1/loans/{loan_id}/payments", json=doc, headers={**headers, **extra})


def use_webhook_secret(app) -> None:
    """Give the test app a payment-gateway secret."""
    settings = app.extensions["lending.settings"]
    app.extensions["lending.settings"] = replace(settings, payment_webhook_secret=WEBHOOK_SECRET)


def signed(doc: dict, secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict]:
    """The raw body of a gateway callback and its headers, signed with HMAC-SHA256."""
    raw = json.dumps(doc).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Signature": signature}


def callback(loan_id: int, amount: str, reference: str, paid_at: datetime = NOW) -> dict:
    return {
        "loan_id": loan_id,
        "amount": amount,
        "paid_at": paid_at.isoformat(),
        "reference": reference,
        "channel": "jazzcash",
    }


def paid_columns(session, loan_id: int) -> list[tuple]:
    """Every instalment's paid columns and paid-on date, in order."""
    session.expire_all()
    rows = session.exec(
        select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.n)
    ).all()
    return [(i.paid_principal, i.paid_profit, i.paid_fee, i.paid_on) for i in rows]


def scheduled_total(session, loan_id: int) -> Decimal:
    """What the schedule asks for in all (principal and profit of every instalment)."""
    session.expire_all()
    rows = session.exec(select(Instalment).where(Instalment.loan_id == loan_id)).all()
    return sum((i.total for i in rows), Decimal("0"))
