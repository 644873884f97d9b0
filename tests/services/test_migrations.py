"""The schema is made only by migrations, and the migrations match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from lending.migrate import downgrade, upgrade


def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        # APScheduler's own table is made by a migration but has no model.
        context = MigrationContext.configure(conn, opts={
            "compare_type": False,
            "include_name": lambda name, kind, _parent: not (
                kind == "table" and name == "apscheduler_jobs"),
        })
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(database_url):
    downgrade(database_url, "base")
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(database_url)
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
