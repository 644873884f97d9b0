"""Builders of credit facts and policies for the scoring tests: a clean applicant by default."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from lending.scoring import BureauReport, BureauStatus, CreditFacts, Policy

VALID_CNIC = "34201-0891231-8"
AS_OF = date(2025, 6, 2)


def policy(**changes) -> Policy:
    """Return the default product policy, with changes."""
    base = Policy(
        min_down_payment_pct=Decimal("25"),
        min_price=Decimal("10000"),
        max_price=Decimal("500000"),
        allowed_tenors=(3, 6, 9, 12),
    )
    return replace(base, **changes)


def facts(**changes) -> CreditFacts:
    """Return a typical eligible applicant (scores 629 on the default card), with changes."""
    base = CreditFacts(
        cnic=VALID_CNIC,
        date_of_birth=date(1995, 3, 15),
        as_of=AS_OF,
        maturity=date(2026, 6, 2),
        monthly_income=Decimal("50000"),
        monthly_obligations=Decimal("5000"),
        new_instalment_monthly=Decimal("7500"),
        employment_type="salaried",
        device_price=Decimal("60000"),
        down_payment=Decimal("18000"),
        tenor=12,
        tenor_months=Decimal("12"),
        imei_secures_active_loan=False,
        active_financed_phones=0,
        device_known=True,
        bureau=BureauReport(status=BureauStatus.OK),
        past_loans_with_us=0,
        worst_dpd_with_us=0,
    )
    return replace(base, **changes)


def best_facts(**changes) -> CreditFacts:
    """Return an applicant in the best band of every attribute of the default card."""
    best = facts(
        date_of_birth=date(1985, 1, 1),
        monthly_income=Decimal("150000"),
        monthly_obligations=Decimal("0"),
        new_instalment_monthly=Decimal("6000"),
        device_price=Decimal("60000"),
        down_payment=Decimal("30000"),
        tenor=6,
        tenor_months=Decimal("6"),
        past_loans_with_us=2,
        worst_dpd_with_us=0,
    )
    return replace(best, **changes)
