"""Local-manufacturer incentives: tagging, discounted terms, budgets, versions, claims."""

import json
import threading
import urllib.request
from decimal import Decimal

import pytest
from sqlmodel import select

from lending.models import IncentiveProgramme, Loan, LoanIncentive
from tests import factories as f
from tests.live import serve
from tests.web.helpers import AGENT, UNDERWRITER, body, post

LOCAL_TAC, IMPORTED_TAC = "35332716", "35392314"  # Galaxy A15 (Lucky Motor), Pixel 8


def phone(serial: int, tac: str) -> dict:
    return {"device__imei": f.imei(serial, tac)}


def cnic(n: int) -> dict:
    return {"applicant__cnic": f"35202{n:07d}3"}


def programme_tags(doc) -> list[dict]:
    return [t for t in doc["incentive_tags"] if t["kind"] == "programme"]


def test_local_phone_gets_discounted_terms_and_a_tag_imported_does_not(setup, client):
    local = post(client, body(**phone(1, LOCAL_TAC), **cnic(1))).json
    imported = post(client, body(**phone(2, IMPORTED_TAC), **cnic(2))).json
    assert local["status"] == imported["status"] == "approved"
    [tag] = programme_tags(local)
    assert (tag["code"], tag["version"], tag["markup_discount_bp"]) == ("DPL-2026", 1, 600)
    assert {"kind": "device", "code": "assembled_in_pk"}.items() <= local["incentive_tags"][
        0
    ].items()
    assert programme_tags(imported) == []
    # Same price, down payment and tenor: only the rate differs (36% - 6 points = 30%).
    assert local["offer"]["financed_amount"] == imported["offer"]["financed_amount"]
    assert Decimal(local["offer"]["total_profit"]) < Decimal(imported["offer"]["total_profit"])
    assert Decimal(local["offer"]["apr"]) < Decimal(imported["offer"]["apr"])


def test_programme_lowers_the_minimum_down_payment_for_local_phones_only(setup, client):
    low_down = {"down_payment": "8500.00"}  # 15.5% of 54,999; the product asks for 25%
    local = post(client, body(**phone(3, LOCAL_TAC), **cnic(3), **low_down)).json
    imported = post(client, body(**phone(4, IMPORTED_TAC), **cnic(4), **low_down)).json
    assert local["status"] == "approved"
    assert imported["status"] == "declined"
    assert imported["reasons"][0]["code"] == "down_payment_below_minimum"


def test_booked_loan_keeps_its_tag_when_the_programme_is_revised(setup, session, client):
    from lending.services.programmes import revise_programme

    doc = post(client, body(**phone(5, LOCAL_TAC), **cnic(5))).json
    loan_id = client.post(f"/api/v1/applications/{doc['id']}/accept", headers=AGENT).json["loan_id"]
    v1 = session.exec(select(IncentiveProgramme)).one()
    changes = {
        k: getattr(v1, k)
        for k in (
            "name",
            "sponsor",
            "valid_from",
            "valid_to",
            "local_only",
            "max_device_price",
            "subsidy_per_loan",
            "min_down_payment_pct",
            "budget_count",
            "budget_amount",
        )
    }
    revise_programme(
        session=session, code="DPL-2026", data={**changes, "markup_discount_bp": 200}, user_id=None
    )
    session.commit()
    tag = session.exec(select(LoanIncentive).where(LoanIncentive.loan_id == loan_id)).one()
    assert (tag.programme_version, tag.markup_discount_bp, tag.subsidy) == (
        1,
        600,
        Decimal("2000.00"),
    )
    assert session.get(Loan, loan_id).annual_rate == Decimal("30.0000")
    later = post(client, body(**phone(6, LOCAL_TAC), **cnic(6))).json
    assert programme_tags(later)[0]["version"] == 2
    assert programme_tags(later)[0]["markup_discount_bp"] == 200
    session.expire_all()
    current = session.exec(select(IncentiveProgramme).where(IncentiveProgramme.current)).one()
    assert current.used_count == 2  # the budget carries over between versions


def limit_budget(session, count: int) -> None:
    programme = session.exec(select(IncentiveProgramme)).one()
    programme.budget_count = count
    session.commit()


def test_budget_cap_stops_tagging_exactly_at_the_cap(setup, session, client):
    limit_budget(session, 3)
    docs = [post(client, body(**phone(10 + i, LOCAL_TAC), **cnic(10 + i))).json for i in range(5)]
    assert [bool(programme_tags(d)) for d in docs] == [True, True, True, False, False]
    session.expire_all()
    assert session.exec(select(IncentiveProgramme)).one().used_count == 3


def test_declined_application_takes_no_budget(setup, session, client):
    # A declined application never reserves (budgets are taken after the decision); one
    # that reserves and is then declined gives it back: see
    # test_incentive_budgets_independent.py::test_a_declined_application_gives_back_...
    limit_budget(session, 1)
    declined = post(
        client, body(**phone(20, LOCAL_TAC), **cnic(20), applicant__monthly_income="9000.00")
    ).json
    assert declined["status"] == "declined" and programme_tags(declined) == []
    session.expire_all()
    spent = session.exec(select(IncentiveProgramme)).one()
    assert (spent.used_count, spent.used_amount) == (0, Decimal("0.00"))
    approved = post(client, body(**phone(21, LOCAL_TAC), **cnic(21))).json
    assert programme_tags(approved)[0]["code"] == "DPL-2026"


@pytest.mark.postgres_only
def test_budget_cap_holds_under_concurrent_applications(app, setup, session, backend):
    if backend != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL, where requests really run in parallel")
    limit_budget(session, 5)
    results: list[dict] = []

    def apply(base: str, i: int) -> None:
        data = json.dumps(body(**phone(100 + i, LOCAL_TAC), **cnic(100 + i))).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/applications",
            data=data,
            headers={**AGENT, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            results.append(json.loads(response.read()))

    with serve(app) as base:
        threads = [threading.Thread(target=apply, args=(base, i)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 20 and all(r["status"] == "approved" for r in results)
    assert sum(bool(programme_tags(r)) for r in results) == 5
    session.expire_all()
    assert session.exec(select(IncentiveProgramme)).one().used_count == 5


def book(client, serial: int, tac: str) -> int:
    doc = post(client, body(**phone(serial, tac), **cnic(serial))).json
    return client.post(f"/api/v1/applications/{doc['id']}/accept", headers=AGENT).json["loan_id"]


def test_claims_report_totals_equal_the_tagged_loans(setup, session, client):
    from lending.models.enums import LoanStatus
    from lending.services.lifecycle import cancel_in_cooling_off
    from tests.web.helpers import NOW

    loan_ids = [
        book(client, 30, LOCAL_TAC),
        book(client, 31, "86711205"),
        book(client, 32, LOCAL_TAC),
        book(client, 33, IMPORTED_TAC),
    ]
    cancelled = cancel_in_cooling_off(  # cancelled in its cooling-off period
        session=session, loan_id=book(client, 34, LOCAL_TAC), user_id=None, now=NOW
    )
    session.commit()
    assert cancelled.status == LoanStatus.CANCELLED
    report = client.get("/api/v1/reports/incentive-claims?month=2026-11", headers=UNDERWRITER)
    assert report.status_code == 200
    doc = report.json
    tagged = [session.get(Loan, i) for i in loan_ids[:3]]
    assert doc["totals"] == {
        "loans": 3,
        "subsidy": "6000.00",
        "financed_amount": f"{sum(loan.principal for loan in tagged):.2f}",
    }
    by_maker = {line["manufacturer"]: line for line in doc["lines"]}
    assert set(by_maker) == {"Samsung", "Xiaomi"}
    assert by_maker["Samsung"]["loans"] == 2 and by_maker["Samsung"]["subsidy"] == "4000.00"
    assert sorted(by_maker["Samsung"]["imeis"]) == sorted([tagged[0].imei, tagged[2].imei])
    assert cancelled.imei not in by_maker["Samsung"]["imeis"]
    # The ledger's subsidy receivable for the month's loans agrees: the cancellation's
    # contra entry took its subsidy back.
    assert doc["ledger"] == {
        "claimed": "6000.00",
        "ledger": "6000.00",
        "difference": "0.00",
        "received": "0.00",
        "outstanding": "6000.00",
    }
    csv = client.get(
        "/api/v1/reports/incentive-claims?month=2026-11&format=csv", headers=UNDERWRITER
    )
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).count("DPL-2026") == 2
    empty = client.get("/api/v1/reports/incentive-claims?month=2026-10", headers=UNDERWRITER)
    assert empty.json["totals"]["loans"] == 0


def test_claims_report_input_and_access(setup, client):
    bad = client.get("/api/v1/reports/incentive-claims?month=2026-13", headers=UNDERWRITER)
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["month"]
    assert (
        client.get("/api/v1/reports/incentive-claims?month=2026-11", headers=AGENT).status_code
        == 403
    )


def test_imei_look_up(setup, client):
    local = client.get(f"/api/v1/devices/{f.imei(40, LOCAL_TAC)}", headers=AGENT).json
    assert (local["known"], local["manufacturer"], local["assembled_in_pk"]) == (
        True,
        "Samsung",
        True,
    )
    assert [p["code"] for p in local["programmes"]] == ["DPL-2026"]
    imported = client.get(f"/api/v1/devices/{f.imei(41, IMPORTED_TAC)}", headers=AGENT).json
    assert imported["assembled_in_pk"] is False and imported["programmes"] == []
    unknown = client.get(f"/api/v1/devices/{f.imei(42, '99999999')}", headers=AGENT).json
    assert unknown["known"] is False and unknown["tac"] == "99999999"
    bad = client.get("/api/v1/devices/353327160000011", headers=AGENT)  # wrong check digit
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["imei"]


def test_a_sponsors_payment_of_a_claim_settles_it_in_the_ledger(setup, session, client):
    """Two Galaxy A15 loans in November: Rs 4,000 claimed from DPL-2026's sponsor, paid in
    two parts; never more than is outstanding, each bank reference once."""
    from datetime import date

    from lending.services import ledger

    book(client, 40, LOCAL_TAC)
    book(client, 41, LOCAL_TAC)
    url = "/api/v1/reports/incentive-claims/receipts"
    payment = {
        "month": "2026-11",
        "programme": "DPL-2026",
        "amount": "2500.00",
        "reference": "MCB-0001",
        "received_on": "2026-11-28",
    }
    first = client.post(url, json=payment, headers=UNDERWRITER)
    assert first.status_code == 201, first.json
    assert (first.json["amount"], first.json["outstanding"]) == ("2500.00", "1500.00")
    books = {r.code: r.balance for r in ledger.trial_balance(session, date(2026, 12, 31)).rows}
    assert (books["1250"], books["1100"]) == (Decimal("1500.00"), Decimal("2500.00"))
    assert ledger.tie_out(session.get_bind())["differences"] == 0
    too_much = client.post(
        url, json={**payment, "amount": "1500.01", "reference": "MCB-0002"}, headers=UNDERWRITER
    )
    assert too_much.status_code == 422
    assert too_much.json["errors"]["amount"] == [
        "DPL-2026's claim for 2026-11 has Rs 1,500.00 outstanding."
    ]
    again = client.post(url, json={**payment, "amount": "100.00"}, headers=UNDERWRITER)
    assert again.status_code == 409
    future = client.post(
        url, json={**payment, "reference": "X", "received_on": "2026-12-01"}, headers=UNDERWRITER
    )
    assert future.status_code == 422 and "received_on" in future.json["errors"]
    unknown = client.post(
        url, json={**payment, "programme": "NOPE", "reference": "Y"}, headers=UNDERWRITER
    )
    assert unknown.status_code == 422
    year_zero = client.post(url, json={**payment, "month": "0000-01"}, headers=UNDERWRITER)
    assert year_zero.status_code == 422 and list(year_zero.json["errors"]) == ["month"]
    assert client.post(url, json=payment, headers=AGENT).status_code == 403
    rest = client.post(
        url, json={**payment, "amount": "1500.00", "reference": "MCB-0002"}, headers=UNDERWRITER
    )
    assert rest.json["outstanding"] == "0.00"
    doc = client.get("/api/v1/reports/incentive-claims?month=2026-11", headers=UNDERWRITER).json
    assert doc["ledger"]["received"] == "4000.00" and doc["ledger"]["outstanding"] == "0.00"
    assert ledger.tie_out(session.get_bind())["differences"] == 0
