"""The one place for dialect-specific SQL: idempotent bulk upserts.

Harvests and catalog imports write thousands of rows that may already exist.
``INSERT … ON CONFLICT DO UPDATE`` through Core executemany is idempotent and
about five times faster than building ORM objects (measurements.md §4), and
both SQLite and PostgreSQL spell it the same way in SQLAlchemy. Any other
dialect is refused here, loudly, rather than half-supported elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

SUPPORTED_DIALECTS = ("sqlite", "postgresql")


def upsert_rows(
    conn_or_session: Connection | Session,
    table: Table | type[Any],
    rows: Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
    *,
    update_where: ColumnElement[bool] | None = None,
) -> int:
    """Insert ``rows`` into ``table``; rows that clash on ``conflict_columns`` update ``update_columns``.

    ``table`` is a Core table or a model class. Every row must carry the same
    keys (one executemany statement), including the conflict columns, which
    must match a unique constraint. An empty ``update_columns`` leaves existing
    rows untouched (``DO NOTHING``), e.g. to create a lease row only if missing.
    ``update_where`` restricts which existing rows are updated (the incoming
    row is :func:`excluded`). Values go through the column types (Money, enums,
    aware datetimes), exactly as in any insert. Nothing is committed here.

    Returns the affected row count as reported by the driver (may be -1).
    """
    if not rows:
        return 0
    core = _table(table)
    keys = set(rows[0])
    for number, row in enumerate(rows):
        if set(row) != keys:
            raise ValueError(
                f"row {number} has keys {sorted(row)}, row 0 has {sorted(keys)}: every row needs the same keys"
            )
    unknown = (keys | set(conflict_columns) | set(update_columns)) - set(core.c.keys())
    if unknown:
        raise ValueError(f"{core.name} has no column(s) {sorted(unknown)}")
    missing = set(conflict_columns) - keys
    if missing:
        raise ValueError(f"rows lack the conflict column(s) {sorted(missing)}")
    if not conflict_columns:
        raise ValueError("conflict_columns is empty: name the unique key rows clash on")
    if set(update_columns) - keys:
        raise ValueError(f"update column(s) {sorted(set(update_columns) - keys)} are not in the rows")

    stmt = _insert_for(_dialect_name(conn_or_session), core)
    if update_columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict_columns),
            set_={name: stmt.excluded[name] for name in update_columns},
            where=update_where,
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict_columns))
    result = conn_or_session.execute(stmt, [dict(row) for row in rows])
    return int(result.rowcount)  # type: ignore[attr-defined]


def excluded(table: Table | type[Any], conn_or_session: Connection | Session) -> Any:
    """The ``excluded`` pseudo-table (the incoming row) for building ``update_where``.

    Example: only move an order forward in time::

        new = excluded(Order, session)
        upsert_rows(session, Order, rows, ["account_id", "marketplace_order_id"], cols,
                    update_where=new.modified_at >= Order.__table__.c.modified_at)
    """
    return _insert_for(_dialect_name(conn_or_session), _table(table)).excluded


def _table(table: Table | type[Any]) -> Table:
    core = getattr(table, "__table__", table)
    if not isinstance(core, Table):
        raise TypeError(f"{table!r} is neither a Table nor a table model")
    return core


def _dialect_name(conn_or_session: Connection | Session) -> str:
    if isinstance(conn_or_session, Session):
        return conn_or_session.get_bind().dialect.name
    return conn_or_session.dialect.name


def _insert_for(dialect: str, table: Table) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise NotImplementedError(
            f"upserts are implemented for {', '.join(SUPPORTED_DIALECTS)}, not {dialect}"
        )
    return insert(table)
