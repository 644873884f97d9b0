"""Every application reads the book's loans on its applicant and its IMEI: that read must go
through the applicant and IMEI indexes, never scan loans by status (most loans are active,
so a status scan grows with the whole book)."""

from sqlalchemy import event

from lending.db import get_engine
from tests import factories as f
from tests.web.helpers import body, post


def captured_history_read(app, client) -> tuple[str, dict]:
    """The statement (and parameters) with which an application reads the loan history."""
    found = []

    def note(_conn, _cursor, statement, parameters, _context, _executemany):
        if "loans" in statement and "imei" in statement:
            found.append((statement, parameters))

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert post(client, body(device__imei=f.imei(42))).status_code == 201
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len(found) == 1, found
    return found[0]


def test_the_history_read_uses_the_applicant_and_imei_indexes(app, setup, client, backend):
    sql, parameters = captured_history_read(app, client)
    raw = get_engine(app).raw_connection()
    try:
        cursor = raw.cursor()
        if backend == "postgresql":
            cursor.execute("SET enable_seqscan = off")  # an empty table must not hide the plan
            cursor.execute("EXPLAIN " + sql, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    finally:
        raw.rollback()
        raw.close()
    assert "ix_loans_applicant_id" in plan, plan
    assert "ix_loans_imei" in plan, plan
    assert "ix_loans_status" not in plan, plan
