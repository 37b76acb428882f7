"""The one place for dialect-specific SQL: idempotent bulk upserts.

Harvests and catalog imports write thousands of rows that may already exist.
``INSERT … ON CONFLICT DO UPDATE`` through Core executemany is idempotent and
about five times faster than building ORM objects (52,000 rows/s against
10,000 on SQLite), and
both SQLite and PostgreSQL spell it the same way in SQLAlchemy. Any other
dialect is refused here, loudly, rather than half-supported elsewhere.

For the hottest writes (the harvest stores tens of thousands of orders a
second) :class:`DriverStatement` goes one step further: a Core statement is
compiled once per dialect and run through the driver's own ``executemany``
with values the caller converted itself (:func:`bind_converters`), so nothing
is looked up or converted again per value. The SQL is still SQLAlchemy's, so
it is exactly as portable as the Core statement it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
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
            raise ValueError(f"row {number} has keys {sorted(row)}, row 0 has {sorted(keys)}: every row needs the same keys")
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


def insert_for(dialect: str, table: Table | type[Any]) -> Any:
    """The dialect's INSERT construct for ``table`` (it has ``on_conflict_do_update``)."""
    return _insert_for(dialect, _table(table))


def _insert_for(dialect: str, table: Table) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise NotImplementedError(f"upserts are implemented for {', '.join(SUPPORTED_DIALECTS)}, not {dialect}")
    return insert(table)


# ---------------------------------------------------------------------- driver-level executemany


@dataclass(frozen=True)
class DriverStatement:
    """A Core statement compiled for one dialect, run with values already in the driver's form.

    ``keys`` names the values of each row the caller passes (a sequence in
    that order); the placeholders of ``sql`` may use them in another order, or
    twice (``slots``), or by name (``named``) depending on the driver's
    parameter style.
    """

    sql: str
    keys: tuple[str, ...]
    named: bool
    slots: tuple[int, ...]  #: for positional styles: the index in ``keys`` of each placeholder

    @classmethod
    def compile(cls, statement: Any, dialect: Dialect, keys: Sequence[str], *, insert: bool = False) -> DriverStatement:
        """Compile ``statement``, whose bind parameters are named after ``keys``.

        ``insert``: ``statement`` is an INSERT without values, whose columns are ``keys``.
        Otherwise every parameter is an explicit ``bindparam`` named after one of ``keys``.
        """
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if insert else None)
        names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        unknown = sorted(set(names) - set(keys))
        if unknown:
            raise ValueError(f"the statement has parameters {unknown} that are not among the row's keys {list(keys)}")
        slots = tuple(keys.index(n) for n in names) if compiled.positional else ()
        return cls(str(compiled), tuple(keys), not compiled.positional, slots)

    def execute(self, conn_or_session: Connection | Session, rows: Sequence[Sequence[Any]]) -> None:
        """``executemany`` of ``rows`` (each a sequence of values in ``keys`` order); nothing is committed."""
        if not rows:
            return
        if self.named:
            keys = self.keys
            params: Any = [dict(zip(keys, row)) for row in rows]
        elif self.slots == tuple(range(len(self.keys))):
            params = rows if isinstance(rows[0], tuple) else [tuple(row) for row in rows]
        else:
            slots = self.slots
            params = [tuple([row[i] for i in slots]) for row in rows]
        conn = conn_or_session.connection() if isinstance(conn_or_session, Session) else conn_or_session
        conn.exec_driver_sql(self.sql, params)


def bind_converters(table: Table | type[Any], keys: Sequence[str], dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    """For each column in ``keys``: the function turning a Python value into the driver's, or None when it is the same.

    These are the column types' own bind processors (Money to cents, enums to
    strings, aware datetimes to the dialect's form, JSON documents to text),
    so a converted value is exactly what a Core insert would have sent.
    """
    core = _table(table)
    return [core.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys]
