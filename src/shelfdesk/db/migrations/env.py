"""Alembic environment for shelfdesk.

shelfdesk runs migrations itself (:func:`shelfdesk.db.migrate.ensure_schema`)
and passes its own connection in ``config.attributes["connection"]``, so the
engine settings (WAL, foreign keys, busy timeout) are shelfdesk's. Run from the
``alembic`` command line instead, it builds an engine from ``sqlalchemy.url``.
``render_as_batch`` lets ALTERs work on SQLite (which rebuilds the table).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from shelfdesk.db.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from shelfdesk.db.engine import make_engine

    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("shelfdesk migrations run online only (they need a database connection)")
run_migrations_online()
