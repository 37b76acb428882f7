"""The upsert helper: idempotent, typed, and explicit about what it cannot do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from shelfdesk.db.models import JobLease, Order, Product
from shelfdesk.db.upsert import excluded, upsert_rows
from shelfdesk.domain import NormalizedStatus
from tests.db.factories import NOW, add_account, add_store, order_row

KEYS = ["account_id", "marketplace_order_id"]
UPDATE = ["status", "total", "modified_at", "updated_at", "payload"]


def _orders(session: Session) -> list[tuple[str, NormalizedStatus, Decimal]]:
    query = select(Order.marketplace_order_id, Order.status, Order.total).order_by(Order.marketplace_order_id)
    return [tuple(row) for row in session.execute(query)]


def test_same_rows_twice_give_one_row_each_with_the_new_values(engine: Engine) -> None:
    with Session(engine) as session:
        account = add_account(session)
        rows = [order_row(account.id, str(n)) for n in range(1, 4)]
        upsert_rows(session, Order, rows, KEYS, UPDATE)
        upsert_rows(session, Order, rows, KEYS, UPDATE)
        session.commit()
        assert _orders(session) == [(str(n), NormalizedStatus.New, Decimal("99.90")) for n in range(1, 4)]

        changed = [{**row, "status": NormalizedStatus.Shipped, "total": Decimal("10.05")} for row in rows[:2]]
        upsert_rows(session.connection(), Order.__table__, changed, KEYS, UPDATE)  # a Connection works too
        session.commit()
        assert _orders(session) == [
            ("1", NormalizedStatus.Shipped, Decimal("10.05")),
            ("2", NormalizedStatus.Shipped, Decimal("10.05")),
            ("3", NormalizedStatus.New, Decimal("99.90")),
        ]
        ids = session.execute(select(Order.id).order_by(Order.id)).scalars().all()
        assert ids == [1, 2, 3]  # updated in place, never re-inserted


def test_columns_left_out_of_the_update_keep_their_values(engine: Engine) -> None:
    with Session(engine) as session:
        account = add_account(session)
        upsert_rows(session, Order, [order_row(account.id, "9")], KEYS, UPDATE)
        session.execute(Order.__table__.update().values(internal_note="call the buyer"))
        upsert_rows(session, Order, [order_row(account.id, "9", total="1.00")], KEYS, UPDATE)
        assert session.execute(select(Order.internal_note, Order.total)).one() == ("call the buyer", Decimal("1.00"))


def test_update_where_keeps_newer_rows(engine: Engine) -> None:
    from datetime import timedelta

    with Session(engine) as session:
        account = add_account(session)
        upsert_rows(session, Order, [order_row(account.id, "5", total="20.00")], KEYS, UPDATE)
        stale = {**order_row(account.id, "5", total="1.00"), "modified_at": NOW - timedelta(hours=1)}
        new = excluded(Order, session)
        upsert_rows(session, Order, [stale], KEYS, UPDATE, update_where=new.modified_at >= Order.__table__.c.modified_at)
        assert session.execute(select(Order.total)).scalar_one() == Decimal("20.00")


def test_empty_update_columns_only_insert_missing_rows(engine: Engine) -> None:
    with Session(engine) as session:
        upsert_rows(session, JobLease, [{"key": "harvest:1", "holder": "a"}], ["key"], [])
        upsert_rows(session, JobLease, [{"key": "harvest:1", "holder": "b"}, {"key": "offers:1", "holder": "b"}], ["key"], [])
        assert session.execute(select(JobLease.key, JobLease.holder).order_by(JobLease.key)).all() == [
            ("harvest:1", "a"),
            ("offers:1", "b"),
        ]


def test_values_go_through_the_column_types(engine: Engine) -> None:
    with Session(engine) as session:
        store = add_store(session)
        row = {"store_id": store.id, "sku": "A", "price": 12.5, "first_seen_at": NOW, "last_seen_at": NOW, "updated_at": NOW}
        with pytest.raises(Exception, match="float"):
            upsert_rows(session, Product, [row], ["store_id", "sku"], ["price"])


def test_bad_calls_are_refused_with_a_reason(engine: Engine) -> None:
    with Session(engine) as session:
        assert upsert_rows(session, Order, [], KEYS, UPDATE) == 0
        with pytest.raises(ValueError, match="same keys"):
            upsert_rows(session, JobLease, [{"key": "a"}, {"key": "b", "holder": "x"}], ["key"], [])
        with pytest.raises(ValueError, match="no column"):
            upsert_rows(session, JobLease, [{"key": "a", "nope": 1}], ["key"], [])
        with pytest.raises(ValueError, match="conflict column"):
            upsert_rows(session, JobLease, [{"holder": "a"}], ["key"], [])


def test_other_dialects_are_refused() -> None:
    from sqlalchemy.dialects import mysql

    engine = create_engine("sqlite://")
    engine.dialect = mysql.dialect()  # only the name matters; nothing is executed
    with engine.connect() as conn, pytest.raises(NotImplementedError, match="sqlite, postgresql"):
        upsert_rows(conn, JobLease, [{"key": "a"}], ["key"], [])
