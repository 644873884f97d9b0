"""The ledger's staff pages and its command line, on both databases: the trial balance, an
account's statement, the month-end close (admins only, validated, refusals shown), and
`lending ledger trial-balance|close`.

The books: one loan booked 2026-11-28 (38,499.00 to the shop, the 769.98 fee paid up front,
its programme's 2,000.00 subsidy receivable) and a cash payment of 6,990.00 on the booking
day (6,027.52 principal, 962.48 profit).
"""

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from lending.models import Approval, AuditEvent, LedgerClose, Loan
from lending.models.enums import Role
from tests import factories as f
from tests.conftest import csrf_token
from tests.web.servicing import STAFF, book_loan, pay


@pytest.fixture
def books(setup, client) -> int:
    loan_id = book_loan(client)
    assert pay(client, loan_id, "6990.00", "k1").status_code == 201
    return loan_id


def login(auth, role: Role):
    user = f.UserFactory(role=role)
    auth.login(user.email, f.PASSWORD)
    return user


def cells(page: str, code: str) -> list[list[str]]:
    """The text of the cells of an account's row of the trial balance."""
    row = re.search(rf'<tr id="account-{code}">(.*?)</tr>', page, re.S)
    assert row, f"no row {code}"
    found = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    return [re.sub(r"<[^>]+>", " ", c).split() for c in found]


def test_the_trial_balance_page_lists_every_account_and_equal_totals(books, client, auth):
    login(auth, Role.UNDERWRITER)
    page = client.get("/staff/ledger?as_of=2026-11-28")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rs = ["Rs"]
    assert cells(html, "1200") == [rs + ["38,499.00"], rs + ["6,027.52"], rs + ["32,471.48"]]
    assert cells(html, "2100") == [rs + ["0.00"], rs + ["38,499.00"], rs + ["38,499.00", "Cr"]]
    assert cells(html, "4100") == [rs + ["0.00"], rs + ["962.48"], rs + ["962.48", "Cr"]]
    totals = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    assert totals.count("48,258.98") == 2 and "balanced" in totals
    # Before the loan was booked: nothing.
    empty = client.get("/staff/ledger?as_of=2026-11-27").get_data(as_text=True)
    assert cells(empty, "1200") == [rs + ["0.00"], rs + ["0.00"], ["—"]]
    # An underwriter sees no close form; a bad date is a field error, not a 500.
    assert 'name="through"' not in html
    bad = client.get("/staff/ledger?as_of=2026-13-45")
    assert bad.status_code == 422
    assert "Not a valid date." in bad.get_data(as_text=True)


def test_an_account_statement_runs_its_balance_line_by_line(books, client, auth):
    login(auth, Role.UNDERWRITER)
    page = client.get("/staff/ledger/accounts/1111?date_from=2026-11-01&date_to=2026-11-30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>2026-11-28.*?</tr>", html, re.S)
    assert len(rows) == 2  # the fee at booking, the payment
    assert "769.98" in rows[0] and "disbursement" in rows[0]
    assert "6,990.00" in rows[1] and "7,759.98" in rows[1]
    assert client.get("/staff/ledger/accounts/9999").status_code == 404
    swapped = client.get("/staff/ledger/accounts/1111?date_from=2026-11-30&date_to=2026-11-01")
    assert swapped.status_code == 422
    earliest = client.get("/staff/ledger/accounts/1111?date_from=0001-01-01&date_to=0001-01-02")
    assert earliest.status_code == 200  # the first day there is: nothing before it


def test_only_an_admin_closes_a_past_date_and_refusals_are_shown(app, session, books, client, auth):
    login(auth, Role.UNDERWRITER)
    token = csrf_token(client, "/staff/ledger")
    form = {"through": "2026-11-27", "csrf_token": token}
    assert client.post("/staff/ledger/close", data=form).status_code == 403
    auth.logout()
    admin = login(auth, Role.ADMIN)
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 2, 7, tzinfo=UTC)
    token = csrf_token(client, "/staff/ledger")
    today = client.post("/staff/ledger/close", data={"through": "2026-12-02", "csrf_token": token})
    assert today.status_code == 422
    assert "Only a day before today" in today.get_data(as_text=True)
    missing = client.post("/staff/ledger/close", data={"through": "", "csrf_token": token})
    assert missing.status_code == 422
    done = client.post("/staff/ledger/close", data={"through": "2026-11-30", "csrf_token": token})
    assert done.status_code == 303
    closes = session.exec(select(LedgerClose.closed_through, LedgerClose.closed_by_id)).all()
    assert closes == [(date(2026, 11, 30), admin.id)]
    page = client.get("/staff/ledger").get_data(as_text=True)
    assert "closed through 2026-11-30" in page
    again = client.post("/staff/ledger/close", data={"through": "2026-11-29", "csrf_token": token})
    assert again.status_code == 422
    assert "already closed through 2026-11-30" in again.get_data(as_text=True)
    events = session.exec(
        select(AuditEvent.action).where(AuditEvent.action == "ledger.closed")
    ).all()
    assert events == ["ledger.closed"]


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_trial_balance_command_prints_the_accounts_and_json(app, books):
    result = run(app, "ledger", "trial-balance", "--as-of", "2026-11-28")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("2100"))
    assert line.split()[-4:] == ["0.00", "38,499.00", "38,499.00", "Cr"]
    assert result.output.splitlines()[-1].split() == ["Totals", "48,258.98", "48,258.98"]
    doc = json.loads(run(app, "ledger", "trial-balance", "--as-of", "2026-11-28", "--json").output)
    assert doc["totals"] == {"debit": "48258.98", "credit": "48258.98"} and doc["balanced"]
    principal = next(a for a in doc["accounts"] if a["code"] == "1200")
    assert principal == {
        "code": "1200",
        "name": "Loans to borrowers - principal",
        "kind": "asset",
        "debit": "38499.00",
        "credit": "6027.52",
        "balance": "32471.48",
    }
    assert run(app, "ledger", "trial-balance", "--as-of", "28-11-2026").exit_code == 2


def test_the_close_command_refuses_today_and_closes_a_past_date(app, books):
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 2, 7, tzinfo=UTC)
    refused = run(app, "ledger", "close", "--through", "2026-12-02")
    assert refused.exit_code == 2 and "Only a day before today" in refused.output
    closed = run(app, "ledger", "close", "--through", "2026-11-30")
    assert closed.exit_code == 0 and "closed through 2026-11-30" in closed.output


def test_the_approvals_page_proposes_and_a_second_person_decides(app, session, setup, client, auth):
    loan_id = book_loan(client)
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=STAFF).json
    assert pay(client, loan_id, str(Decimal(quote["total"]) + 50), "all").status_code == 201
    maker = login(auth, Role.UNDERWRITER)
    token = csrf_token(client, "/staff/approvals")
    form = {"kind": "write_off", "loan_id": str(loan_id), "reason": "Gone.", "csrf_token": token}
    refused = client.post("/staff/approvals", data=form)
    assert refused.status_code == 422
    assert "Only an active loan can be written off" in refused.get_data(as_text=True)
    missing = client.post("/staff/approvals", data={**form, "kind": "refund"})
    assert missing.status_code == 422 and "A refund needs an amount." in missing.get_data(
        as_text=True
    )
    too_much = client.post("/staff/approvals", data={**form, "kind": "refund", "amount": "50.01"})
    assert too_much.status_code == 422 and "credit balance is Rs 50.00" in too_much.get_data(
        as_text=True
    )
    made = client.post("/staff/approvals", data={**form, "kind": "refund", "amount": "50.00"})
    assert made.status_code == 303
    page = client.get("/staff/approvals").get_data(as_text=True)
    assert "Yours: another member of staff decides." in page
    approval = session.exec(select(Approval)).one()
    mine = client.post(
        f"/staff/approvals/{approval.id}", data={"decision": "approve", "csrf_token": token}
    )
    assert mine.status_code == 403 and "another must" in mine.get_data(as_text=True)
    auth.logout()
    login(auth, Role.ADMIN)
    token = csrf_token(client, "/staff/approvals")
    page = client.get("/staff/approvals").get_data(as_text=True)
    assert 'value="approve"' in page and maker.email in page
    done = client.post(
        f"/staff/approvals/{approval.id}",
        data={"decision": "approve", "note": "Slip seen.", "csrf_token": token},
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Approval, approval.id).status == "approved"
    assert session.get(Loan, loan_id).credit_balance == Decimal("0.00")
    assert "Nothing is waiting." in client.get("/staff/approvals").get_data(as_text=True)


def test_the_income_statement_of_a_month_and_the_charitys_account(app, setup, client, auth):
    """November: a conventional loan's 769.98 fee and 962.48 profit. January: an Islamic
    loan's first instalment and its late charge, paid late: the charge is the charity's."""
    conventional = book_loan(client)
    assert pay(client, conventional, "6990.00", "k1").status_code == 201
    islamic = book_loan(
        client,
        product_code="MURABAHA-12",
        applicant__cnic="61101-1111111-1",
        device__imei=f.imei(330, "35846711"),
        down_payment="11000.00",
    )
    login(auth, Role.UNDERWRITER)
    november = client.get("/staff/ledger/income?month=2026-11").get_data(as_text=True)
    net = re.search(r'id="net"><strong>(.*?)</strong>', november).group(1)
    # the fee at booking, the profit, and the loans' incentive subsidies (2,000.00 each)
    assert net.replace("\xa0", " ") == "Rs 5,732.46"
    from tests.services.test_servicing_record import first, night

    night(app, date(2027, 1, 2))
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 3, 7, tzinfo=UTC)
    row = first(f.UserFactory._meta.sqlalchemy_session, islamic)
    due = row.total + row.late_fee
    paid = pay(client, islamic, str(due), "isl", paid_at="2027-01-03T12:00:00+05:00")
    assert paid.status_code == 201, paid.json
    result = run(app, "ledger", "income", "--month", "2027-01", "--json")
    doc = json.loads(result.output)
    assert doc["charity"] == {
        "received": str(row.late_fee),
        "paid": "0.00",
        "owed_at_month_end": str(row.late_fee),
    }
    assert "4300" not in [r["code"] for r in doc["income"]]
    page = client.get("/staff/ledger/income?month=2027-01").get_data(as_text=True)
    charity = re.search(r'<table class="list compact" id="charity">(.*?)</table>', page, re.S)
    assert charity.group(1).replace("\xa0", " ").count(f"Rs {row.late_fee:,}") == 2
    assert client.get("/staff/ledger/income?month=2027-13").status_code == 422
    assert client.get("/staff/ledger/income?month=0000-01").status_code == 422
    assert run(app, "ledger", "income", "--month", "2027-1-1").exit_code == 2
