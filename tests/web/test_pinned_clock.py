"""Time is injectable: with the app's clock pinned years ahead, everything follows it.

The clock is pinned to 2031-03-15 04:30 in Karachi, which is still 2031-03-14 in UTC: the
business date is the Karachi one. Nothing here may follow the machine's clock (2020s).
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlmodel import select

from lending.models import ApiToken, Application, AuditEvent, Decision, User
from lending.models.enums import DecisionKind, Role
from lending.services.users import Lockout, authenticate, issue_token, user_for_token
from tests import factories as f
from tests.web.helpers import UNDERWRITER, body, post

PINNED = datetime(2031, 3, 15, 4, 30, tzinfo=ZoneInfo("Asia/Karachi"))
BUSINESS_DATE = date(2031, 3, 15)


@pytest.fixture
def pinned(app, setup, session):
    """The shop of `setup` with its clock moved to PINNED and its tokens never expiring."""
    app.extensions["lending.clock"] = lambda: PINNED.astimezone(UTC)
    session.execute(update(ApiToken).values(expires_at=None))
    session.commit()
    return app


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive UTC; PostgreSQL aware: compare both as aware UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_an_application_is_taken_and_decided_at_the_pinned_time(pinned, session, client):
    response = post(client, body())
    assert response.status_code == 201, response.json
    doc = response.json
    assert datetime.fromisoformat(doc["created_at"]) == PINNED
    application = session.get(Application, doc["id"])
    assert as_utc(application.created_at) == PINNED
    assert as_utc(application.offer_expires_at) == PINNED + timedelta(days=7)
    decision = session.exec(select(Decision).where(Decision.application_id == doc["id"])).one()
    assert as_utc(decision.created_at) == PINNED
    (decided,) = events(session, "application.decided")
    assert as_utc(decided.at) == PINNED
    first_due = date.fromisoformat(doc["offer"]["schedule"][0]["due_date"])
    assert first_due == date(2031, 4, 15)  # a month after the Karachi date, not the UTC one


def test_an_underwriter_decides_at_the_pinned_time(pinned, session, client):
    referred = post(client, body(**{"device__imei": f.imei(9, "99999999")})).json
    assert referred["status"] == "referred"
    response = client.post(
        f"/api/v1/applications/{referred['id']}/decision",
        json={"status": "approved", "note": "Known customer"},
        headers=UNDERWRITER,
    )
    assert response.status_code == 200, response.json
    assert datetime.fromisoformat(response.json["offer_expires_at"]) == PINNED + timedelta(days=7)
    decision = session.exec(
        select(Decision).where(
            Decision.application_id == referred["id"], Decision.kind == DecisionKind.UNDERWRITER
        )
    ).one()
    assert as_utc(decision.created_at) == PINNED
    (event,) = events(session, "application.underwriter_decision")
    assert as_utc(event.at) == PINNED


def reason_codes(response) -> list[str]:
    return [r["code"] for r in response.json["reasons"]]


def test_date_of_birth_and_age_are_judged_on_the_pinned_business_date(pinned, client):
    born_today = post(client, body(**{"applicant__date_of_birth": "2031-03-15"}))
    assert born_today.status_code == 422  # the Karachi date, though UTC is still the 14th
    assert born_today.json["errors"] == {
        "applicant.date_of_birth": ["The date of birth must be in the past."]
    }
    born_yesterday = post(client, body(**{"applicant__date_of_birth": "2031-03-14"}))
    assert born_yesterday.status_code == 201, born_yesterday.json  # not yet born by the machine
    assert born_yesterday.json["status"] == "declined"
    assert "under_age" in reason_codes(born_yesterday)
    # In the machine's 2020s these are children; on 2031-03-15 one of them is eighteen.
    eighteen_today = post(client, body(**{"applicant__date_of_birth": "2013-03-15"}))
    assert eighteen_today.status_code == 201, eighteen_today.json
    assert "under_age" not in reason_codes(eighteen_today)
    eighteen_tomorrow = post(
        client,
        body(**{"applicant__date_of_birth": "2013-03-16", "applicant__cnic": "42101-7654321-5"}),
    )
    assert eighteen_tomorrow.status_code == 201, eighteen_tomorrow.json
    assert eighteen_tomorrow.json["status"] == "declined"
    assert "under_age" in reason_codes(eighteen_tomorrow)


def test_a_token_issued_by_the_command_expires_a_year_after_the_pinned_time(pinned, session):
    user = f.UserFactory(role=Role.UNDERWRITER, email="clock@example.pk")
    result = pinned.test_cli_runner().invoke(
        args=["tokens", "issue", "--email", "clock@example.pk"]
    )
    assert result.exit_code == 0, result.output
    row = session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert as_utc(row.expires_at) == PINNED + timedelta(days=365)
    assert as_utc(row.created_at) == PINNED
    (issued,) = events(session, "token.issued")
    assert as_utc(issued.at) == PINNED


def test_token_expiry_and_lock_out_are_judged_at_the_callers_time(app, session):
    """The services take `now`: a token issued at the pinned time lasts its days from then,
    and a lock-out lasts its minutes from the pinned failure, whatever the machine's clock."""
    user = f.UserFactory(role=Role.UNDERWRITER)
    hasher = app.extensions["lending.hasher"]
    token = issue_token(session, user=user, days=30, now=PINNED)
    session.commit()
    assert user_for_token(session, token, now=PINNED + timedelta(days=29)) is not None
    assert user_for_token(session, token, now=PINNED + timedelta(days=31)) is None
    policy = Lockout(max_failures=1, minutes=15)
    assert (
        authenticate(
            session, email=user.email, password="wrong", hasher=hasher, lockout=policy, now=PINNED
        )
        is None
    )
    session.commit()
    session.refresh(user)
    assert as_utc(user.locked_until) == PINNED + timedelta(minutes=15)
    late = PINNED + timedelta(minutes=16)
    assert (
        authenticate(session, email=user.email, password=f.PASSWORD, hasher=hasher, now=late)
        == user
    )
    assert as_utc(user.last_login_at) == late
    session.commit()
    (locked,) = events(session, "auth.locked")
    assert as_utc(locked.at) == PINNED
    assert as_utc(session.get(User, user.id).last_login_at) == late
