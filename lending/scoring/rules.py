"""Eligibility rules: each a small function of (facts, policy) returning a Reason or None.

Hard rules decline; referral rules send the application to an underwriter (never approve
blind); notices change nothing but are recorded with the decision.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from stdnum.pk import cnic

from lending.scoring.facts import BureauStatus, CreditFacts, Policy
from lending.scoring.features import anniversary, dbr_exceeds, dbr_pct
from lending.scoring.reasons import Reason, ReasonCode, reason

Rule = Callable[[CreditFacts, Policy], Reason | None]


@dataclass(frozen=True)
class RuleOutcome:
    """What the rules found: declines, referrals, notices, and the debt burden ratio."""

    declines: tuple[Reason, ...]
    referrals: tuple[Reason, ...]
    notices: tuple[Reason, ...]
    dbr_pct: Decimal | None  # None when the income is not positive


def cnic_valid(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline a CNIC that fails NADRA's format."""
    return None if cnic.is_valid(facts.cnic) else reason(ReasonCode.CNIC_INVALID)


def old_enough(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline before the minimum-age birthday (on the birthday itself is old enough)."""
    if facts.as_of >= anniversary(facts.date_of_birth, policy.min_age):
        return None
    return reason(ReasonCode.UNDER_AGE, min_age=policy.min_age)


def young_enough_at_maturity(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline when the last instalment falls due after the maximum-age birthday."""
    # "At most 65 at maturity": 65 years and 0 days passes, 65 years and a day does not.
    if facts.maturity <= anniversary(facts.date_of_birth, policy.max_age_at_maturity):
        return None
    return reason(ReasonCode.OVER_AGE_AT_MATURITY, max_age=policy.max_age_at_maturity)


def imei_free(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline a phone whose IMEI already secures an active loan."""
    return reason(ReasonCode.IMEI_IN_USE) if facts.imei_secures_active_loan else None


def one_phone_at_a_time(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline a CNIC that already has an active financed phone."""
    return reason(ReasonCode.ACTIVE_LOAN_EXISTS) if facts.active_financed_phones > 0 else None


def income_positive(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline without a positive net monthly income (no debt burden ratio exists)."""
    return reason(ReasonCode.NO_INCOME) if facts.monthly_income <= 0 else None


def dbr_within_cap(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline when obligations plus the new instalment exceed the cap share of income."""
    if facts.monthly_income <= 0 or not dbr_exceeds(facts, policy.max_dbr_pct):
        return None
    return reason(ReasonCode.DBR_ABOVE_CAP, dbr=dbr_pct(facts), cap=policy.max_dbr_pct)


def down_payment_enough(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline a down payment below the product's minimum share of the price."""
    # Cross-multiplied so the comparison is exact: no rounded percentage decides.
    if facts.down_payment * 100 >= policy.min_down_payment_pct * facts.device_price:
        return None
    return reason(ReasonCode.DOWN_PAYMENT_BELOW_MINIMUM, min_pct=policy.min_down_payment_pct)


def price_in_range(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline a price outside the product's range (both ends allowed)."""
    if policy.min_price <= facts.device_price <= policy.max_price:
        return None
    return reason(
        ReasonCode.PRICE_OUT_OF_RANGE,
        min_price=f"{policy.min_price:,}",
        max_price=f"{policy.max_price:,}",
    )


def tenor_allowed(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline a number of instalments the product does not offer."""
    if facts.tenor in policy.allowed_tenors:
        return None
    allowed = ", ".join(str(t) for t in sorted(policy.allowed_tenors))
    return reason(ReasonCode.TENOR_NOT_ALLOWED, tenor=facts.tenor, allowed=allowed)


def bureau_no_overdue(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline when the bureau reports more overdue accounts than the policy tolerates."""
    bureau = facts.bureau
    if bureau.status != BureauStatus.OK:
        return None
    if bureau.overdue_accounts <= policy.max_bureau_overdue_accounts:
        return None
    return reason(ReasonCode.BUREAU_OVERDUE_ACCOUNTS, count=bureau.overdue_accounts)


def bureau_delinquency_tolerable(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Decline when the bureau's worst days past due exceed the policy's limit."""
    bureau = facts.bureau
    if bureau.status != BureauStatus.OK or bureau.worst_dpd <= policy.max_bureau_worst_dpd:
        return None
    return reason(
        ReasonCode.BUREAU_DELINQUENCY, dpd=bureau.worst_dpd, max_dpd=policy.max_bureau_worst_dpd
    )


def bureau_reachable(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Refer when the bureau was down or timed out."""
    unavailable = facts.bureau.status == BureauStatus.UNAVAILABLE
    return reason(ReasonCode.BUREAU_UNAVAILABLE) if unavailable else None


def device_known(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Refer a phone whose TAC is not in the device registry."""
    return None if facts.device_known else reason(ReasonCode.DEVICE_UNKNOWN)


def bureau_configured(facts: CreditFacts, policy: Policy) -> Reason | None:
    """Note a decision taken without any bureau (the demo set-up)."""
    missing = facts.bureau.status == BureauStatus.NOT_CONFIGURED
    return reason(ReasonCode.BUREAU_NOT_CONFIGURED) if missing else None


DECLINE_RULES: tuple[Rule, ...] = (
    cnic_valid,
    old_enough,
    young_enough_at_maturity,
    imei_free,
    one_phone_at_a_time,
    income_positive,
    dbr_within_cap,
    down_payment_enough,
    price_in_range,
    tenor_allowed,
    bureau_no_overdue,
    bureau_delinquency_tolerable,
)
REFERRAL_RULES: tuple[Rule, ...] = (bureau_reachable, device_known)
NOTICE_RULES: tuple[Rule, ...] = (bureau_configured,)


def _apply(rules: tuple[Rule, ...], facts: CreditFacts, policy: Policy) -> tuple[Reason, ...]:
    found = (rule(facts, policy) for rule in rules)
    return tuple(r for r in found if r is not None)


def evaluate(facts: CreditFacts, policy: Policy) -> RuleOutcome:
    """Run every rule; return the declines, referrals and notices in rule order."""
    return RuleOutcome(
        declines=_apply(DECLINE_RULES, facts, policy),
        referrals=_apply(REFERRAL_RULES, facts, policy),
        notices=_apply(NOTICE_RULES, facts, policy),
        dbr_pct=dbr_pct(facts),
    )
