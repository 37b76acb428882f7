"""Everything a workspace's database holds, as text, on either engine: for "this secret is stored nowhere" tests."""

from __future__ import annotations

from shelfdesk.paths import Paths


def database_text(paths: Paths) -> str:
    """The SQLite file and its WAL, as bytes read in latin-1; on PostgreSQL every row of every table as text."""
    database = paths.database_file
    if database is not None:
        wal = database.with_name(database.name + "-wal")
        return (database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")).decode("latin-1")
    from sqlalchemy import inspect, text

    from shelfdesk.db.engine import make_engine

    engine = make_engine(paths.database_url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return "\n".join(str(row[0]) for table in tables for row in conn.execute(text(f'SELECT CAST(t AS text) FROM "{table}" t')))
    finally:
        engine.dispose()
