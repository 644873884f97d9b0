"""Take an application, decide it, and make the offer; an underwriter's decision on a
referral; accepting the offer. Each is one transaction, flushed not committed, at the caller's
clock (`now` of the request or the job, never the machine's)."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from lending.errors import Conflict, InvalidInput
from lending.finance.schedule import Schedule, build_schedule
from lending.models import Application, Decision, Product
from lending.models.enums import ApplicationStatus, DecisionKind
from lending.models.snapshot import Snapshot
from lending.schemas.offers import offer_document
from lending.scoring.decision import DecisionResult, DecisionStatus, decide
from lending.scoring.facts import BureauReport, CreditFacts, Policy
from lending.scoring.scorecard import Scorecard, Thresholds
from lending.services import audit, incentives
from lending.services.application_rows import (
    LoanHistory,
    applicant_and_history,
    insert_application,
    lock_application,
)
from lending.services.bureau import fetch_report
from lending.services.catalogue import Device, active_product, loan_terms, lookup_device
from lending.services.products import terms_for_application

PAISA = Decimal("0.01")


@dataclass(frozen=True)
class DecisionContext:
    """What a decision needs besides the application: the card, cut-offs, bureau, clock."""

    scorecard: Scorecard
    thresholds: Thresholds
    bureau_url: str
    bureau_timeout: float
    timezone: str
    now: datetime

    @property
    def business_date(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class Origin:
    """Who takes the application: the shop and the agent (None for a retailer system)."""

    retailer_id: int
    user_id: int | None


@dataclass(frozen=True)
class Inputs:
    """An application's data and what was looked up for it before deciding."""

    data: dict
    product: Product
    applicant_id: int
    device: Device
    bureau: BureauReport
    history: LoanHistory


def submit_application(
    *, session: Session, data: dict, origin: Origin, context: DecisionContext
) -> Snapshot:
    """Record a validated application, decide it and attach the offer unless declined;
    return it as a read-only snapshot of the row written (load it to change it)."""
    product = active_product(session, data["product_code"])
    device = lookup_device(session, data["device"]["imei"])
    applicant_id, history = applicant_and_history(
        session, data["applicant"], device.imei, context.now
    )
    bureau = fetch_report(context.bureau_url, data["applicant"]["cnic"], context.bureau_timeout)
    inputs = Inputs(data, product, applicant_id, device, bureau, history)
    candidates = incentives.eligible_programmes(
        session, device=device, price=data["device"]["price"], on=context.business_date
    )
    assessment = assess(session, inputs, candidates, context)
    assessment = _claim_budgets(session, inputs, assessment, candidates, context)
    return _record(session, data, origin, assessment, context, bureau)


def _claim_budgets(session, inputs: Inputs, assessment, candidates, context):
    # Budgets are taken last: the programme row stays locked only from here to the commit,
    # so concurrent applications queue for milliseconds, not for a whole decision.
    if assessment.result.status == DecisionStatus.DECLINED or not candidates:
        return replace(assessment, tags=incentives.tags_for(inputs.device, []))
    granted = incentives.reserve(session, candidates)
    if len(granted) == len(candidates):
        return assessment
    # A budget ran out while we decided (rare): decide again with what was granted.
    again = assess(session, inputs, granted, context)
    if again.result.status == DecisionStatus.DECLINED and granted:
        incentives.release(session, granted)
        return replace(again, tags=incentives.tags_for(inputs.device, []))
    return again


def assess(session: Session, inputs: Inputs, programmes: list, context) -> "Assessment":
    """Price and decide the application as if `programmes` applied to it."""
    tags = incentives.tags_for(inputs.device, programmes)
    benefits = incentives.benefits_of(tags)
    data, product = inputs.data, inputs.product
    schedule = build_schedule(
        loan_terms(
            product,
            principal=data["device"]["price"] - data["down_payment"],
            tenor=data["tenor"],
            start=context.business_date,
            annual_rate=benefits.rate(product.annual_rate),
        )
    )
    facts = credit_facts(data, inputs, schedule, context)
    result = decide(facts, product_policy(product, benefits), context.scorecard, context.thresholds)
    return Assessment(product, inputs.applicant_id, inputs.device, schedule, result, tags)


def monthly_equivalent(schedule: Schedule) -> Decimal:
    """The instalment as a monthly burden (weekly x 52 / 12), for the debt burden ratio."""
    per_year = schedule.terms.frequency.per_year
    largest = max(row.total for row in schedule.instalments)
    return (largest * per_year / 12).quantize(PAISA, ROUND_HALF_UP)


def credit_facts(data: dict, inputs: Inputs, schedule: Schedule, context) -> CreditFacts:
    """Everything the rules and the scorecard look at, as plain values."""
    history, a = inputs.history, data["applicant"]
    return CreditFacts(
        cnic=a["cnic"],
        date_of_birth=a["date_of_birth"],
        as_of=context.business_date,
        maturity=schedule.instalments[-1].due_date,
        monthly_income=a["monthly_income"],
        monthly_obligations=a["monthly_obligations"],
        new_instalment_monthly=monthly_equivalent(schedule),
        employment_type=a["employment_type"],
        device_price=data["device"]["price"],
        down_payment=data["down_payment"],
        tenor=data["tenor"],
        tenor_months=tenor_months(schedule),
        imei_secures_active_loan=history.imei_active,
        active_financed_phones=history.active_phones,
        device_known=inputs.device.known,
        bureau=inputs.bureau,
        past_loans_with_us=history.past_loans,
        worst_dpd_with_us=history.worst_dpd,
    )


def tenor_months(schedule: Schedule) -> Decimal:
    """The loan's length in months, whatever its frequency."""
    per_year = schedule.terms.frequency.per_year
    return (Decimal(len(schedule.instalments)) * 12 / per_year).quantize(Decimal("0.1"))


def product_policy(product: Product, benefits: incentives.Benefits) -> Policy:
    """The eligibility limits a product sets, with a programme's lower down payment."""
    return Policy(
        min_down_payment_pct=benefits.down_payment_pct(product.min_down_payment_pct),
        min_price=product.min_price,
        max_price=product.max_price,
        allowed_tenors=tuple(product.tenors),
        max_dbr_pct=product.max_dbr_pct,
    )


def _reasons(result: DecisionResult) -> list[dict]:
    return [
        {"code": str(r.code), "message": r.message_en, "message_ur": r.message_ur}
        for r in (*result.reasons, *result.notices)
    ]


def _stored_dbr(result: DecisionResult) -> Decimal | None:
    # A tiny income gives an absurd ratio; the column holds up to 99,999.99 percent.
    return None if result.dbr_pct is None else min(result.dbr_pct, Decimal("99999.99"))


@dataclass(frozen=True)
class Assessment:
    """Everything decided about one application before it is written."""

    product: Product
    applicant_id: int
    device: Device
    schedule: Schedule
    result: DecisionResult
    tags: list


def _record(session, data: dict, origin: Origin, a: Assessment, context, bureau) -> Snapshot:
    """Write the application, its automatic decision and the audit event; return the
    application's row as a snapshot (no ORM object built, nothing read back)."""
    status = ApplicationStatus(str(a.result.status))
    now = context.now
    row = {
        "retailer_id": origin.retailer_id,
        "created_by_id": origin.user_id,
        "applicant_id": a.applicant_id,
        "product_id": a.product.id,
        "product_version": a.product.version,
        "monthly_income": data["applicant"]["monthly_income"],
        "monthly_obligations": data["applicant"]["monthly_obligations"],
        "employment_type": data["applicant"]["employment_type"],
        "imei": a.device.imei,
        "device_model_id": a.device.model.id if a.device.model else None,
        "device_price": data["device"]["price"],
        "down_payment": data["down_payment"],
        "tenor": data["tenor"],
        "status": status,
        "score": a.result.score,
        "dbr_pct": _stored_dbr(a.result),
        "reasons": _reasons(a.result),
        "offer": offer_document(a.schedule),
        "incentive_tags": a.tags,
        "offer_expires_at": (
            context.now + timedelta(days=a.product.offer_valid_days)
            if status == ApplicationStatus.APPROVED
            else None
        ),
        "created_at": now,
    }
    decision = {
        "kind": DecisionKind.AUTOMATIC,
        "status": status,
        "score": a.result.score,
        "points": dict(a.result.points),
        "reasons": row["reasons"],
        "scorecard_version": a.result.scorecard_version,
        "bureau": {"status": str(bureau.status), **(bureau.raw or {})},
        "decided_by_id": None,
        "note": "",
        "created_at": now,
    }
    event = audit.event_row(
        action="application.decided",
        object_type="applications",
        object_id="",
        after={"status": str(status), "score": a.result.score},
        actor_id=origin.user_id,
        at=now,
    )
    del event["object_id"]
    application_id = insert_application(session, row, decision, event)
    return Snapshot.of(Application, {"id": application_id, **row})


@dataclass(frozen=True)
class Verdict:
    """An underwriter's decision on a referral: approve or decline, why, and by whom."""

    status: ApplicationStatus
    note: str
    user_id: int


def decide_referral(
    *, session: Session, application_id: int, verdict: Verdict, now: datetime
) -> Application:
    """Approve or decline a referred application, with a note; of several at once one is
    recorded, the others are 409 (the application is no longer referred)."""
    application = lock_application(session, application_id)
    if application.status != ApplicationStatus.REFERRED:
        raise Conflict(
            f"Only a referred application can be decided; this one is {application.status}."
        )
    if verdict.status not in (ApplicationStatus.APPROVED, ApplicationStatus.DECLINED):
        raise InvalidInput({"status": ["Must be approved or declined."]})
    before, application.status = {"status": str(application.status)}, verdict.status
    if verdict.status == ApplicationStatus.APPROVED:
        product = terms_for_application(session, application)
        application.offer_expires_at = now + timedelta(days=product.offer_valid_days)
    session.add(
        Decision(
            application_id=application.id,
            kind=DecisionKind.UNDERWRITER,
            status=verdict.status,
            score=application.score,
            reasons=application.reasons,
            decided_by_id=verdict.user_id,
            note=verdict.note,
            created_at=now,
        )
    )
    audit.record(
        session,
        action="application.underwriter_decision",
        actor_id=verdict.user_id,
        obj=application,
        before=before,
        after={"status": str(verdict.status), "note": verdict.note},
        at=now,
    )
    session.flush()
    return application
