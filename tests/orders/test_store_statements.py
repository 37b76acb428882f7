"""The harvest's statements compile for SQLite and PostgreSQL, and their rows reach the driver as they should."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg2

from shelfdesk.db.upsert import DriverStatement
from shelfdesk.orders.store import ORDER_COLUMNS, _Writer


class Recorder:
    """Stands for a connection: keeps what exec_driver_sql got."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def exec_driver_sql(self, sql: str, params: Any) -> None:
        self.calls.append((sql, params))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), psycopg2.dialect()], ids=["sqlite", "postgresql"])
def test_every_statement_compiles_and_binds_each_value_once(dialect: Any) -> None:
    w = _Writer(dialect)
    update = w.update_order(True, True, True, True)
    assert "ON CONFLICT" in w.upsert_lines.sql and "coalesce(excluded.imei, order_lines.imei)" in w.upsert_lines.sql
    assert "coalesce(" in update.sql and "orders.modified_at IS NULL OR orders.modified_at <=" in update.sql
    assert "marketplace =" not in update.sql and "purchased_at =" not in update.sql  # immutable: never SET
    quiet = w.update_order(False, False, False, False)
    assert "status =" not in quiet.sql and "channel_id =" not in quiet.sql and "modified_at =" not in quiet.sql
    assert w.money(Decimal("12.30")) == 1230 and w.status["New"] == "New"
    for refused in (12.3, 12.30, Decimal("sNaN"), Decimal("NaN"), Decimal("1.234")):
        with pytest.raises(ValueError):  # remembered amounts or not, the Money type's rules hold
            w.money(refused)
    row = [f"v{n}" for n in range(len(ORDER_COLUMNS))] + ["the id", "the guard"]
    conn = Recorder()
    assert update.named == (dialect.name == "postgresql")
    update.execute(conn, [row])  # type: ignore[arg-type]
    [(sql, [params])] = conn.calls
    if update.named:  # PostgreSQL's drivers take a dict per row
        assert params["id_"] == "the id" and params["guard_"] == "the guard" and params["status"] == row[ORDER_COLUMNS.index("status")]
    else:  # SQLite's ? placeholders: SET values in SET order, then the id and the guard
        assert params[-2:] == ("the id", "the guard") and params.count("the guard") == 1
        assert sql.count("?") == len(params)


def test_a_statement_whose_parameters_are_not_the_rows_keys_is_refused() -> None:
    from sqlalchemy import bindparam, column, select

    with pytest.raises(ValueError, match="not among the row's keys"):
        DriverStatement.compile(select(column("a")).where(column("a") == bindparam("b")), sqlite.dialect(), ["a"])
