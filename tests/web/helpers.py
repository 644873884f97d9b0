"""Shared helpers for the application API tests: a good application and its headers."""

from datetime import UTC, datetime

from sqlmodel import func, select

from tests import factories as f

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # 12:00 in Karachi


AGENT = {"Authorization": "Bearer lnd_agent_token"}
UNDERWRITER = {"Authorization": "Bearer lnd_underwriter_token"}


def body(**changes) -> dict:
    """A good application: a salaried customer buying a locally assembled Galaxy A15."""
    doc = {
        "applicant": {
            "cnic": "35202-1234567-3",
            "full_name": "Bilal Ahmed",
            "date_of_birth": "1991-06-15",
            "mobile": "0301 2345678",
            "monthly_income": "150000.00",
            "monthly_obligations": "0.00",
            "employment_type": "salaried",
        },
        "device": {"imei": f.imei(1, "35332716"), "price": "54999.00"},
        "down_payment": "16500.00",
        "tenor": 6,
        "product_code": "QIST-STD",
    }
    for key, value in changes.items():
        group, _, name = key.partition("__")
        if name:
            doc[group][name] = value
        else:
            doc[key] = value
    return doc


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def post(client, doc, headers=AGENT):
    return client.post("/api/v1/applications", json=doc, headers=headers)
