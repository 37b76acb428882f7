"""The stock loop's promises, over loopback: never above the truth, the budget, stock-outs first.

Orders reach the workspace the way a harvest stores them (``store_remote_orders``,
from the Leboncoin channel); quantities reach the Back Market sandbox through
the pusher; what the marketplace received is read from the sandbox's own
request log (the JSON body of each real-time update).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from shelfdesk.channels.base import RemoteOrder, RemoteOrderLine
from shelfdesk.domain import Marketplace, NormalizedStatus
from shelfdesk.orders.store import load_scope, store_remote_orders
from shelfdesk.publishing.pusher import push_stock_sync
from shelfdesk.services.stock import StockLine, set_stock, set_store_safety
from tests.publishing.conftest import Shop

POOL = ("IPH13-128-MID-GOOD", "GA52-128-BLK-EXC", "IPH12-64-BLK-VG", "IPH13-128-MID-EXC")
_examples = itertools.count()


def _order(shop: Shop, oid: str, sku: str, quantity: int, status: NormalizedStatus, modified_minutes: int = 0) -> None:
    now = shop.clock.now()
    line = RemoteOrderLine(f"{oid}-1", sku, quantity, Decimal("100.00"), "EUR", str(status), status, title="Phone")
    order = RemoteOrder(
        Marketplace.leboncoin,
        oid,
        str(status),
        status,
        now,
        now + timedelta(minutes=modified_minutes),
        "EUR",
        Decimal("100.00") * quantity,
        [line],
        country="FR",
        customer_name="Léa Martin",
    )
    with shop.ctx.write_session() as session:
        store_remote_orders(session, load_scope(session, shop.lbc_account), [order], now)


def _sent_to(shop: Shop, listing_ids: set[str], since: int) -> list[int]:
    """Quantities the Back Market sandbox received for one listing in real-time updates, in order."""
    out = []
    for entry in shop.requests("backmarket", method="POST")[since:]:
        if entry["path"].rsplit("/", 1)[-1] in listing_ids and isinstance(entry.get("body"), dict):
            if "quantity" in entry["body"]:
                out.append(int(entry["body"]["quantity"]))
    return out


def _push(shop: Shop) -> Any:
    return push_stock_sync(shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.integers(1, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("stock"), st.integers(0, 6)),
        st.tuples(st.just("push"), st.just(0)),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_random_interleavings_never_send_a_quantity_above_the_truth(shop: Shop, ops: list[tuple[str, int]]) -> None:
    n = next(_examples)
    if n == 0:  # the listings, published once; one unit kept back everywhere
        listings = shop.listings()
        for sku in POOL:
            shop.add_product(sku, price=listings[sku]["price"], stock=listings[sku]["quantity"])
        shop.publish(shop.bm_channel)
        set_store_safety(shop.ctx, shop.store_id, 1)
    sku = POOL[n % len(POOL)]
    listing = shop.listings()[sku]
    ids = {listing["id"], str(listing["listing_id"])}
    safety = 1

    def tick() -> None:
        shop.clock.advance(timedelta(seconds=1))

    # A fresh figure: every earlier order is counted in it (purchased before it).
    tick()
    stock, open_orders = 3, {}
    set_stock(shop.ctx, shop.store_id, [StockLine(sku, stock)])
    tick()
    _push(shop)
    since = len(shop.requests("backmarket", method="POST"))
    truths: list[int] = []
    for step, (op, value) in enumerate(ops):
        tick()
        if op == "order":
            oid = f"P{n}-{step}"
            _order(shop, oid, sku, value, NormalizedStatus.New)
            open_orders[oid] = value
        elif op == "cancel" and open_orders:
            oid = sorted(open_orders)[value % len(open_orders)]
            _order(shop, oid, sku, open_orders.pop(oid), NormalizedStatus.Canceled, modified_minutes=1 + step)
        elif op == "stock":
            stock, open_orders = value, {}  # the new figure counts the orders so far
            set_stock(shop.ctx, shop.store_id, [StockLine(sku, stock)])
        elif op == "push":
            before = len(_sent_to(shop, ids, since))
            _push(shop)
            truth = max(0, stock - sum(open_orders.values()) - safety)
            sent = _sent_to(shop, ids, since)[before:]
            assert all(q <= truth for q in sent), (sent, truth)
            truths.append(truth)
    tick()
    _push(shop)
    truth = max(0, stock - sum(open_orders.values()) - safety)
    assert shop.listings()[sku]["quantity"] == truth  # drained: the marketplace holds the truth
    with shop.ctx.read_session() as session:
        from shelfdesk.publishing.dirty import read_marks

        assert [m for m in read_marks(session, shop.bm_channel) if m.sku == sku] == []


def test_the_budget_is_never_exceeded_and_stock_outs_go_first(shop: Shop) -> None:
    from shelfdesk.db.models import Publication, PublicationItem
    from shelfdesk.domain import ItemAction, ItemOutcome, PublicationKind, PublicationMode, PublicationState
    from shelfdesk.publishing.quota import lines_used_last_hour

    listings = shop.listings()
    skus = sorted(sku for sku, l in listings.items() if l["quantity"] >= 2)[:9]
    for sku in skus:
        shop.add_product(sku, price=listings[sku]["price"], stock=listings[sku]["quantity"])
    shop.publish(shop.bm_channel)
    # The account has used all but 104 lines of its hourly budget (90 % of Back Market's 2,000), whose last
    # 100 (5 %) only stock-outs may use: 4 lines are left for anything else.
    now = shop.clock.now()
    with shop.ctx.read_session() as session:
        used = lines_used_last_hour(session, shop.bm_account, now)
    with shop.ctx.write_session() as session:
        pub = Publication(
            channel_id=shop.bm_channel,
            kind=PublicationKind.offers,
            mode=PublicationMode.update,
            state=PublicationState.succeeded,
            started_at=now - timedelta(minutes=30),
        )
        session.add(pub)
        session.flush()
        session.add_all(
            [
                PublicationItem(
                    publication_id=pub.id,
                    sku=f"OLD-{i}",
                    action=ItemAction.update,
                    outcome=ItemOutcome.updated,
                    sent_at=now - timedelta(minutes=30),
                )
                for i in range(1800 - 104 - used)
            ]
        )
    outs, decreases, increases = skus[:2], skus[2:5], skus[5:]
    set_stock(
        shop.ctx,
        shop.store_id,
        [
            *(StockLine(s, 0) for s in outs),
            *(StockLine(s, listings[s]["quantity"] - 1) for s in decreases),
            *(StockLine(s, listings[s]["quantity"] + 5) for s in increases),
        ],
    )
    shop.clock.advance(timedelta(seconds=1))
    since = len(shop.requests("backmarket", method="POST"))
    result = _push(shop)

    received = [e for e in shop.requests("backmarket", method="POST")[since:] if e["path"].startswith("/ws/listings")]
    by_id = {l["id"]: sku for sku, l in shop.listings().items()} | {str(l["listing_id"]): sku for sku, l in shop.listings().items()}
    got = [by_id[e["path"].rsplit("/", 1)[-1]] for e in received]
    assert len(got) == 4 and set(got[:2]) == set(outs) and set(got[2:]) <= set(decreases)
    assert result.over_budget == len(skus) - 4
    from shelfdesk.publishing.dirty import read_marks

    with shop.ctx.read_session() as session:
        assert lines_used_last_hour(session, shop.bm_account, shop.clock.now()) == 1700
        waiting = {m.sku for m in read_marks(session, shop.bm_channel)}
    assert set(increases) <= waiting and not (set(outs) & waiting)  # the rest waits, nothing lost

    late_out = increases[0]  # sold out meanwhile: the reserve takes it at once, the rest still waits
    set_stock(shop.ctx, shop.store_id, [StockLine(late_out, 0)])
    shop.clock.advance(timedelta(seconds=1))
    again = _push(shop)
    assert again.realtime == 1 and shop.listings()[late_out]["quantity"] == 0
    with shop.ctx.read_session() as session:
        assert lines_used_last_hour(session, shop.bm_account, shop.clock.now()) == 1701
        assert {m.sku for m in read_marks(session, shop.bm_channel)} == waiting - {late_out}
    shop.clock.advance(timedelta(minutes=31))  # the old lines leave the hour: the rest goes
    _push(shop)
    assert all(shop.listings()[s]["quantity"] == listings[s]["quantity"] + 5 for s in increases[1:])
