"""Engine and session handling, shared by web requests, CLI commands and RQ jobs.

One engine per process: forked RQ work-horses get a fresh one (the pid check), so pooled connections are never shared
across a fork. Web requests use `db.session` (a scoped session removed at teardown); jobs use `session_scope()`.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker

_state: dict = {"url": None, "engine": None, "pid": None}
SessionFactory = sessionmaker(expire_on_commit=False)
_scope: contextvars.ContextVar[object] = contextvars.ContextVar("db_session_scope")


def _current_scope() -> object:
    """One session per execution context (per thread in servers; per request where each runs in its own context)."""
    try:
        return _scope.get()
    except LookupError:
        token = object()
        _scope.set(token)
        return token


session: scoped_session[Session] = scoped_session(SessionFactory, scopefunc=_current_scope)

# What services accept: the request's scoped `db.session`, or a plain Session from `session_scope()` (jobs, CLI, tests).
DbSession: TypeAlias = Session | scoped_session[Session]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for url with the settings this project relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def configure(url: str) -> Engine:
    """Point this process's sessions at url (idempotent for the same url)."""
    if _state["url"] != url or _state["pid"] != os.getpid():
        if _state["engine"] is not None and _state["pid"] == os.getpid():
            _state["engine"].dispose()
        elif _state["engine"] is not None:
            _state["engine"].dispose(close=False)  # inherited across fork: drop without closing parent's sockets
        _state.update(url=url, engine=make_engine(url), pid=os.getpid())
        session.remove()
        SessionFactory.configure(bind=_state["engine"])
    return _state["engine"]


def after_fork() -> None:
    """In a process forked from one that configured the engine (a preloading gunicorn master): a fresh engine of its
    own, the inherited pool dropped without closing the parent's connections."""
    if _state["url"] is not None:
        configure(_state["url"])


def engine() -> Engine:
    """Return this process's engine, configuring it from the environment when needed."""
    if _state["engine"] is None or _state["pid"] != os.getpid():
        from config import Config

        configure(_state["url"] or Config().DATABASE_URL)
    return _state["engine"]


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for work outside requests: commits on success, rolls back on error, always closes."""
    engine()
    work = SessionFactory()
    try:
        yield work
        work.commit()
    except BaseException:
        work.rollback()
        raise
    finally:
        work.close()


def init_app(app) -> None:
    """Bind the engine to the app's DATABASE_URL and remove the scoped session after each request."""
    configure(app.config["DATABASE_URL"])

    @app.teardown_appcontext
    def _remove_session(_exc=None) -> None:
        session.remove()


def fetch_tuples(session: DbSession, query) -> list[tuple]:
    """Every row of a Core query as plain tuples from the driver's cursor, on the session's connection (and its
    transaction): for large column-only reads that feed numpy.

    SQLAlchemy's Row objects cost a few µs each (about 2 s for a national round's 400,000 scores). Bound values are
    rendered inline, so use it only for queries whose values are integers and enum constants, never user text."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    result = connection.exec_driver_sql(sql)  # through SQLAlchemy (events, logging), read from its cursor
    try:
        return list(result.cursor.fetchall()) if result.cursor is not None else []
    finally:
        result.close()
