"""Harvest against the sandboxes over loopback, with faults on; facts asserted from the sandbox's side."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from shelfdesk.channels.statuses import BACKMARKET_LINE, LEBONCOIN_ORDER, normalize_backmarket_order
from shelfdesk.db.models import Channel, MarketplaceAccount, Order, OrderAction, OrderEvent, OrderLine
from shelfdesk.domain import ActionState, EventSource, NormalizedStatus, OrderScope
from shelfdesk.orders.actions import enqueue_action
from shelfdesk.orders.harvest import HarvestResult

from .conftest import Desk

BM_SKUS = ["IPH13-128-MID-GOOD", "GA52-128-BLK-EXC", "APP1-WHT-EXC", "NSW-OLED-WHT-EXC"]


def _bm_expected(desk: Desk) -> dict[str, tuple[NormalizedStatus, str]]:
    """Orders a Back Market listing shows (it leaves out states 0 and 8), with their normalized status."""
    orders = desk.sandbox_state("backmarket")["orders"]
    return {
        oid: (normalize_backmarket_order(o["state"], [l["state"] for l in o["orderlines"]]), str(o["state"]))
        for oid, o in orders.items()
        if o["state"] not in (0, 8)
    }


def _local(desk: Desk, account_id: int) -> dict[str, tuple[NormalizedStatus, str]]:
    with desk.ctx.read_session() as session:
        rows = session.execute(
            select(Order.marketplace_order_id, Order.status, Order.marketplace_status).where(Order.account_id == account_id)
        ).all()
    return {mid: (NormalizedStatus(status), raw) for mid, status, raw in rows}


def test_thousands_of_orders_across_pages_with_faults_arrive_exactly_once(desk: Desk) -> None:
    for fate, count in (("paid", 1400), ("accepted", 800), ("shipped", 600), ("cancelled", 200)):
        desk.new_orders("backmarket", BM_SKUS, fate=fate, count=count // len(BM_SKUS))
    expected = _bm_expected(desk)
    assert len(expected) >= 3000
    # One fault after another as pages come in (each within the connector's retries), plus a random 5 %.
    staged = {
        2: {"kind": "500"},
        4: {"kind": "timeout"},
        6: {"kind": "429", "count": 2},
        8: {"kind": "truncated"},
        10: {"kind": "malformed"},
        12: {"kind": "503", "count": 2},
        14: {"kind": "502"},
    }
    desk.fault("backmarket", kind="503", method="GET", path="/ws/orders", count=None, rate=0.05)

    def inject(progress: HarvestResult) -> None:
        rule = staged.get(progress.pages)
        if rule:
            desk.fault("backmarket", method="GET", path="/ws/orders", **{"count": 1, **rule})

    [result] = desk.harvest(channel="Back Market France", on_page=inject)

    assert result.ok, result.error
    log = desk.requests("backmarket", path="/ws/orders")
    fired = {e["fault"] for e in log if e["fault"]}
    assert {"500", "timeout", "429", "truncated", "malformed", "503", "502"} <= fired
    assert result.pages == -(-len(expected) // 50) and result.fetched == len(expected)
    local = _local(desk, desk.bm_account)
    assert local == expected  # every order, in its current state, and nothing else
    with desk.ctx.read_session() as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar() == len(expected)
        lines = session.execute(select(func.count()).select_from(OrderLine)).scalar()
        events = session.execute(select(func.count()).select_from(OrderEvent)).scalar()
        watermark = session.get(MarketplaceAccount, desk.bm_account).orders_watermark
    sandbox_lines = sum(len(o["orderlines"]) for oid, o in desk.sandbox_state("backmarket")["orders"].items() if oid in expected)
    assert lines == sandbox_lines and events == 0  # a first sight is not a change
    assert watermark == desk.clock.now() or watermark <= desk.clock.now()

    # A second harvest overlaps the first: nothing is stored twice, nothing changes.
    [again] = desk.harvest(channel="Back Market France")
    assert again.ok and again.stored.created == [] and again.stored.updated == [] and again.stored.events == 0
    assert _local(desk, desk.bm_account) == expected


def test_status_changes_after_the_first_harvest_are_picked_up(desk: Desk) -> None:
    desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="pending_payment", count=12)
    desk.new_orders("backmarket", ["GA52-128-BLK-EXC"], fate="checks", count=3)
    lbc = desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid", count=4)
    desk.harvest()
    pending = {oid for oid, (_, raw) in _bm_expected(desk).items() if raw == "10"}
    assert pending and all(_local(desk, desk.bm_account)[oid][1] == "10" for oid in pending)

    desk.clock.advance(timedelta(hours=1))  # payments go through (or fail: state 8), checks pass
    desk.harvest()
    state = desk.sandbox_state("backmarket")["orders"]
    local = _local(desk, desk.bm_account)
    failed = {oid for oid in pending if state[oid]["state"] == 8}
    assert failed, "the seeded sandbox lets some payments fail"
    assert set(local) == set(_bm_expected(desk)) | failed  # seen once, never lost
    for oid in local:
        order = state[oid]
        want = normalize_backmarket_order(order["state"], [l["state"] for l in order["orderlines"]])
        assert local[oid] == (want, str(order["state"])), oid
    # The ones whose payment failed left the default listing: they were read one by one.
    assert all(local[oid][0] is NormalizedStatus.Canceled for oid in failed)

    desk.clock.advance(timedelta(days=3, minutes=1))  # Leboncoin cancels unconfirmed orders after 3 days
    desk.harvest()
    lbc_local = _local(desk, desk.lbc_account)
    for order in lbc:
        assert lbc_local[order["id"]] == (LEBONCOIN_ORDER.normalize("cancelled"), "cancelled")
    with desk.ctx.read_session() as session:
        changes = session.execute(
            select(OrderEvent.old_value, OrderEvent.new_value, OrderEvent.source, OrderEvent.message).where(
                OrderEvent.kind == "status_changed", OrderEvent.field == "status"
            )
        ).all()
    assert ("New", "Canceled", EventSource.harvest, "marketplace status paid → cancelled") in changes
    assert any(old == "New" and new == "Canceled" and "10 → 8" in (msg or "") for old, new, _, msg in changes)
    assert BACKMARKET_LINE.normalize("1") is NormalizedStatus.New


def test_a_failed_harvest_keeps_the_watermark_and_the_next_one_catches_up(desk: Desk) -> None:
    desk.harvest(channel="Back Market France")
    with desk.ctx.read_session() as session:
        first = session.get(MarketplaceAccount, desk.bm_account).orders_watermark
    desk.clock.advance(timedelta(minutes=5))
    late = desk.new_orders("backmarket", ["PIX7-128-OBS-VG"], count=3)
    desk.fault("backmarket", kind="500", method="GET", path="/ws/orders", count=4)  # more than the connector retries

    [failed] = desk.harvest(channel="Back Market France")
    with desk.ctx.read_session() as session:
        kept = session.get(MarketplaceAccount, desk.bm_account).orders_watermark
    assert not failed.ok and "500" in (failed.error or "") and kept == first

    [caught_up] = desk.harvest(channel="Back Market France")
    assert caught_up.ok and {str(o["order_id"]) for o in late} <= set(_local(desk, desk.bm_account))


def test_first_harvest_looks_back_a_configurable_period(desk: Desk) -> None:
    desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], count=2)
    desk.clock.advance(timedelta(days=20))
    recent = desk.new_orders("backmarket", ["GA52-128-BLK-EXC"])
    [result] = desk.harvest(channel="Back Market France")
    assert result.since == desk.clock.now() - timedelta(days=14)
    assert set(_local(desk, desk.bm_account)) == {str(recent[0]["order_id"])}

    with desk.ctx.write_session() as session:
        session.execute(
            update(MarketplaceAccount)
            .where(MarketplaceAccount.id == desk.bm_account)
            .values(orders_watermark=None, settings={"first_harvest_days": 30})
        )
    desk.harvest(channel="Back Market France")
    assert set(_local(desk, desk.bm_account)) == set(_bm_expected(desk))


def test_order_scope_market_or_whole_account(desk: Desk) -> None:
    orders = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], count=3)  # the sandbox sells in France
    with desk.ctx.write_session() as session:  # this store's Back Market channel is the Spanish market
        session.execute(update(Channel).where(Channel.id == desk.bm_channel).values(market="es-es", country="ES"))
    [result] = desk.harvest(channel="Back Market France")
    assert result.ok and result.stored.out_of_scope == len(_bm_expected(desk)) and _local(desk, desk.bm_account) == {}

    with desk.ctx.write_session() as session:  # "all countries of the account": the store takes them
        session.execute(update(Channel).where(Channel.id == desk.bm_channel).values(orders_scope=OrderScope.account))
        session.execute(update(MarketplaceAccount).where(MarketplaceAccount.id == desk.bm_account).values(orders_watermark=None))
    desk.harvest(channel="Back Market France")
    with desk.ctx.read_session() as session:
        placed = session.execute(
            select(Order.channel_id, Order.store_id, Order.country).where(Order.marketplace_order_id == str(orders[0]["order_id"]))
        ).one()
    assert placed == (desk.bm_channel, desk.store_id, "FR")


def test_a_harvest_never_overwrites_a_pending_action_and_a_refused_one_fails_with_its_message(desk: Desk) -> None:
    [order] = desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid")
    desk.harvest()
    queued = enqueue_action(desk.ctx, order["id"], "accept")  # pending, not sent yet
    desk.clock.advance(timedelta(days=3, minutes=5))  # meanwhile Leboncoin cancels it (deadline passed)
    desk.harvest()
    with desk.ctx.read_session() as session:
        status = session.execute(select(Order.status).where(Order.marketplace_order_id == order["id"])).scalar()
        action = session.get(OrderAction, queued.action_id)
    assert status is NormalizedStatus.Canceled  # the marketplace's status is stored
    assert action.state is ActionState.pending and action.attempts == 0  # the action was left alone

    report = desk.send()  # the action is still tried; the marketplace refuses it
    [outcome] = report.outcomes
    assert outcome.state is ActionState.failed and "annulée" not in outcome.message
    with desk.ctx.read_session() as session:
        action = session.get(OrderAction, queued.action_id)
    assert action.state is ActionState.failed and "cancelled" in (action.last_error or "")
    assert desk.effects("leboncoin") == []
