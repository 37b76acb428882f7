"""Every order action end to end through the outbox, and every refused input, asserted at the sandbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shelfdesk.db.models import AuditLog, CategoryMapping, Order, OrderAction, OrderEvent
from shelfdesk.domain import ActionState, NormalizedStatus
from shelfdesk.orders.actions import dismiss_action, enqueue_action, list_actions, retry_action
from shelfdesk.orders.detail import get_order_detail
from shelfdesk.orders.errors import ActionRefused, OrderNotFound
from shelfdesk.orders.validation import LineIdentifier

from .conftest import BAD_IMEI, GOOD_IMEI, Desk, add_products

SECOND_IMEI = "490154203237518"


def _writes(desk: Desk, marketplace: str = "backmarket") -> list[dict]:
    return [e for e in desk.requests(marketplace) if e["method"] in ("POST", "PATCH") and "/oauth/" not in e["path"]]


def _actions_count(desk: Desk) -> int:
    with desk.ctx.read_session() as session:
        return session.execute(select(func.count()).select_from(OrderAction)).scalar()


def _phones_need_imei(desk: Desk, skus: list[str]) -> None:
    add_products(desk.ctx, desk.store_id, {sku: 10 for sku in skus})
    with desk.ctx.write_session() as session:
        session.add(
            CategoryMapping(
                channel_id=desk.bm_channel,
                merchant_category="Phones > Smartphones",
                channel_category_id="smartphones",
                requires_imei_or_serial=True,
                updated_at=desk.clock.now(),
            )
        )


def test_back_market_accept_per_line_then_ship_with_imeis_per_line(desk: Desk) -> None:
    skus = ["IPH13-128-MID-GOOD", "GA52-128-BLK-EXC"]
    _phones_need_imei(desk, skus)
    [order] = desk.new_orders("backmarket", skus, fate="paid", single_order=True)
    oid = str(order["order_id"])
    desk.harvest()

    queued = enqueue_action(desk.ctx, oid, "accept")
    assert queued.created and get_order_detail(desk.ctx, oid).sync == "synchronizing"
    [outcome] = desk.send().outcomes
    assert outcome.state is ActionState.confirmed
    accepted = desk.effects("backmarket")
    assert sorted((e["sku"], e["new_state"]) for e in accepted) == sorted((s, 2) for s in skus)
    detail = get_order_detail(desk.ctx, oid)
    assert detail.status is NormalizedStatus.InProgress and detail.sync == ""

    with pytest.raises(
        ActionRefused,
        match="needs an IMEI or serial number to ship; backmarket takes one IMEI or serial number per order line of quantity 1",
    ):
        enqueue_action(desk.ctx, oid, "ship", {"carrier": "Colissimo", "tracking_number": "6A100"}, identifiers=[LineIdentifier(GOOD_IMEI)])
    enqueue_action(
        desk.ctx,
        oid,
        "ship",
        {"carrier": "Colissimo", "tracking_number": "6A100"},
        identifiers=[LineIdentifier(GOOD_IMEI, sku=skus[0]), LineIdentifier(SECOND_IMEI, sku=skus[1])],
    )
    [shipped] = desk.send().outcomes
    assert shipped.state is ActionState.confirmed
    remote = desk.sandbox_state("backmarket")["orders"][oid]
    assert remote["state"] == 9 and remote["tracking_number"] == "6A100" and remote["shipper_display"] == "Colissimo"
    assert sorted(l["imei"] for l in remote["orderlines"]) == sorted([GOOD_IMEI, SECOND_IMEI])
    details = desk.effects("backmarket", "line_details")
    assert len(details) == 2 and len([e for e in desk.effects("backmarket") if e["new_state"] == 3]) == 1
    detail = get_order_detail(desk.ctx, oid)
    assert detail.status is NormalizedStatus.Shipped and detail.tracking_number == "6A100"
    assert sorted(l.imei for l in detail.lines) == sorted([GOOD_IMEI, SECOND_IMEI])
    kinds = [e.kind for e in detail.events]
    assert kinds.count("action_queued") == 2 and kinds.count("action_confirmed") == 2
    with desk.ctx.read_session() as session:
        audited = session.execute(select(AuditLog.action, AuditLog.actor).where(AuditLog.target_id == oid)).all()
    assert ("order.accept", desk.ctx.actor) in audited and ("order.ship", desk.ctx.actor) in audited


def test_back_market_single_unit_ship_and_line_cancel(desk: Desk) -> None:
    [one, two] = desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC"], fate="accepted")
    desk.harvest()
    enqueue_action(
        desk.ctx,
        str(one["order_id"]),
        "ship",
        {"carrier": "UPS", "tracking_number": "1Z9"},
        identifiers=[LineIdentifier(serial_number="SN-42")],
    )
    enqueue_action(desk.ctx, str(two["order_id"]), "cancel", {"reason": "out of stock"})
    outcomes = {o.marketplace_order_id: o.state for o in desk.send().outcomes}
    assert set(outcomes.values()) == {ActionState.confirmed}
    state = desk.sandbox_state("backmarket")["orders"]
    ship_body = next(e["body"] for e in _writes(desk) if e["path"] == f"/ws/orders/{one['order_id']}")
    assert ship_body["serial_number"] == "SN-42" and ship_body["new_state"] == 3  # in the ship call itself
    assert state[str(one["order_id"])]["state"] == 9
    assert state[str(two["order_id"])]["orderlines"][0]["state"] == 5  # refunded before shipping (was accepted)
    assert get_order_detail(desk.ctx, str(two["order_id"])).status is NormalizedStatus.Canceled


def test_leboncoin_confirm_availability_confirm_shipping_and_cancel(desk: Desk) -> None:
    [a, b] = desk.new_orders("leboncoin", ["APP1-WHT-EXC", "JBL-FLIP5-NEW"], fate="paid")
    desk.harvest()
    enqueue_action(desk.ctx, a["id"], "confirm-availability")
    enqueue_action(desk.ctx, b["id"], "cancel", {"reason": "out_of_stock"})
    assert {o.state for o in desk.send().outcomes} == {ActionState.confirmed}
    enqueue_action(desk.ctx, a["id"], "ship", {"carrier": "colissimo", "tracking_number": "XY12", "tracking_url": "https://t.example/XY12"})
    [outcome] = desk.send().outcomes
    assert outcome.state is ActionState.confirmed
    actions = {(e["order_id"], e["action"]) for e in desk.effects("leboncoin")}
    assert actions == {(a["id"], "confirm-availability"), (a["id"], "confirm-shipping"), (b["id"], "cancel")}
    [message] = desk.sandbox_state("leboncoin")["messages"]
    assert "XY12" in message["body"] and message["order_id"] == a["id"]
    shipped = get_order_detail(desk.ctx, a["id"])
    assert shipped.status is NormalizedStatus.Shipped
    assert (shipped.carrier, shipped.tracking_number, shipped.tracking_url) == ("colissimo", "XY12", "https://t.example/XY12")
    desk.clock.advance(timedelta(minutes=30))
    desk.harvest()  # Leboncoin never reports the tracking number: the harvest must not erase ours
    assert get_order_detail(desk.ctx, a["id"]).tracking_number == "XY12"
    assert get_order_detail(desk.ctx, b["id"]).status is NormalizedStatus.Canceled


@pytest.mark.parametrize(
    ("requested", "fields", "identifiers", "message"),
    [
        ("ship", {"carrier": "UPS"}, [], "missing required field(s) tracking_number"),
        ("ship", {"tracking_number": "1Z"}, [LineIdentifier(BAD_IMEI)], "fails the Luhn check"),
        ("ship", {"tracking_number": "1Z"}, [LineIdentifier(GOOD_IMEI), LineIdentifier(SECOND_IMEI)], "more IMEI/serial"),
        ("accept", {}, [], "accept line needs an order that is New; this one is InProgress"),
        ("confirm-shipping", {}, [], "backmarket has no action confirm-shipping"),
        ("cancel", {"tracking_number": "x", "colour": "red"}, [], "unknown field(s) colour"),
    ],
)
def test_refused_inputs_queue_nothing_and_send_nothing(desk: Desk, requested: str, fields: dict, identifiers: list, message: str) -> None:
    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted")
    desk.harvest()
    before = len(desk.requests("backmarket"))
    with pytest.raises(ActionRefused) as refused:
        enqueue_action(desk.ctx, str(order["order_id"]), requested, fields, identifiers=identifiers)
    assert message in str(refused.value) and str(order["order_id"]) in str(refused.value)
    assert _actions_count(desk) == 0
    desk.send()
    assert len(desk.requests("backmarket")) == before  # not one call reached the marketplace


def test_unknown_order_and_read_only_are_refused(desk: Desk) -> None:
    with pytest.raises(OrderNotFound, match="no order 'nope'"):
        enqueue_action(desk.ctx, "nope", "accept")
    from shelfdesk.context import ReadOnlyError

    desk.ctx.read_only = True
    try:
        with pytest.raises(ReadOnlyError):
            enqueue_action(desk.ctx, "nope", "accept")
    finally:
        desk.ctx.read_only = False


def test_queuing_the_same_request_twice_sends_it_once(desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted")
    desk.harvest()
    first = enqueue_action(desk.ctx, str(order["order_id"]), "ship", {"tracking_number": "6A7"})
    again = enqueue_action(desk.ctx, str(order["order_id"]), "ship", {"tracking_number": "6A7"})
    assert first.created and not again.created and again.action_id == first.action_id
    desk.send()
    assert len([e for e in desk.effects("backmarket") if e["new_state"] == 3]) == 1 and _actions_count(desk) == 1


def test_transient_failures_back_off_and_the_retry_reads_before_sending(desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted")
    oid = str(order["order_id"])
    desk.harvest()
    queued = enqueue_action(desk.ctx, oid, "ship", {"tracking_number": "6A8"})
    # Three 503s after the effect: the first really shipped it, and no answer says so.
    desk.fault("backmarket", kind="503", method="POST", path=f"/ws/orders/{oid}", count=3, after_effect=True)
    report = desk.send()
    states = [o.state for o in report.outcomes]
    assert states[-1] is ActionState.confirmed
    ships = [e for e in desk.effects("backmarket") if e["new_state"] == 3]
    assert len(ships) == 1  # applied exactly once, however many answers were lost
    with desk.ctx.read_session() as session:
        action = session.get(OrderAction, queued.action_id)
    assert action.state is ActionState.confirmed


def test_a_refusal_keeps_the_marketplace_message_and_can_be_retried_or_dismissed(desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid")
    oid = str(order["order_id"])
    desk.harvest()
    queued = enqueue_action(desk.ctx, oid, "accept")
    # Meanwhile someone cancels the line in Back Market's back office.
    from shelfdesk.channels.backmarket import BackMarketConnector
    from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN

    from .conftest import TIMEOUT

    async def cancel_elsewhere() -> None:
        async with BackMarketConnector(
            token=DEFAULT_TOKEN, clock=desk.clock, company="Other", contact_email="x@y.z", base_url=desk.sb.backmarket_url, timeout=TIMEOUT
        ) as other:
            await other.apply_action(oid, "cancel", {"sku": "APP1-WHT-EXC"})

    asyncio.run(cancel_elsewhere())
    [outcome] = desk.send().outcomes
    assert outcome.state is ActionState.failed
    [failed] = list_actions(desk.ctx, states=[ActionState.failed])
    assert failed.id == queued.action_id and "can only be accepted or cancelled in state 1" in (failed.last_error or "")
    assert get_order_detail(desk.ctx, oid).sync == "failed"

    again = retry_action(desk.ctx, failed.id)
    assert again.state is ActionState.pending
    [outcome] = desk.send().outcomes  # reads first (attempt 2): not applied, sends, refused again
    assert outcome.state is ActionState.failed
    dismissed = dismiss_action(desk.ctx, failed.id)
    assert dismissed.state is ActionState.abandoned and list_actions(desk.ctx, states=[ActionState.failed]) == []
    assert get_order_detail(desk.ctx, oid).sync == ""
    with pytest.raises(ActionRefused, match="only a failed action can be dismissed"):
        dismiss_action(desk.ctx, failed.id)
    with desk.ctx.read_session() as session:
        kinds = [k for (k,) in session.execute(select(OrderEvent.kind).where(OrderEvent.order_id == failed.order_id))]
        status = session.execute(select(Order.status).where(Order.id == failed.order_id)).scalar()
    assert {"action_failed", "action_retry", "action_dismiss"} <= set(kinds)
    assert status is NormalizedStatus.Canceled  # re-read after the refusal: the real state is shown
    assert desk.effects("backmarket") and all(e["new_state"] == 4 for e in desk.effects("backmarket"))
