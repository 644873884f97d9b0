"""The reference cache: products, registry and programmes read once per process, never stale
after this process writes them, and at most `reference_cache_seconds` stale after another does."""

from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from lending.models import IncentiveProgramme, Product
from lending.models.snapshot import Snapshot
from lending.services import reference
from lending.services.reference import ReferenceCache
from tests import factories as f
from tests.perf_budgets.test_query_budgets import statements
from tests.web.helpers import body, post

REFERENCE_TABLES = ("products", "device_tacs", "incentive_programmes")


def reference_reads(sent: list[str]) -> list[str]:
    return [
        s
        for s in sent
        if s.lstrip().upper().startswith("SELECT")
        and any(f"FROM {t}" in s for t in REFERENCE_TABLES)
    ]


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(reference.time, "monotonic", lambda: now[0])
    return now


def test_a_warm_cache_reads_no_reference_table(app, setup, client):
    assert post(client, body()).status_code == 201  # warms products, the TAC, programmes
    with statements(app) as sent:
        response = post(client, body(applicant__cnic="35202-7654321-1", device__imei=f.imei(2)))
    assert response.status_code == 201
    assert reference_reads(sent) == []


def test_a_product_switched_off_here_is_refused_at_once(app, setup, client, session):
    assert post(client, body()).status_code == 201
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    product.active = False
    session.commit()
    response = post(client, body(applicant__cnic="35202-7654321-1", device__imei=f.imei(2)))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"product_code": ["Unknown or inactive product."]}


def test_another_process_is_seen_within_the_time_to_live(app, setup, client, database_url, clock):
    assert post(client, body()).status_code == 201
    other = create_engine(database_url)  # another worker: its writes never reach our session
    with other.begin() as conn:
        conn.execute(text("UPDATE products SET active = false WHERE code = 'QIST-STD'"))
    other.dispose()
    second = body(applicant__cnic="35202-7654321-1", device__imei=f.imei(2))
    clock[0] += app.extensions["lending.settings"].reference_cache_seconds - 1
    assert post(client, second).status_code == 201  # still inside the time to live
    clock[0] += 2
    third = body(applicant__cnic="35202-1111111-1", device__imei=f.imei(3))
    assert post(client, third).status_code == 422


def test_a_budget_spent_elsewhere_is_not_granted_and_the_cache_learns_it(
    app, setup, client, session, database_url
):
    first = post(client, body()).get_json()
    assert [t["code"] for t in first["incentive_tags"] if t["kind"] == "programme"]
    programme = session.exec(select(IncentiveProgramme).where(IncentiveProgramme.current)).first()
    other = create_engine(database_url)  # the budget runs out in another worker
    with other.begin() as conn:
        conn.execute(
            text("UPDATE incentive_programmes SET budget_count = used_count WHERE id = :id"),
            {"id": programme.id},
        )
    other.dispose()
    second = post(client, body(applicant__cnic="35202-7654321-1", device__imei=f.imei(2)))
    assert second.status_code == 201
    assert programme.code not in [t.get("code") for t in second.get_json()["incentive_tags"]]
    with statements(app) as sent:  # forgotten: the next one reads the programmes again
        third = post(client, body(applicant__cnic="35202-1111111-1", device__imei=f.imei(3)))
    assert third.status_code == 201
    assert any("FROM incentive_programmes" in s for s in sent)
    session.expire_all()
    spent = session.get(IncentiveProgramme, programme.id)
    assert spent.used_count == spent.budget_count == 1  # only the first application's unit


def test_snapshots_are_read_only_copies(app, setup, session):
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    copy = Snapshot(product)
    assert copy.annual_rate == product.annual_rate and copy.tenors == tuple(product.tenors)
    with pytest.raises(AttributeError, match="read-only"):
        copy.annual_rate = Decimal("0")
    with pytest.raises(AttributeError, match="no column"):
        _ = copy.not_a_column


def test_entries_expire_are_bounded_and_a_racing_load_is_not_kept(clock):
    cache = ReferenceCache(ttl=10, size=2)
    loads = []

    def load(value):
        loads.append(value)
        return value

    assert cache.get("a", lambda: load(1)) == 1
    assert cache.get("a", lambda: load(2)) == 1  # cached
    clock[0] += 11
    assert cache.get("a", lambda: load(3)) == 3  # expired
    cache.get("b", lambda: load(4))
    cache.get("c", lambda: load(5))  # over the size: the oldest, "a", goes
    assert cache.get("a", lambda: load(6)) == 6

    def racing():
        cache.forget()  # a write in this process while the value was read
        return "stale"

    assert cache.get("d", racing) == "stale"
    assert cache.get("d", lambda: load("fresh")) == "fresh"
    assert loads == [1, 3, 4, 5, 6, "fresh"]


def test_no_cache_when_switched_off(database_url):
    from lending import create_app
    from lending.db import get_engine

    app = create_app({"env": "testing", "database_url": database_url, "reference_cache_seconds": 0})
    try:
        cache = reference._CACHES[get_engine(app)]
        calls = []
        cache.get("k", lambda: calls.append(1))
        cache.get("k", lambda: calls.append(1))
        assert calls == [1, 1]
    finally:
        get_engine(app).dispose()
