"""Staff home, job runs and the audit log: filtered and paged on the database side."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from sqlalchemy import func
from sqlmodel import select

from lending.db import get_session
from lending.models import Application, AuditEvent, JobRun, Loan, Product, User
from lending.models.enums import ApplicationStatus, JobStatus, LoanStatus, Role
from lending.schemas.staff import AuditFilterSchema, JobRunFilterSchema
from lending.web.access import role_required
from lending.web.paging import Page, load_filters, paginate
from lending.web.staff import bp

STAFF = (Role.ADMIN, Role.UNDERWRITER)


@bp.get("")
@bp.get("/")
@role_required(*STAFF)
def home():
    session = get_session()

    def count(model, *where) -> int:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    counts = {
        "referrals": count(Application, Application.status == ApplicationStatus.REFERRED),
        "active_loans": count(Loan, Loan.status == LoanStatus.ACTIVE),
        "products": count(Product, Product.active),
        "failed_runs": count(JobRun, JobRun.status == JobStatus.FAILED),
    }
    last_run = session.exec(select(JobRun).order_by(JobRun.id.desc()).limit(1)).first()
    return render_template("staff/home.html", counts=counts, last_run=last_run)


@bp.get("/jobs")
@role_required(*STAFF)
def jobs():
    args, errors = load_filters(JobRunFilterSchema(), ("job", "status", "page"))
    session = get_session()
    query = select(JobRun).order_by(JobRun.id.desc())
    if args["job"]:
        query = query.where(JobRun.job == args["job"])
    if args["status"]:
        query = query.where(JobRun.status == args["status"])
    page = Page.empty(args) if errors else paginate(session, query, args["page"], args)
    names = session.exec(select(JobRun.job).distinct().order_by(JobRun.job)).all()
    values = {**request.args.to_dict(), **({} if errors else args)}
    return render_template(
        "staff/jobs.html",
        page=page,
        errors=errors,
        values=values,
        names=names,
        statuses=list(JobStatus),
    ), 422 if errors else 200


@bp.get("/audit")
@role_required(*STAFF)
def audit_log():
    names = ("action", "actor", "object_type", "object_id", "date_from", "date_to", "page")
    args, errors = load_filters(AuditFilterSchema(), names)
    query = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.actor_id)
    query = query.where(*audit_conditions(args)).order_by(AuditEvent.id.desc())
    page = Page.empty(args) if errors else paginate(get_session(), query, args["page"], args)
    return render_template(
        "staff/audit.html", page=page, errors=errors, values=request.args
    ), 422 if errors else 200


def audit_conditions(args: dict) -> list:
    """SQL conditions for the audit filters: action prefix, actor, object, local dates."""
    conditions = []
    if args["action"]:
        conditions.append(AuditEvent.action.startswith(args["action"], autoescape=True))
    if args["actor"]:
        actor = args["actor"].strip()
        if actor.isdigit():
            conditions.append(AuditEvent.actor_id == int(actor))
        else:
            conditions.append(User.email == actor.lower())
    if args["object_type"]:
        conditions.append(AuditEvent.object_type == args["object_type"])
    if args["object_id"]:
        conditions.append(AuditEvent.object_id == args["object_id"])
    if args["date_from"]:
        conditions.append(AuditEvent.at >= _midnight(args["date_from"]))
    if args["date_to"]:
        conditions.append(AuditEvent.at < _midnight(args["date_to"] + timedelta(days=1)))
    return conditions


def _midnight(day: date) -> datetime:
    """The start of a business day (Asia/Karachi by default) as an aware datetime."""
    zone = ZoneInfo(current_app.extensions["lending.settings"].timezone)
    return datetime.combine(day, time(0), zone)


@bp.app_template_filter("duration")
def duration(ms: int | None) -> str:
    """Milliseconds as "850 ms" or "12.3 s" (integer arithmetic)."""
    if ms is None:
        return "—"
    return f"{ms} ms" if ms < 1000 else f"{ms // 1000}.{ms % 1000 // 100} s"


@bp.app_template_filter("counts")
def counts_text(value) -> str:
    """A job's count, or a step's counts ({"loans": 3, "overdue": 1}) on one line."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)
