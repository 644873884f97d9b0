"""The engine and the request-scoped session: one session per request or job step."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

ENGINE_KEY = "lending.engine"


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each dialect needs for correctness."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the one writer.
    # In WAL mode synchronous=NORMAL (SQLite's recommended setting for WAL) syncs at each
    # checkpoint instead of at every commit: a crash of the process loses no committed
    # transaction, and nothing ever corrupts the file; a power cut or an OS crash may roll back
    # the last few commits. FULL's fsync per commit was most of a short transaction's time (a
    # nightly job-run row, a step's batch). Production runs on PostgreSQL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask) -> None:
    """Attach an engine to the app and close the request session at teardown."""
    from lending.services import reference

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[ENGINE_KEY] = engine
    reference.attach(engine, app.extensions["lending.settings"].reference_cache_seconds)
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """Return the application's engine."""
    return (app or current_app).extensions[ENGINE_KEY]


def get_session() -> Session:
    """Return the session of this request (or app context), opening it on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever the view did not commit


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open a session for a job step or command: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
