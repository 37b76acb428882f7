"""Storing marketplace orders: latest copy wins, silence never erases, every change is an event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from shelfdesk.channels.base import RemoteOrder, RemoteOrderLine
from shelfdesk.context import AppContext
from shelfdesk.db.models import Order, OrderEvent, OrderLine
from shelfdesk.domain import ActionKind, EventSource, Marketplace, NormalizedStatus, OrderScope
from shelfdesk.orders.store import AccountScope, ChannelScope, action_visible, store_remote_orders

from .conftest import ADDRESS, remote

S = NormalizedStatus


def store(ctx: AppContext, scope: AccountScope, *remotes: RemoteOrder):  # type: ignore[no-untyped-def]
    with ctx.write_session() as session:
        return store_remote_orders(session, scope, remotes, ctx.clock.now())


def order(ctx: AppContext, oid: str = "1") -> Order:
    with ctx.read_session() as session:
        return session.execute(select(Order).where(Order.marketplace_order_id == oid)).scalar_one()


def events(ctx: AppContext) -> list[tuple[str, str | None, str | None, str | None]]:
    with ctx.read_session() as session:
        return [
            tuple(r)
            for r in session.execute(
                select(OrderEvent.kind, OrderEvent.field, OrderEvent.old_value, OrderEvent.new_value).order_by(OrderEvent.id)
            )
        ]


def test_the_latest_copy_of_an_order_wins_and_an_older_one_is_ignored(ctx: AppContext, scope: AccountScope) -> None:
    outcome = store(ctx, scope, remote(ctx, minutes=5, raw="3", status=S.InProgress), remote(ctx, minutes=1))
    assert len(outcome.created) == 1 and order(ctx).marketplace_status == "3"
    late = store(ctx, scope, remote(ctx, minutes=2, raw="1"))  # an old page arriving late
    assert late.stale == 1 and order(ctx).marketplace_status == "3"
    same = store(ctx, scope, remote(ctx, minutes=5, raw="3", status=S.InProgress))
    assert same.unchanged == 1 and same.events == 0
    with ctx.read_session() as session:
        assert session.execute(select(OrderLine.order_id)).scalars().all() == [order(ctx).id]


def test_changes_of_status_amount_and_address_are_events_and_silence_erases_nothing(ctx: AppContext, scope: AccountScope) -> None:
    store(ctx, scope, remote(ctx))
    assert order(ctx).shipping_address is None and not order(ctx).address_missing  # New without address: normal
    store(ctx, scope, remote(ctx, minutes=1, raw="3", status=S.InProgress))
    assert order(ctx).address_missing  # accepted and still no address: flagged, not dropped
    store(ctx, scope, remote(ctx, minutes=2, raw="3", status=S.InProgress, total="90.00", address=ADDRESS, tracking="6A1"))
    stored = order(ctx)
    assert not stored.address_missing and stored.buyer_email == "lea@example.org" and stored.total == Decimal("90.00")
    store(ctx, scope, remote(ctx, minutes=3, raw="9", status=S.Shipped, total="90.00"))  # address and tracking omitted
    stored = order(ctx)
    assert stored.shipping_address == ADDRESS and stored.tracking_number == "6A1" and stored.status is S.Shipped
    assert events(ctx) == [
        ("status_changed", "status", "New", "InProgress"),
        ("amount_changed", "total", "100.00", "90.00"),
        ("address_changed", "shipping_address", None, "Léa Martin, 3 rue Pasteur, 69003 Lyon, FR"),
        ("status_changed", "status", "InProgress", "Shipped"),
    ]
    with ctx.read_session() as session:
        sources = set(session.execute(select(OrderEvent.source)).scalars())
    assert sources == {EventSource.harvest}


def test_an_order_outside_every_channel_scope_is_counted_not_stored(ctx: AppContext, scope: AccountScope) -> None:
    spain = remote(ctx, "2")
    spain.country = "ES"
    outcome = store(ctx, scope, spain)
    assert outcome.out_of_scope == 1 and outcome.created == []
    wide = AccountScope(
        scope.account_id,
        scope.marketplace,
        tuple(ChannelScope(c.id, c.store_id, c.name, c.market, c.country, OrderScope.account) for c in scope.channels),
    )
    assert store(ctx, wide, spain).created and order(ctx, "2").channel_id == scope.channels[0].id


def test_action_visible_reads_the_marketplace_state() -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def make(status: S, lines: list[S], tracking: str | None = None) -> RemoteOrder:
        return RemoteOrder(
            Marketplace.backmarket,
            "1",
            None,
            status,
            now,
            now,
            "EUR",
            Decimal("1"),
            [RemoteOrderLine(str(i), f"S{i}", 1, Decimal("1"), "EUR", None, s) for i, s in enumerate(lines)],
            tracking_number=tracking,
        )

    assert action_visible(ActionKind.accept, {"skus": ["S0"]}, make(S.New, [S.InProgress, S.New]))
    assert not action_visible(ActionKind.accept, {"skus": ["S0", "S1"]}, make(S.New, [S.InProgress, S.New]))
    assert action_visible(ActionKind.cancel, {"skus": ["S1"]}, make(S.New, [S.New, S.Canceled]))
    assert action_visible(ActionKind.ship, {"fields": {"tracking_number": "A"}}, make(S.Shipped, [S.Shipped], "A"))
    assert not action_visible(ActionKind.ship, {"fields": {"tracking_number": "A"}}, make(S.Shipped, [S.Shipped], "B"))
    assert action_visible(ActionKind.confirm_shipping, {"fields": {"tracking_number": "A"}}, make(S.Closed, [S.Closed]))
    assert not action_visible(ActionKind.confirm_availability, {}, make(S.New, [S.New]))


def test_accepted_orders_without_address_raise_an_alert(ctx: AppContext, scope: AccountScope) -> None:
    from shelfdesk.jobs.alerts import list_alerts

    store(ctx, scope, remote(ctx, "X", raw="3", status=S.InProgress))
    [alert] = [a for a in list_alerts(ctx) if a.kind == "address_missing"]
    assert alert.message == "1 accepted order(s) have no shipping address yet"
    store(ctx, scope, remote(ctx, "X", minutes=1, raw="3", status=S.InProgress, address=ADDRESS))
    assert [a for a in list_alerts(ctx) if a.kind == "address_missing"] == []
