"""Alembic environment: migrations run against the URL the caller configured."""

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import lending.models  # noqa: F401  (registers every table on the metadata)
from lending.models.types import EnumText, Money, Rate, UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_, obj, autogen_context):
    """Render the project's column types so migrations stay readable and dialect-correct."""
    if type_ != "type":
        return False
    if isinstance(obj, Money | Rate):
        autogen_context.imports.add("from lending.models.types import Money, Rate")
        return f"{type(obj).__name__}()"
    if isinstance(obj, EnumText):
        return f"sa.String(length={obj.impl.length})"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_migrations() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
