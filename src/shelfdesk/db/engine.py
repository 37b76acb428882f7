"""Engine creation with the settings every process sharing a workspace needs.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the
console, a headless worker and the CLI can use one database file at once.
Other dialects (PostgreSQL through ``SHELFDESK_DATABASE_URL``) get a plain
engine; nothing here is SQLite-only except what the connect hook sets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine

BUSY_TIMEOUT_MS = 10_000

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
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true", echo=echo,
                               connect_args={"check_same_thread": False})  # fmt: skip
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
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix):] in ("", ":memory:") or "?" in url:
        return None
    return Path(url[len(prefix):])


def read_only_file_system(folder: Path) -> bool:
    """True when ``folder`` sits on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on this platform
        return False
