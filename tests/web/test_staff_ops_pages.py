"""Staff home, job runs and the audit log; the shop's loans, scoped to the shop."""

import re
from datetime import UTC, date, datetime

import pytest

from lending.models.enums import JobStatus, Role
from tests import factories as f


@pytest.fixture
def underwriter(session, auth):
    user = f.UserFactory(role=Role.UNDERWRITER, email="uw@example.pk")
    auth.login(user.email, f.PASSWORD)
    return user


def rows(page: str, table: str) -> list[str]:
    body = re.search(rf'id="{table}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [re.sub(r"<[^>]+>|\s+", " ", r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_staff_home_links_every_staff_page(underwriter, client):
    page = client.get("/staff").get_data(as_text=True)
    for path in [
        "/staff/referrals",
        "/staff/dashboard",
        "/staff/products",
        "/staff/registry",
        "/staff/programmes",
        "/staff/claims",
        "/staff/jobs",
        "/staff/audit",
        "/retailer/loans",
    ]:
        assert f'href="{path}"' in page, path


def test_job_runs_filter_by_job_and_status_newest_first_paged(underwriter, client):
    f.JobRunFactory(job="nightly", status=JobStatus.FAILED, error="OperationalError: gone")
    for day in range(1, 28):
        f.JobRunFactory(
            job="nightly.ageing", as_of=date(2026, 10, day), duration_ms=1234, counts={"loans": day}
        )
    page = client.get("/staff/jobs?job=nightly.ageing&status=succeeded").get_data(as_text=True)
    found = rows(page, "runs")
    assert "27 runs" in page and len(found) == 25
    assert "2026-10-27" in found[0] and "loans: 27" in found[0] and "1.2 s" in found[0]
    second = client.get("/staff/jobs?job=nightly.ageing&status=succeeded&page=2")
    assert len(rows(second.get_data(as_text=True), "runs")) == 2
    failed = client.get("/staff/jobs?status=failed").get_data(as_text=True)
    assert len(rows(failed, "runs")) == 1 and "OperationalError: gone" in failed


def test_a_bad_job_filter_is_422_beside_the_field(underwriter, client):
    response = client.get("/staff/jobs?status=exploded")
    assert response.status_code == 422
    assert 'id="status-error">Not a choice.' in response.get_data(as_text=True)


def test_audit_log_filters_by_action_actor_object_and_dates(underwriter, session, client):
    at = datetime(2025, 5, 31, 20, 0, tzinfo=UTC)  # 1 June, 01:00 in Karachi
    f.AuditEventFactory(
        action="product.created",
        at=datetime(2025, 5, 20, tzinfo=UTC),
        object_type="products",
        object_id="4",
    )
    f.AuditEventFactory(
        action="product.revised",
        actor_id=underwriter.id,
        at=at,
        object_type="products",
        object_id="3",
        after={"late_fee_fixed": "750.00"},
    )
    f.AuditEventFactory(action="loan.booked", at=at, object_type="loans", object_id="3")
    by_prefix = client.get("/staff/audit?action=product.").get_data(as_text=True)
    actions = [r.split()[0] for r in rows(by_prefix, "events")]
    assert actions == ["product.revised", "product.created"]  # newest first
    by_actor = client.get("/staff/audit?actor=UW@example.pk&action=product").get_data(as_text=True)
    assert len(rows(by_actor, "events")) == 1 and "750.00" in by_actor
    by_object = client.get("/staff/audit?object_type=loans&object_id=3").get_data(as_text=True)
    assert [r.split()[0] for r in rows(by_object, "events")] == ["loan.booked"]
    by_day = client.get("/staff/audit?date_from=2025-06-01&date_to=2025-06-01")
    assert len(rows(by_day.get_data(as_text=True), "events")) == 2  # the local day counts


def test_an_inverted_date_range_is_422(underwriter, client):
    response = client.get("/staff/audit?date_from=2026-11-28&date_to=2026-11-01")
    assert response.status_code == 422
    assert 'id="date_to-error">Must not be before the start.' in response.get_data(as_text=True)


def test_shops_may_not_open_staff_pages(session, client, auth):
    agent = f.UserFactory(retailer=True)
    auth.login(agent.email, f.PASSWORD)
    for path in ["/staff", "/staff/jobs", "/staff/audit"]:
        assert client.get(path).status_code == 403, path


def test_a_shop_sees_only_its_own_loans_paged_on_the_database(session, client, auth):
    agent = f.UserFactory(retailer=True)
    mine = [
        f.LoanFactory(application=f.ApplicationFactory(retailer_id=agent.retailer_id))
        for _ in range(26)
    ]
    f.InstalmentFactory(loan_id=mine[-1].id, principal="3000.00", paid_principal="1000.55")
    foreign = f.LoanFactory()
    auth.login(agent.email, f.PASSWORD)
    first = client.get("/retailer/loans").get_data(as_text=True)
    listed = rows(first, "loans")
    assert "26 loans" in first and len(listed) == 25
    assert listed[0].split()[0] == str(mine[-1].id) and "Rs 1,999.45" in listed[0].replace(
        "\xa0", " "
    )
    second = rows(client.get("/retailer/loans?page=2").get_data(as_text=True), "loans")
    assert [r.split()[0] for r in second] == [str(mine[0].id)]
    assert client.get(f"/retailer/loans/{foreign.id}").status_code == 404
    assert client.get(f"/retailer/loans/{mine[0].id}").status_code == 302


def test_loan_filters_by_status_and_refuses_unknown_ones(session, client, auth):
    agent = f.UserFactory(retailer=True)
    application = f.ApplicationFactory(retailer_id=agent.retailer_id)
    f.LoanFactory(application=application, status="closed")
    auth.login(agent.email, f.PASSWORD)
    assert (
        len(rows(client.get("/retailer/loans?status=closed").get_data(as_text=True), "loans")) == 1
    )
    assert "No loans match." in client.get("/retailer/loans?status=active").get_data(as_text=True)
    assert client.get("/retailer/loans?status=lost").status_code == 422
