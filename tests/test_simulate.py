"""The portfolio simulator on a tiny book: every borrower kind happens, the book stays equal to
its replay and no invariant breaks (SQLite, and PostgreSQL with TEST_DATABASE_URL)."""

from scripts import simulate


def test_a_small_portfolio_replays_clean(database_url, capsys):
    report = simulate.run(
        ["--loans", "30", "--days", "60", "--seed", "3", "--database-url", database_url]
    )
    printed = capsys.readouterr().out

    assert len(report.booked.loans) == 30
    assert set(report.kinds) == set(simulate.KINDS)
    assert all(report.happened.values()), report.happened  # each kind, and a staff waiver
    assert report.book["fees charged"] and report.book["fees reversed"]
    assert report.book["signals lock"] and report.book["reminders sms"]
    assert report.checked == 30
    assert report.mismatch_count == 0, report.mismatches
    assert report.violation_count == 0, {k: v for k, v in report.violations.items() if v}
    assert report.exit_code == 0
    assert "replay mismatches: 0" in printed and "invariant violations: 0" in printed
