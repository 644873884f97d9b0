"""Ageing: days past due from instalments in arrears, written only where they change."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, text
from sqlmodel import func, select

from lending.db import get_engine
from lending.models import Loan, LoanSnapshot
from lending.models.enums import Bucket, Classification, JobStatus
from lending.services.nightly import ageing, runner
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


# A forward night reads only the loans whose ageing can have changed since the last ageing.
MARCH_11 = date(2026, 3, 11)
EVENING_10 = datetime(2026, 3, 10, 19, 30, tzinfo=UTC)  # 00:30 in Karachi: the night of 11 March
NOON_10 = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # during 10 March, after that night's clock


def night(engine, day: date, now: datetime, job: str = runner.NIGHTLY) -> dict:
    """Run the ageing step of a night as the runner does (its job runs, the night's clock)."""
    config = runner.NightlyConfig(clock=lambda: now)
    steps = runner.step_functions(config, replay=job == runner.REPLAY)
    return runner.run_night(engine, job, day, {"ageing": steps["ageing"]})["ageing"]


@pytest.fixture
def more(session, book) -> dict[str, int]:
    """Besides `book`: a loan whose 4,145.00 falls due on 10 March, one due in April."""
    for name, due in (("due_10", date(2026, 3, 10)), ("april", date(2026, 4, 5))):
        loan = f.LoanFactory()
        f.InstalmentFactory(loan_id=loan.id, n=1, due_date=due, tolerance=D("10.00"))
        book[name] = loan.id
    return book


def full_ageing_changes(engine, day: date) -> int:
    """How many loans a whole-book ageing for `day` would still change (0: all were right)."""
    return ageing.age(engine, day)["changed"]


def test_a_forward_night_reads_only_the_loans_that_can_have_changed(app, session, more):
    engine = get_engine(app)
    first = night(engine, MARCH_10, datetime(2026, 3, 9, 19, 30, tzinfo=UTC))
    assert "since" not in first and first["loans"] == 6  # the first night: the whole book
    assert first["through"] == "2026-03-09T19:30:00+00:00"
    second = night(engine, MARCH_11, EVENING_10)
    # The two past due (a day on) and the one whose instalment fell due on 10 March; not the
    # paid, the short-within-tolerance or the April loan.
    assert (second["since"], second["loans"], second["changed"]) == ("2026-03-10", 3, 3)
    state = dpd(session)
    assert state[more["due_10"]][:3] == (1, Bucket.DPD_1_30, Classification.REGULAR)
    assert state[more["unpaid"]][0] == 34 and state[more["short_15"]][0] == 34
    assert state[more["april"]][0] == 0 and state[more["paid"]][0] == 0
    assert full_ageing_changes(engine, MARCH_11) == 0


def test_inputs_and_loans_recorded_since_the_last_ageing_are_read_again(app, session, more):
    engine = get_engine(app)
    night(engine, MARCH_10, datetime(2026, 3, 9, 19, 30, tzinfo=UTC))
    from lending.models import Instalment
    from lending.models.enums import TxnKind

    def instalment(loan_id):
        return session.exec(select(Instalment).where(Instalment.loan_id == loan_id)).one()

    # The unpaid loan is paid in full, the paid one's payment is reversed (bounced), during
    # 10 March; a loan is booked that day whose first instalment was due in February, unpaid.
    cured, bounced = instalment(more["unpaid"]), instalment(more["paid"])
    cured.paid_principal, cured.paid_profit = D("3000.00"), D("1145.00")
    bounced.paid_principal, bounced.paid_profit = D("0"), D("0")
    f.LoanTransactionFactory(loan_id=more["unpaid"], kind=TxnKind.PAYMENT, created_at=NOON_10)
    f.LoanTransactionFactory(loan_id=more["paid"], kind=TxnKind.REVERSAL, created_at=NOON_10)
    booked = f.LoanFactory()
    f.InstalmentFactory(loan_id=booked.id, n=1, tolerance=D("10.00"))
    f.LoanTransactionFactory(loan_id=booked.id, kind=TxnKind.DISBURSEMENT, created_at=NOON_10)
    session.commit()
    counts = night(engine, MARCH_11, EVENING_10)
    assert counts["since"] == "2026-03-10"
    state = dpd(session)
    assert state[more["unpaid"]][:3] == (0, Bucket.CURRENT, Classification.REGULAR)
    assert state[more["paid"]][:3] == (34, Bucket.DPD_31_60, Classification.SUBSTANDARD)
    assert state[booked.id][0] == 34
    assert full_ageing_changes(engine, MARCH_11) == 0


def test_an_input_recorded_a_moment_before_the_last_ageing_read_is_read_again(app, session, more):
    """A payment recorded just before the night's clock may commit after the ageing read."""
    engine = get_engine(app)
    night(engine, MARCH_10, EVENING_10 - timedelta(days=1))
    from lending.models import Instalment
    from lending.models.enums import TxnKind

    row = session.exec(select(Instalment).where(Instalment.loan_id == more["paid"])).one()
    row.paid_principal, row.paid_profit = D("0"), D("0")
    recorded = EVENING_10 - timedelta(days=1, seconds=30)  # 30 s before the first night's clock
    f.LoanTransactionFactory(loan_id=more["paid"], kind=TxnKind.REVERSAL, created_at=recorded)
    session.commit()
    night(engine, MARCH_11, EVENING_10)
    assert dpd(session)[more["paid"]][0] == 34


@pytest.mark.parametrize("why", ["failed", "no clock", "month end", "replay"])
def test_the_whole_book_is_read_when_the_last_ageing_cannot_be_built_on(app, session, more, why):
    engine = get_engine(app)
    night(engine, MARCH_10, datetime(2026, 3, 9, 19, 30, tzinfo=UTC))
    day, job = MARCH_11, runner.NIGHTLY
    if why == "failed":  # an ageing that failed after it may have aged some ranges only
        f.JobRunFactory(job="nightly.ageing", as_of=MARCH_10, status=JobStatus.FAILED)
    elif why == "no clock":  # an ageing that did not record how far it read
        f.JobRunFactory(job="nightly.ageing", as_of=MARCH_10, counts={"loans": 6})
    elif why == "month end":  # the snapshots read every loan
        day = date(2026, 3, 31)
    else:
        job = runner.REPLAY
    session.commit()
    counts = night(engine, day, EVENING_10, job)
    assert "since" not in counts and counts["loans"] == 6
