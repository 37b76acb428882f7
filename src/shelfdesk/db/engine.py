"""Engine creation with the settings every process sharing a workspace needs.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the
console, a headless worker and the CLI can use one database file at once.

PostgreSQL (through ``SHELFDESK_DATABASE_URL``) gets timeouts, so that a lost
server is an error within seconds rather than a worker hung on a socket: a
connect timeout (a host that drops packets), TCP keepalives (a server that
vanished mid-query), and a statement timeout (a statement stuck behind a lock).
Each is a default: the same parameter in the URL's query
(``?connect_timeout=30``, ``?options=-c statement_timeout=0``) wins. The pool
checks a connection before handing it out, so after a server restart the
next use reconnects instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine

BUSY_TIMEOUT_MS = 10_000

#: Seconds to wait for a PostgreSQL server to answer a connection.
CONNECT_TIMEOUT_S = 10
#: The longest one PostgreSQL statement may run (the largest batches take seconds; migrations lift it).
STATEMENT_TIMEOUT_MS = 300_000
#: TCP keepalives: a server gone silent mid-query is noticed within about a minute.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}

#: Execution option that makes a SQLite transaction start with ``BEGIN IMMEDIATE``.
#: Write sessions set it: a deferred transaction that reads and then writes fails at
#: once with "database is locked" (no busy wait) when another connection wrote in
#: between, which happens whenever the console, a worker and the CLI work together.
IMMEDIATE = "shelfdesk_immediate"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Turn off pysqlite's own transaction handling; _sqlite_on_begin issues BEGIN,
    # so a SELECT then UPDATE in one transaction stays atomic (SQLAlchemy recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_immutable_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # A database on a read-only file system: no journal to set, nothing will be written.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` with shelfdesk's connection settings.

    A SQLite file on a read-only file system (a snapshot, a read-only mount)
    is opened immutable: SQLite could not create its WAL index there, and
    nothing can change the file while it is mounted so.
    """
    path = _sqlite_file(url)
    if path is not None and path.exists() and read_only_file_system(path.parent):
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true", echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_immutable_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=_server_connect_args(url))


def _server_connect_args(url: str) -> dict[str, Any]:
    """Timeouts and keepalives for a PostgreSQL connection, where the URL does not set its own."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    given = set(parsed.query)
    defaults: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, **KEEPALIVES}
    args = {key: value for key, value in defaults.items() if key not in given}
    if "options" not in given:
        args["options"] = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    return args


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached or used right now (worth a retry).

    A lost or refused connection, a timeout, a server shutting down, or a
    SQLite file locked past the busy timeout; not a bad statement or a
    constraint, which would fail the same way again.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):  # sqlite3 calls "no such column" operational too
        return any(words in str(exc.orig).lower() for words in _SQLITE_UNAVAILABLE)
    return True  # psycopg: a lost or refused connection, a timeout, a server shutting down


#: What sqlite3 says when the file cannot be used right now (its other OperationalErrors are bad SQL).
_SQLITE_UNAVAILABLE = ("unable to open", "locked", "disk i/o", "busy")


def unavailable_reason(exc: BaseException) -> str:
    """The driver's reason on one line (SQLAlchemy's wrapper adds the SQL and a link)."""
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split()) or type(orig).__name__


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :] in ("", ":memory:") or "?" in url:
        return None
    return Path(url[len(prefix) :])


def read_only_file_system(folder: Path) -> bool:
    """True when ``folder`` sits on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on this platform
        return False
