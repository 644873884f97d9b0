"""`lending db backup FILE` / `lending db restore FILE`: online copies of a SQLite database."""

import sqlite3
from contextlib import closing
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from lending.db import get_engine

PG_HINT = "PostgreSQL: use pg_dump -Fc / pg_restore (README, 'Backups')."


def sqlite_path(database_url: str) -> str:
    """The file of a SQLite URL; refuse other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.UsageError(f"db backup and restore handle SQLite files only. {PG_HINT}")
    return url.database


def copy_database(source: str, target: str) -> None:
    """Copy one SQLite database into another page by page (consistent while others write)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def is_sound(file: Path) -> bool:
    """True for a SQLite file that passes its integrity check."""
    try:
        with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        return False


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(file: Path) -> None:
    """Write a consistent copy of the SQLite database to FILE."""
    if file.exists():
        raise click.UsageError(f"{file} exists; choose a new file")
    copy_database(sqlite_path(current_app.config["DATABASE_URL"]), str(file))
    click.echo(f"backed up to {file}")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def db_restore(file: Path) -> None:
    """Replace the SQLite database with the copy in FILE."""
    target = sqlite_path(current_app.config["DATABASE_URL"])
    if not is_sound(file):
        raise click.UsageError(f"{file} is not a sound SQLite database")
    get_engine(current_app).dispose()  # no pooled connection keeps reading the old pages
    copy_database(str(file), target)
    click.echo(f"restored from {file}")
