"""Paging through 10,000 orders with the cursor while new orders keep arriving: no gap, no duplicate."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from shelfdesk.db.models import Channel, Order
from shelfdesk.db.upsert import upsert_rows
from tests.db.factories import NOW, add_account, add_channel, add_store, order_row

from .conftest import Api

KEYS = ["account_id", "marketplace_order_id"]


def _orders(api: Api, ids: range, minutes: list[int]) -> None:
    """Orders as a harvest stores them (the harvest's own upsert), with the given purchase times."""
    with api.ctx.write_session() as session:
        channel = session.execute(select(Channel)).scalar_one()
        rows = [
            {**order_row(channel.account_id, f"P{n:06d}", channel=channel), "purchased_at": NOW - timedelta(minutes=m)}
            for n, m in zip(ids, minutes, strict=True)
        ]
        for start in range(0, len(rows), 2000):
            upsert_rows(session, Order, rows[start : start + 2000], KEYS, ["status"])


def test_ten_thousand_orders_page_without_gap_or_duplicate_while_orders_arrive(api: Api) -> None:
    with api.ctx.write_session() as session:
        store = add_store(session)
        account = add_account(session)
        add_channel(session, store, account, "fr-fr")
    rng = random.Random(20)
    # Many share a purchase minute: the cursor's tie-break on the id is what keeps the pages exact.
    _orders(api, range(10_000), [rng.randint(0, 3_000) for _ in range(10_000)])
    original = {f"P{n:06d}" for n in range(10_000)}
    seen: list[str] = []
    cursor, arriving, pages = None, 10_000, 0
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = api.reader.get("/v1/orders", params=params).json()
        seen += [o["marketplace_order_id"] for o in page["orders"]]
        pages += 1
        # A harvest between two pages: newer orders, and late ones purchased within the range being paged.
        _orders(api, range(arriving, arriving + 40), [rng.randint(-60, 3_000) for _ in range(40)])
        arriving += 40
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))  # no duplicate
    assert original <= set(seen)  # no gap
    assert pages >= 20
