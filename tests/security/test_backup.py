"""`lending db backup` / `lending db restore` for SQLite; PostgreSQL is sent to pg_dump."""

from sqlalchemy import func, select

from lending.models import Loan, Payment
from tests.web.helpers import AGENT
from tests.web.servicing import book_loan, pay


def payments(session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(Payment)).scalar_one()


def test_backup_then_restore_brings_back_the_books(app, session, client, setup, backend, tmp_path):
    runner = app.test_cli_runner()
    copy = tmp_path / "qist-backup.db"
    if backend == "postgresql":
        result = runner.invoke(args=["db", "backup", str(copy)])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    loan_id = book_loan(client)
    assert pay(client, loan_id, "1000.00", key="before-backup").status_code == 201
    result = runner.invoke(args=["db", "backup", str(copy)])
    assert result.exit_code == 0, result.output
    assert pay(client, loan_id, "2000.00", key="after-backup").status_code == 201
    assert payments(session) == 2
    session.close()
    result = runner.invoke(args=["db", "restore", str(copy)])
    assert result.exit_code == 0, result.output
    assert payments(session) == 1  # back to the moment of the backup
    assert session.get(Loan, loan_id) is not None
    assert client.get(f"/api/v1/loans/{loan_id}", headers=AGENT).status_code == 200


def test_restore_refuses_a_file_that_is_not_a_database(app, backend, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = app.test_cli_runner().invoke(args=["db", "restore", str(junk)])
    assert result.exit_code != 0
    expected = "pg_dump" if backend == "postgresql" else "not a sound SQLite database"
    assert expected in result.output
