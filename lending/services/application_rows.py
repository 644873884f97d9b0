"""The statements of the counter's hot path: an application's reads and writes, built once.

An application needs the applicant (inserted or updated by CNIC), what the book already holds
on that applicant and that phone, and then three rows written: the application, its automatic
decision and the audit event. On PostgreSQL these are two round trips, each a data-modifying
CTE (the upsert with the loan-history read; the three inserts); SQLite, the embedded database,
runs the same work as five plain statements. Every service test runs on both databases, so
both paths are held to the same results.

Deciding a referral or booking its offer changes the application under `lock_application`,
which serialises requests on one application on both databases.

Statements are built once per process: building and compiling one costs more than running it.
"""

from dataclasses import dataclass
from functools import cache

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from lending.errors import Conflict
from lending.models import Applicant, Application, AuditEvent, Decision, Loan
from lending.models.enums import Language, LoanStatus

FINISHED = (LoanStatus.CLOSED, LoanStatus.SETTLED)
APPLICANTS, LOANS = Applicant.__table__, Loan.__table__
APPLICATIONS, DECISIONS, AUDIT = Application.__table__, Decision.__table__, AuditEvent.__table__


@dataclass(frozen=True)
class LoanHistory:
    """What the rules need from the book about this applicant and this phone."""

    imei_active: bool
    active_phones: int
    past_loans: int
    worst_dpd: int

    @classmethod
    def of(cls, rows, applicant_id: int, imei: str) -> "LoanHistory":
        """From (applicant_id, imei, status, days_past_due) rows of the matching loans."""
        active = [r for r in rows if r.status == LoanStatus.ACTIVE]
        past = [
            r.days_past_due or 0
            for r in rows
            if r.status in FINISHED and r.applicant_id == applicant_id
        ]
        return cls(
            imei_active=any(r.imei == imei for r in active),
            active_phones=sum(r.applicant_id == applicant_id for r in active),
            past_loans=len(past),
            worst_dpd=max(past, default=0),
        )


def applicant_and_history(
    session: Session, applicant: dict, imei: str, now
) -> tuple[int, LoanHistory]:
    """Insert the applicant or update their contact details (by CNIC); return their id and
    the loans that matter to the rules: active ones on them or on this IMEI, finished ones."""
    params = {
        "p_cnic": applicant["cnic"],
        "p_full_name": applicant["full_name"],
        "p_date_of_birth": applicant["date_of_birth"],
        "p_mobile": applicant["mobile"],
        "p_email": applicant.get("email") or None,  # none given keeps the one on file
        "p_language": applicant.get("language", Language.ENGLISH),
        "p_created_at": now,
        "p_imei": imei,
    }
    dialect = session.get_bind().dialect.name
    statement = _applicant_statement(dialect, "language" in applicant)
    if dialect == "postgresql":
        rows = session.connection().execute(statement, params).all()
        applicant_id = rows[0].id
        loans = [r for r in rows if r.status is not None]  # the outer join's empty row
    else:
        applicant_id = session.connection().execute(statement, params).scalar_one()
        loans = session.connection().execute(_history(), {**params, "p_id": applicant_id}).all()
    return applicant_id, LoanHistory.of(loans, applicant_id, imei)


@cache
def _applicant_statement(dialect: str, set_language: bool):
    columns = ("cnic", "full_name", "date_of_birth", "mobile", "email", "language", "created_at")
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(APPLICANTS)
    insert = insert.values({c: bindparam(f"p_{c}", type_=APPLICANTS.c[c].type) for c in columns})
    changes = {c: insert.excluded[c] for c in ("full_name", "date_of_birth", "mobile")}
    changes["email"] = func.coalesce(insert.excluded.email, APPLICANTS.c.email)
    if set_language:
        changes["language"] = insert.excluded.language
    upsert = insert.on_conflict_do_update(index_elements=["cnic"], set_=changes).returning(
        APPLICANTS.c.id
    )
    if dialect != "postgresql":
        return upsert
    found = upsert.cte("applicant")
    return select(found.c.id, *_history_columns()).select_from(
        found.outerjoin(LOANS, _history_condition(found.c.id))
    )


def _history_columns():
    return LOANS.c.applicant_id, LOANS.c.imei, LOANS.c.status, LOANS.c.days_past_due


def _history_condition(applicant_id):
    # (theirs or this phone's) and (active, or finished and theirs): written so that the
    # planner reaches the rows through the applicant and IMEI indexes, never through status.
    mine = LOANS.c.applicant_id == applicant_id
    return (mine | (LOANS.c.imei == bindparam("p_imei"))) & (
        (LOANS.c.status == LoanStatus.ACTIVE) | (mine & LOANS.c.status.in_(FINISHED))
    )


@cache
def _history():
    return select(*_history_columns()).where(_history_condition(bindparam("p_id")))


def insert_application(session: Session, application: dict, decision: dict, event: dict) -> int:
    """Write the application, its decision and its audit event; return the application's id.
    `decision` and `event` leave out the application's id (`application_id`, `object_id`)."""
    params = {
        **{f"a_{k}": v for k, v in application.items()},
        **{f"d_{k}": v for k, v in decision.items()},
        **{f"e_{k}": v for k, v in event.items()},
    }
    connection = session.connection()
    if session.get_bind().dialect.name == "postgresql":
        return connection.execute(_insert_all(), params).scalar_one()
    application_id = connection.execute(_insert_application(), params).scalar_one()
    connection.execute(DECISIONS.insert(), {**decision, "application_id": application_id})
    connection.execute(AUDIT.insert(), {**event, "object_id": str(application_id)})
    return application_id


def _values(table, prefix: str, skip: tuple[str, ...]) -> dict:
    return {
        c.name: bindparam(f"{prefix}{c.name}", type_=c.type)
        for c in table.c
        if c.name not in ("id", *skip)
    }


@cache
def _insert_application():
    return (
        APPLICATIONS.insert().values(_values(APPLICATIONS, "a_", ())).returning(APPLICATIONS.c.id)
    )


@cache
def _insert_all():
    inserted = _insert_application().cte("application")
    new_id = select(inserted.c.id).scalar_subquery()
    decision = DECISIONS.insert().values(
        application_id=new_id, **_values(DECISIONS, "d_", ("application_id",))
    )
    event = AUDIT.insert().values(
        object_id=cast(new_id, String), **_values(AUDIT, "e_", ("object_id",))
    )
    return select(inserted.c.id).add_cte(decision.cte("decision"), event.cte("event"))


def lock_application(session: Session, application_id: int) -> Application:
    """Load an application to change it, fresh from the database, never the session's copy.

    Of two requests on one application the second waits here until the first commits, then
    sees what the first wrote. PostgreSQL locks the row (FOR UPDATE), and the read replaces
    the copy the access check loaded before the wait (populate_existing). SQLite, one writer
    at a time, ignores FOR UPDATE: a no-op UPDATE takes its write lock first, and a wait past
    the busy timeout ("database is locked") is a 409 to retry, not a 500."""
    if session.get_bind().dialect.name == "sqlite":
        try:
            session.connection().execute(_touch_application(), {"p_id": application_id})
        except OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
            raise Conflict("Another request is changing this application; try again.") from None
    return session.scalars(
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


@cache
def _touch_application():
    return (
        APPLICATIONS.update()
        .where(APPLICATIONS.c.id == bindparam("p_id"))
        .values(status=APPLICATIONS.c.status)
    )
