"""The auto-accept rule, per channel: catalog and stock decide, every automatic action is audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shelfdesk.clock import FakeClock
from shelfdesk.context import AppContext
from shelfdesk.db.models import AuditLog, Channel, Order, OrderAction, OrderEvent
from shelfdesk.domain import ActionKind, EventSource
from shelfdesk.sandbox.server import RunningSandboxes

from .conftest import Desk, add_products, make_desk


@pytest.fixture
def auto_desk(ctx: AppContext, sandboxes: RunningSandboxes, clock: FakeClock) -> Iterator[Desk]:
    d = make_desk(ctx, sandboxes, clock, auto_accept=True)
    yield d
    d.bm.close()
    d.lbc.close()


def _held(desk: Desk) -> dict[str, str | None]:
    with desk.ctx.read_session() as session:
        return dict(session.execute(select(Order.marketplace_order_id, Order.hold_reason)).all())  # type: ignore[arg-type]


def _queued(desk: Desk) -> dict[str, tuple[ActionKind, str | None]]:
    with desk.ctx.read_session() as session:
        rows = session.execute(
            select(Order.marketplace_order_id, OrderAction.kind, OrderAction.actor).join(Order, Order.id == OrderAction.order_id)
        ).all()
    return {mid: (ActionKind(kind), actor) for mid, kind, actor in rows}


def test_new_orders_with_catalog_stock_are_accepted_by_the_rule_and_the_rest_held(auto_desk: Desk) -> None:
    desk = auto_desk
    add_products(desk.ctx, desk.store_id, {"IPH13-128-MID-GOOD": 3, "APP1-WHT-EXC": 5, "GA52-128-BLK-EXC": 0})
    with desk.ctx.write_session() as session:  # keep one iPhone back as safety stock
        session.execute(update(Channel).where(Channel.id == desk.bm_channel).values(safety_stock=1))
    iphones = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="paid", count=3)
    [galaxy] = desk.new_orders("backmarket", ["GA52-128-BLK-EXC"], fate="paid")
    [unknown] = desk.new_orders("backmarket", ["NSW-OLED-WHT-EXC"], fate="paid")
    [unpaid] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="pending_payment")
    [lbc] = desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid")

    results = desk.harvest()
    assert sum(r.auto_accepted for r in results) == 3

    queued = _queued(desk)
    accepted = [str(o["order_id"]) for o in iphones[:2]]
    assert queued == {
        accepted[0]: (ActionKind.accept, "rule:auto-accept"),
        accepted[1]: (ActionKind.accept, "rule:auto-accept"),
        lbc["id"]: (ActionKind.confirm_availability, "rule:auto-accept"),
    }
    held = _held(desk)
    assert held[str(iphones[2]["order_id"])] == "SKU IPH13-128-MID-GOOD: 1 wanted, 0 available (stock 3, safety 1)"
    assert held[str(galaxy["order_id"])].startswith("SKU GA52-128-BLK-EXC: 1 wanted, 0 available")  # type: ignore[union-attr]
    assert held[str(unknown["order_id"])] == "SKU NSW-OLED-WHT-EXC is not in the catalog"
    assert "does not allow accept line" in (held[str(unpaid["order_id"])] or "")

    desk.send()
    effects = desk.effects("backmarket")
    assert sorted(str(e["order_id"]) for e in effects) == sorted(accepted) and {e["new_state"] for e in effects} == {2}
    assert [e["action"] for e in desk.effects("leboncoin")] == ["confirm-availability"]
    with desk.ctx.read_session() as session:
        audit = session.execute(select(AuditLog.actor, AuditLog.action, AuditLog.target_id)).all()
        rule_events = session.execute(
            select(OrderEvent.kind, Order.marketplace_order_id)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(OrderEvent.source == EventSource.rule)
        ).all()
    assert sorted(a for a in audit if a[0] == "rule:auto-accept") == sorted(
        [("rule:auto-accept", "order.accept", oid) for oid in accepted] + [("rule:auto-accept", "order.confirm_availability", lbc["id"])]
    )
    mine_held = {str(o["order_id"]) for o in (iphones[2], galaxy, unknown, unpaid)}
    assert sorted(mid for kind, mid in rule_events if kind == "action_queued") == sorted([*accepted, lbc["id"]])
    assert mine_held <= {mid for kind, mid in rule_events if kind == "auto_accept_held"}
    # The sandbox's own older orders predate the channel's activation: held, never accepted.
    assert all(r.startswith("bought before") for mid, r in held.items() if r and mid not in mine_held)

    desk.clock.advance(timedelta(minutes=5))
    again = desk.harvest()  # the accepted orders changed: the rule does not act twice on them
    assert sum(r.auto_accepted for r in again) == 0 and len(_queued(desk)) == 3


def test_orders_bought_before_the_channel_was_activated_are_never_auto_accepted(auto_desk: Desk) -> None:
    desk = auto_desk
    add_products(desk.ctx, desk.store_id, {"APP1-WHT-EXC": 9})
    [old] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid")
    desk.clock.advance(timedelta(hours=1))
    with desk.ctx.write_session() as session:
        session.execute(update(Channel).where(Channel.id == desk.bm_channel).values(activated_at=desk.clock.now()))
    [new] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid")
    desk.harvest(channel="Back Market France")
    assert set(_queued(desk)) == {str(new["order_id"])}
    assert (_held(desk)[str(old["order_id"])] or "").startswith("bought before the channel was activated")


def test_auto_accept_is_off_by_default(desk: Desk) -> None:
    add_products(desk.ctx, desk.store_id, {"APP1-WHT-EXC": 9})
    desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid")
    [result, _] = desk.harvest()
    assert result.auto_accepted == 0 and _queued(desk) == {}
