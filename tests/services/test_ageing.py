"""Ageing: days past due from instalments in arrears, written only where they change."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, text
from sqlmodel import func, select

from lending.db import get_engine
from lending.models import Loan, LoanSnapshot
from lending.models.enums import Bucket, Classification
from lending.services.nightly import ageing
from tests import factories as f

D = Decimal
MARCH_10 = date(2026, 3, 10)  # 33 days after the first due date, 2026-02-05


@pytest.fixture
def book(session) -> dict[str, int]:
    """Four loans, each with one instalment due 2026-02-05 of 4,145.00 (tolerance 10.00)."""
    paid = {  # paid principal and profit of the 3,000.00 + 1,145.00 due
        "paid": ("3000.00", "1145.00"),
        "unpaid": ("0", "0"),
        "short_5": ("3000.00", "1140.00"),  # short by 5.00: within the tolerance
        "short_15": ("3000.00", "1130.00"),  # short by 15.00: in arrears
    }
    loans = {}
    for name, (principal, profit) in paid.items():
        loan = f.LoanFactory()
        f.InstalmentFactory(
            loan_id=loan.id,
            n=1,
            paid_principal=D(principal),
            paid_profit=D(profit),
            tolerance=D("10.00"),
        )
        loans[name] = loan.id
    return loans


def dpd(session) -> dict[int, tuple]:
    session.expire_all()
    return {
        loan.id: (loan.days_past_due, loan.bucket, loan.classification, loan.aged_on)
        for loan in session.exec(select(Loan))
    }


def test_an_instalment_short_by_no_more_than_its_tolerance_is_not_overdue(app, session, book):
    ageing.age(get_engine(app), MARCH_10)
    state = dpd(session)
    assert state[book["short_5"]][0] == 0
    assert state[book["short_15"]][:3] == (33, Bucket.DPD_31_60, Classification.SUBSTANDARD)
    assert state[book["unpaid"]][0] == 33 and state[book["paid"]][0] == 0


def xmins(session) -> dict[int, str]:
    """PostgreSQL's row version of each loan: it changes only when the row is written."""
    return dict(session.exec(text("SELECT id, xmin::text FROM loans")).all())


def test_ageing_writes_only_the_loans_whose_state_changes(app, session, book, backend):
    engine = get_engine(app)
    first = ageing.age(engine, MARCH_10)
    assert (first["loans"], first["changed"], first["overdue"]) == (4, 2, 2)
    state = dpd(session)
    assert state[book["unpaid"]][3] == MARCH_10  # aged_on: the night that changed it
    assert state[book["paid"]][3] is None and state[book["short_5"]][3] is None
    versions = xmins(session) if backend == "postgresql" else None
    again = ageing.age(engine, MARCH_10)
    assert (again["loans"], again["changed"], again["overdue"]) == (4, 0, 2)
    assert dpd(session) == state
    if backend == "postgresql":
        session.commit()
        assert xmins(session) == versions  # not one row rewritten
    later = ageing.age(engine, date(2026, 3, 11))
    assert later["changed"] == 2
    after = dpd(session)
    assert after[book["unpaid"]][:1] == (34,) and after[book["unpaid"]][3] == date(2026, 3, 11)
    assert after[book["paid"]] == state[book["paid"]]


def test_a_cured_loan_is_written_back_to_current(app, session, book):
    engine = get_engine(app)
    ageing.age(engine, MARCH_10)
    from lending.models import Instalment

    instalment = session.exec(select(Instalment).where(Instalment.loan_id == book["unpaid"])).one()
    instalment.paid_principal, instalment.paid_profit = D("3000.00"), D("1145.00")
    session.commit()
    counts = ageing.age(engine, date(2026, 3, 11))
    assert counts["changed"] == 2  # the cured loan back to 0, the short one to 34
    assert dpd(session)[book["unpaid"]][:3] == (0, Bucket.CURRENT, Classification.REGULAR)


def test_month_end_counts_the_snapshot_rows_it_writes(app, session, book):
    counts = ageing.age(get_engine(app), date(2026, 3, 31))
    rows = session.exec(select(func.count()).select_from(LoanSnapshot)).one()
    assert rows == 4 and counts["snapshots"] == 4


def test_each_key_range_reads_only_its_own_instalments(app, session, book, monkeypatch):
    engine = get_engine(app)
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    monkeypatch.setattr(ageing, "BATCH", 2)  # two ranges of two loans
    event.listen(engine, "before_cursor_execute", note)
    try:
        counts = ageing.age(engine, MARCH_10)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE LOANS")]
    assert len(updates) == 2 and counts["changed"] == 2
    for statement in updates:  # bounded on instalments.loan_id, not only joined to loans.id
        assert re.search(r"instalments\.loan_id (>=|BETWEEN)", statement), statement
        assert re.search(r"instalments\.loan_id <=|BETWEEN", statement), statement
    state = dpd(session)
    assert [state[book[name]][0] for name in ("paid", "unpaid", "short_5", "short_15")] == [
        0,
        33,
        0,
        33,
    ]
