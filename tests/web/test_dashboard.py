"""The portfolio dashboard, its CSV and the portfolio API: the same figures, to the paisa."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lending.models.enums import LoanStatus, PaymentStatus, Role
from tests import factories as f
from tests.web.helpers import NOW

AS_OF = date(2026, 11, 28)  # NOW in Karachi
D = Decimal


def loan(principal: str, paid: str = "0", *, on: date, **fields):
    """A loan with one instalment of `principal`, `paid` of it repaid."""
    row = f.LoanFactory(principal=D(principal), disbursed_on=on, aged_on=AS_OF, **fields)
    f.InstalmentFactory(loan_id=row.id, principal=D(principal), paid_principal=D(paid))
    return row


@pytest.fixture
def book(app, session):
    """Four active loans in four buckets, one closed, one cancelled, payments, snapshots."""
    app.extensions["lending.clock"] = lambda: NOW
    loans = {
        "current": loan("41249.00", "3000.00", on=date(2026, 1, 5)),
        "late": loan("10000.50", on=date(2026, 6, 10), bucket="31-60", days_past_due=45),
        "bad": loan("5000.25", on=date(2026, 3, 1), bucket="90+", days_past_due=120),
        "new": loan("2500.10", "500.00", on=date(2026, 11, 2), bucket="1-30", days_past_due=10),
        "closed": loan("3000.00", "3000.00", on=date(2026, 11, 3), status=LoanStatus.CLOSED),
        "cancelled": loan("7000.00", on=date(2026, 11, 4), status=LoanStatus.CANCELLED),
    }
    # The last night that aged the book was for 27 November: none for the 28th yet.
    f.JobRunFactory(job="nightly.ageing", as_of=date(2026, 11, 27))
    first, second = f.IncentiveProgrammeFactory(), f.IncentiveProgrammeFactory()
    for programme in (first, second):  # two tags on one loan count it once
        f.LoanIncentiveFactory(loan_id=loans["late"].id, programme=programme)
    payments(loans)
    snapshots(loans)
    return loans


def payments(loans) -> None:
    """A payment late on 31 October UTC (1 November in Karachi), a reversed one, one in October."""
    pay = f.PaymentFactory
    pay(loan_id=loans["current"].id, amount=D("3000.00"), paid_at=_at(2026, 10, 31, 21))
    pay(
        loan_id=loans["current"].id,
        amount=D("999.99"),
        paid_at=_at(2026, 11, 5, 9),
        status=PaymentStatus.REVERSED,
    )
    pay(loan_id=loans["new"].id, amount=D("500.00"), paid_at=_at(2026, 10, 15, 9))


def snapshots(loans) -> None:
    """Month-end buckets on 30 September and 31 October; the closed loan left in between."""
    for key, was, now in [
        ("current", "current", "current"),
        ("late", "1-30", "31-60"),
        ("new", "current", "1-30"),
        ("closed", "current", None),
    ]:
        f.LoanSnapshotFactory(loan_id=loans[key].id, as_of=date(2026, 9, 30), bucket=was)
        if now:
            f.LoanSnapshotFactory(loan_id=loans[key].id, as_of=date(2026, 10, 31), bucket=now)


def _at(year, month, day, hour) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


OUTSTANDING = D("38249.00") + D("10000.50") + D("5000.25") + D("2000.10")


def expected_pct(part: str) -> str:
    return f"{(D(part) * 100 / OUTSTANDING).quantize(D('0.01'))}%"


@pytest.fixture
def staff(session, auth):
    user = f.UserFactory(role=Role.UNDERWRITER)
    auth.login(user.email, f.PASSWORD)
    f.ApiTokenFactory(user_id=user.id, token="lnd_staff_reports")
    return {"Authorization": "Bearer lnd_staff_reports"}


def text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|table)>', page, re.S)
    assert match, element_id
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).replace("\xa0", " ")


def test_dashboard_shows_buckets_par_and_shares_to_the_paisa(book, staff, client):
    response = client.get(f"/staff/dashboard?as_of={AS_OF}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text_of(page, "outstanding").strip() == "Rs 55,249.85"
    assert text_of(page, "par30").strip() == expected_pct("15000.75") == "27.15%"
    assert text_of(page, "par90").strip() == expected_pct("5000.25") == "9.05%"
    buckets = text_of(page, "buckets")
    for line in [
        "current 1 Rs 38,249.00",
        "1-30 1 Rs 2,000.10",
        "31-60 1 Rs 10,000.50",
        "61-90 0 Rs 0.00",
        "90+ 1 Rs 5,000.25",
        "Total 4 Rs 55,249.85",
    ]:
        assert line in " ".join(buckets.split()), line
    assert "4 active loans were not aged for 2026-11-28" in page
    # one of five booked loans is tagged: 20% of the loans
    assert "20.00%" in text_of(page, "incentive-share")
    assert "<svg" in page and "<title>31-60: 1 loans, Rs\xa010,000.50 outstanding</title>" in page


def test_months_count_local_dates_and_leave_out_reversals_and_cancellations(book, staff, client):
    doc = client.get(f"/api/v1/reports/portfolio?as_of={AS_OF}", headers=staff).json
    months = {x["month"]: x for x in doc["disbursements"]}
    assert len(doc["disbursements"]) == 12 and doc["disbursements"][0]["month"] == "2025-12"
    assert months["2026-11"] == {"month": "2026-11", "loans": 2, "amount": "5500.10"}
    assert months["2026-01"]["amount"] == "41249.00"
    collected = {x["month"]: x for x in doc["collections"]}
    # 21:00 UTC on 31 October is 02:00 on 1 November in Karachi
    assert collected["2026-11"] == {"month": "2026-11", "payments": 1, "amount": "3000.00"}
    assert collected["2026-10"] == {"month": "2026-10", "payments": 1, "amount": "500.00"}


def test_api_and_csv_give_the_page_figures(book, staff, client):
    doc = client.get(f"/api/v1/reports/portfolio?as_of={AS_OF}", headers=staff).json
    assert doc["total"] == {"loans": 4, "outstanding": "55249.85"}
    assert (doc["par30"], doc["par90"]) == ("27.15", "9.05")
    assert doc["buckets"][2] == {"bucket": "31-60", "loans": 1, "outstanding": "10000.50"}
    assert doc["incentive_share"] == {
        "loans": 5,
        "tagged_loans": 1,
        "count_pct": "20.00",
        "amount": "61749.85",
        "tagged_amount": "10000.50",
        "amount_pct": "16.20",
    }
    response = client.get(f"/staff/dashboard.csv?as_of={AS_OF}")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert ["2026-11-28", "total", "active", "4", "55249.85", ""] in rows
    assert ["2026-11-28", "par", "PAR30", "", "15000.75", "27.15"] in rows
    assert ["2026-11-28", "collections", "2026-11", "1", "3000.00", ""] in rows


def test_roll_rates_come_from_consecutive_month_end_snapshots(book, staff, client):
    doc = client.get(f"/api/v1/reports/portfolio?as_of={AS_OF}", headers=staff).json
    moves = {(r["from"], r["to"]): (r["loans"], r["pct"]) for r in doc["roll_rates"]}
    assert moves == {
        ("current", "current"): (1, "33.33"),
        ("current", "1-30"): (1, "33.33"),
        ("current", "left"): (1, "33.33"),
        ("1-30", "31-60"): (1, "100.00"),
    }
    page = client.get(f"/staff/dashboard?as_of={AS_OF}").get_data(as_text=True)
    assert "2026-09-30 → 2026-10-31" in page
    assert "11 of the last 12 months have no roll rate" in page  # missing months are named


def test_without_snapshots_the_page_says_so(app, staff, client):
    app.extensions["lending.clock"] = lambda: NOW
    page = client.get("/staff/dashboard").get_data(as_text=True)
    assert "No roll rates yet." in page
    assert "The nightly job has not aged the book yet" in page


@pytest.mark.parametrize("as_of", ["2026-11-29", "yesterday"])
def test_a_bad_or_future_date_is_422(app, staff, client, as_of):
    app.extensions["lending.clock"] = lambda: NOW
    page = client.get(f"/staff/dashboard?as_of={as_of}")
    assert page.status_code == 422 and 'id="as_of-error"' in page.get_data(as_text=True)
    api = client.get(f"/api/v1/reports/portfolio?as_of={as_of}", headers=staff)
    assert api.status_code == 422 and list(api.json["errors"]) == ["as_of"]
    assert client.get(f"/staff/dashboard.csv?as_of={as_of}").status_code == 422


def test_a_shop_may_not_see_the_portfolio(session, client, auth):
    agent = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=agent.id, token="lnd_shop_reports")
    auth.login(agent.email, f.PASSWORD)
    assert client.get("/staff/dashboard").status_code == 403
    assert client.get("/staff/dashboard.csv").status_code == 403
    api = client.get(
        "/api/v1/reports/portfolio", headers={"Authorization": "Bearer lnd_shop_reports"}
    )
    assert api.status_code == 403


def test_openapi_lists_the_portfolio_report(client):
    paths = client.get("/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/reports/portfolio"]
    assert "/api/v1/reports/incentive-claims" in paths


def test_once_the_night_has_aged_the_date_no_loan_is_left_unaged(book, staff, client):
    f.JobRunFactory(job="nightly.ageing", as_of=AS_OF)
    page = client.get(f"/staff/dashboard?as_of={AS_OF}").get_data(as_text=True)
    assert f"as the nightly job last aged the book, on {AS_OF}" in " ".join(page.split())
    assert "were not aged" not in page
