"""Registry CSV import: bad rows rejected with the reason, good rows kept, nothing half-written."""

from sqlmodel import func, select

from lending.models import DeviceModel, DeviceTac, Manufacturer

CSV = """manufacturer,brands,assembled_in_pk,assembler,authorisation_ref,model,list_price,tacs
Tecno,Tecno,true,Transsion local plant (Karachi),PTA-1,Camon 30,45999,35111111;35111112
Tecno,Tecno,true,Transsion local plant (Karachi),PTA-1,Spark 30,29999,3511113
Nokia,Nokia,true,,,Nokia C32,24999,35222222
Tecno,Tecno,true,Transsion local plant (Karachi),PTA-1,Pova 6,52999,35333333;35111111
Apple,Apple,false,,,iPhone 16,399999,35444444
"""


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_import_keeps_good_rows_and_reports_bad_ones(session):
    from lending.services.registry import import_devices

    report = import_devices(session, CSV)
    session.commit()
    assert (report.rows, report.imported, report.tacs_added) == (5, 2, 3)
    assert report.errors == [
        (3, "tacs: A TAC is the first 8 digits of an IMEI; not valid: 3511113."),
        (4, "assembler: A locally assembled brand names its assembler."),
        (5, "TAC 35111111 already belongs to Camon 30."),
    ]
    # Row 5 failed on its second TAC: its model and first TAC were rolled back with it.
    assert count(session, DeviceTac) == 3
    names = set(session.exec(select(DeviceModel.name)).all())
    assert names == {"Camon 30", "iPhone 16"}
    assert count(session, Manufacturer) == 2


def test_import_twice_adds_nothing(session):
    from lending.services.registry import import_devices

    import_devices(session, CSV)
    again = import_devices(session, CSV)
    assert again.tacs_added == 0 and again.imported == 2


def test_cli_import_prints_the_report_and_fails_on_bad_rows(app, session, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_text(CSV)
    result = app.test_cli_runner().invoke(args=["devices", "import", str(path)])
    assert result.exit_code == 1
    assert "5 rows: 2 imported (3 new TACs), 3 rejected" in result.output
    assert "line 3: tacs:" in result.output
    assert count(session, DeviceTac) == 3
