"""Orders: one row per (account, marketplace order id), and every console list reads an index."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select
from sqlmodel import Session

from shelfdesk.db.engine import make_engine
from shelfdesk.db.models import Order, OrderAction, OrderEvent, OrderLine, PublicationItem
from shelfdesk.db.upsert import upsert_rows
from shelfdesk.domain import ActionState, EventSource, ItemOutcome, NormalizedStatus
from tests.db.factories import NOW, add_account, add_channel, add_store, order_row


def _order(account_id: int, order_id: str) -> Order:
    return Order(
        account_id=account_id, marketplace="backmarket", marketplace_order_id=order_id, purchased_at=NOW, harvested_at=NOW, updated_at=NOW
    )


def test_same_order_id_on_two_accounts_is_two_orders_but_never_twice_on_one(engine: Engine) -> None:
    with Session(engine) as session:
        first, second = add_account(session, "BM EU"), add_account(session, "BM US")
        session.add_all([_order(first.id, "1001"), _order(second.id, "1001")])
        session.commit()
        session.add(_order(first.id, "1001"))
        with pytest.raises(IntegrityError, match="(?i)unique"):
            session.commit()


def test_an_account_seen_from_two_channels_upserts_one_order(engine: Engine) -> None:
    with Session(engine) as session:
        account = add_account(session)
        store = add_store(session)
        france, spain = add_channel(session, store, account, "fr-fr"), add_channel(session, store, account, "es-es")
        keys = ["account_id", "marketplace_order_id"]
        upsert_rows(session, Order, [order_row(account.id, "42", channel=france)], keys, ["channel_id"])
        upsert_rows(session, Order, [order_row(account.id, "42", channel=spain)], keys, ["channel_id"])
        session.commit()
        assert session.exec(select(Order.channel_id)).scalars().all() == [spain.id]


def test_deleting_an_order_takes_its_lines_events_and_actions(engine: Engine) -> None:
    with Session(engine) as session:
        account = add_account(session)
        order = _order(account.id, "7")
        session.add(order)
        session.flush()
        session.add_all(
            [
                OrderLine(order_id=order.id, marketplace_line_id="7-1", sku="SKU"),
                OrderEvent(order_id=order.id, at=NOW, source=EventSource.harvest, kind="created"),
                OrderAction(order_id=order.id, kind="accept", idempotency_key="accept:7", created_at=NOW, updated_at=NOW),
            ]
        )
        session.commit()
        session.execute(delete(Order))
        session.commit()
        for model in (OrderLine, OrderEvent, OrderAction):
            assert session.execute(select(func.count()).select_from(model)).scalar_one() == 0


# --- query plans -------------------------------------------------------------------------------


def _plan(conn: Connection, stmt: Select) -> str:
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return "\n".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def _orders_page(*filters: object) -> Select:
    """The Orders screen's query: newest first, keyset paging in the expanded form (an index bound on SQLite)."""
    cursor_at, cursor_id = NOW - timedelta(days=3), 10**6
    return (
        select(Order.id, Order.marketplace_order_id, Order.status, Order.purchased_at, Order.total, Order.buyer_name)
        .where(*filters)
        .where(Order.purchased_at <= cursor_at, or_(Order.purchased_at < cursor_at, Order.id < cursor_id))
        .order_by(Order.purchased_at.desc(), Order.id.desc())
        .limit(200)
    )


LIST_FILTERS = {
    "everything": ((), "ix_orders_purchased"),
    "status": ((Order.status == NormalizedStatus.New,), "ix_orders_status_purchased"),
    "channel": ((Order.channel_id == 2,), "ix_orders_channel_purchased"),
    "channel+status": ((Order.channel_id == 2, Order.status == NormalizedStatus.Shipped), "ix_orders_channel_status_purchased"),
    "store": ((Order.store_id == 1,), "ix_orders_store_purchased"),
    "store+status": ((Order.store_id == 1, Order.status == NormalizedStatus.InProgress), "ix_orders_store_status_purchased"),
    "status+dates": ((Order.status == NormalizedStatus.New, Order.purchased_at >= NOW - timedelta(days=30)), "ix_orders_status_purchased"),
}


@pytest.fixture(scope="module")
def filled(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A few thousand orders over two stores and three channels (built once for the module)."""
    path = tmp_path_factory.mktemp("filled") / "orders.db"
    shutil.copyfile(migrated_template, path)
    engine = make_engine(f"sqlite:///{path}")
    statuses = list(NormalizedStatus)
    with Session(engine) as session:
        account = add_account(session)
        stores = [add_store(session, "FR"), add_store(session, "ES", "ES")]
        channels = [
            add_channel(session, stores[0], account, "fr-fr"),
            add_channel(session, stores[1], account, "es-es"),
            add_channel(session, stores[0], add_account(session, "LBC", "leboncoin"), "FR"),
        ]
        rows = [order_row(account.id, str(n), channel=channels[n % 3], minutes=n, status=statuses[n % len(statuses)]) for n in range(3000)]
        upsert_rows(session, Order, rows, ["account_id", "marketplace_order_id"], ["status"])
        session.commit()
    yield engine
    engine.dispose()


@pytest.mark.parametrize("analyzed", [False, True], ids=["no-stats", "analyzed"])
@pytest.mark.parametrize("name", list(LIST_FILTERS))
def test_every_orders_list_filter_reads_its_index_without_a_temp_sort(filled: Engine, name: str, analyzed: bool) -> None:
    filters, index = LIST_FILTERS[name]
    with filled.connect() as conn:
        conn.exec_driver_sql("ANALYZE" if analyzed else "DROP TABLE IF EXISTS sqlite_stat1")
        plan = _plan(conn, _orders_page(*filters))
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_harvest_outbox_and_triage_queries_read_their_indexes(filled: Engine) -> None:
    checks = {
        "ix_orders_account_modified": select(Order.id).where(Order.account_id == 1, Order.modified_at >= NOW),
        "ix_order_actions_state_next": select(OrderAction.id).where(
            OrderAction.state == ActionState.pending,
            or_(OrderAction.next_attempt_at.is_(None), OrderAction.next_attempt_at <= NOW),
        ),
        "ix_publication_items_outcome_error": select(PublicationItem.error_key, func.count())
        .where(PublicationItem.publication_id == 1, PublicationItem.outcome == ItemOutcome.failed)
        .group_by(PublicationItem.error_key),
        "ix_order_events_order_at": select(OrderEvent.id).where(OrderEvent.order_id == 5).order_by(OrderEvent.at),
    }
    with filled.connect() as conn:
        for index, stmt in checks.items():
            plan = _plan(conn, stmt)
            assert index in plan and "TEMP B-TREE" not in plan, (index, plan)
