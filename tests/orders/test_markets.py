"""Back Market markets are locales: orders land under the channel of their locale, requests speak its language."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from shelfdesk.db.models import Channel, Order, OrderEvent, Store
from shelfdesk.domain import Marketplace, OrderScope
from shelfdesk.orders.actions import enqueue_action

from .conftest import Desk


def add_uk_channel(desk: Desk) -> int:
    now = desk.clock.now()
    with desk.ctx.write_session() as session:
        store = Store(name="Refurb London", country="GB", currency="GBP", created_at=now, updated_at=now)
        session.add(store)
        session.flush()
        channel = Channel(
            store_id=store.id,
            account_id=desk.bm_account,
            marketplace=Marketplace.backmarket,
            market="en-gb",
            country="GB",
            name="Back Market UK",
            orders_scope=OrderScope.market,
            activated_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(channel)
        session.flush()
        return int(channel.id)


def test_locale_orders_land_under_their_channel_with_their_country(desk: Desk) -> None:
    uk = add_uk_channel(desk)
    [fr_order] = desk.new_orders("backmarket", ["IPH12-64-BLK-VG"], country_code="fr-fr")
    [uk_order] = desk.new_orders("backmarket", ["GA52-128-BLK-EXC"], country_code="en-gb")
    [be_order] = desk.new_orders("backmarket", ["PIX7-128-OBS-VG"], country_code="fr-be")
    assert (fr_order["country_code"], uk_order["country_code"]) == ("fr-fr", "en-gb")

    results = desk.harvest()
    [bm] = [r for r in results if r.account_id == desk.bm_account]
    assert bm.error is None and bm.stored.out_of_scope == 1  # Belgium: no channel, market scope everywhere
    with desk.ctx.read_session() as session:
        rows = dict(session.execute(select(Order.marketplace_order_id, Order.channel_id)).all())
        countries = dict(session.execute(select(Order.marketplace_order_id, Order.country)).all())
    assert rows[str(fr_order["order_id"])] == desk.bm_channel and countries[str(fr_order["order_id"])] == "FR"
    assert rows[str(uk_order["order_id"])] == uk and countries[str(uk_order["order_id"])] == "GB"
    assert str(be_order["order_id"]) not in rows


def test_an_account_scoped_channel_takes_the_other_locales_with_their_country(desk: Desk) -> None:
    with desk.ctx.write_session() as session:
        session.get(Channel, desk.bm_channel).orders_scope = OrderScope.account
    [be_order] = desk.new_orders("backmarket", ["PIX7-128-OBS-VG"], country_code="fr-be")
    desk.harvest()
    with desk.ctx.read_session() as session:
        order = session.execute(select(Order).where(Order.marketplace_order_id == str(be_order["order_id"]))).scalar_one()
    assert (order.channel_id, order.country) == (desk.bm_channel, "BE")
    assert order.total == Decimal(be_order["price"])


def test_harvest_and_actions_speak_the_channels_market(desk: Desk) -> None:
    with desk.ctx.write_session() as session:  # the account's only Back Market channel becomes the UK one
        session.delete(session.get(Channel, desk.bm_channel))
    add_uk_channel(desk)
    [uk_order] = desk.new_orders("backmarket", ["GA52-128-BLK-EXC"], country_code="en-gb")
    desk.harvest()
    harvest = desk.requests("backmarket", path="/ws/orders")
    assert harvest and {e["accept_language"] for e in harvest} == {"en-gb"}

    enqueue_action(desk.ctx, str(uk_order["order_id"]), "accept")
    desk.send()
    action = [e for e in desk.requests("backmarket", method="POST") if e["path"] == f"/ws/orders/{uk_order['order_id']}"]
    assert action and {e["accept_language"] for e in action} == {"en-gb"}
    reads = desk.requests("backmarket", path=f"/ws/orders/{uk_order['order_id']}", method="GET")
    assert reads and {e["accept_language"] for e in reads} == {"en-gb"}


def test_an_order_in_an_unexpected_shape_is_kept_flagged_and_alerted(desk: Desk) -> None:
    from shelfdesk.jobs.alerts import list_alerts

    now = desk.clock.now().isoformat(timespec="seconds")
    line = {"id": 1, "state": 1, "listing": "IPH12-64-BLK-VG", "quantity": 1, "price": "389,00", "product_id": 5}
    raw = {
        "order_id": 777,
        "state": 1,
        "country_code": "Frankreich",
        "currency": "EUR",
        "price": "389.00",
        "date_creation": now,
        "date_modification": now,
        "shipping_address": "Léa Martin, Lyon",
        "orderlines": [line],
    }
    assert desk.bm.post("/_sandbox/orders/raw", json={"orders": [raw]}).status_code == 201
    [result] = [r for r in desk.harvest() if r.account_id == desk.bm_account]
    assert result.error is None and result.stored.out_of_scope == 0
    with desk.ctx.read_session() as session:
        order = session.execute(select(Order).where(Order.marketplace_order_id == "777")).scalar_one()
        events = session.execute(select(OrderEvent).where(OrderEvent.order_id == order.id)).scalars().all()
    assert order.channel_id == desk.bm_channel and order.country is None  # no market it could read: never dropped
    assert order.unread_fields == "orderlines[0].price, shipping_address, country_code"
    assert order.payload["country_code"] == "Frankreich" and order.payload["orderlines"][0]["price"] == "389,00"
    [event] = [e for e in events if e.kind == "unreadable"]
    assert event.field == "orderlines[0].price" and "country_code" in event.message
    [alert] = [a for a in list_alerts(desk.ctx) if a.kind == "order_unreadable"]
    assert (alert.target_type, alert.target_id) == ("order", order.id)
    assert "orderlines[0].price, shipping_address, country_code" in alert.message

    fixed = {
        **raw,
        "country_code": "fr-fr",
        "shipping_address": {"firstName": "Léa", "lastName": "Martin"},
        "orderlines": [{**line, "price": "389.00"}],
        "date_modification": desk.clock.now().isoformat(timespec="seconds"),
    }
    desk.clock.advance(60)
    fixed["date_modification"] = desk.clock.now().isoformat(timespec="seconds")
    desk.bm.post("/_sandbox/orders/raw", json={"orders": [fixed]})
    desk.harvest()
    with desk.ctx.read_session() as session:
        order = session.execute(select(Order).where(Order.marketplace_order_id == "777")).scalar_one()
    assert order.unread_fields is None and order.country == "FR" and order.buyer_name == "Léa Martin"
    assert [a for a in list_alerts(desk.ctx) if a.kind == "order_unreadable"] == []
