"""Bulk ship from CSV: a preview that says which rows cannot be applied and why, then exactly-once shipping."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from shelfdesk.db.models import CategoryMapping, OrderAction
from shelfdesk.domain import ActionKind, ActionState
from shelfdesk.orders.actions import batch_progress
from shelfdesk.orders.bulk import apply_bulk_ship, plan_bulk_ship
from shelfdesk.orders.detail import get_order_detail

from .conftest import BAD_IMEI, GOOD_IMEI, Desk, add_products


def test_preview_lists_every_row_that_cannot_be_applied_then_apply_ships_the_rest_once(desk: Desk, tmp_path: Path) -> None:
    add_products(desk.ctx, desk.store_id, {"IPH13-128-MID-GOOD": 9})
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
    plain, phone, bad_phone, no_tracking, twice = (
        str(o["order_id"])
        for o in desk.new_orders(
            "backmarket", ["APP1-WHT-EXC", "IPH13-128-MID-GOOD", "IPH13-128-MID-GOOD", "NSW-OLED-WHT-EXC", "APP1-WHT-EXC"], fate="accepted"
        )
    )
    [unaccepted] = [str(o["order_id"]) for o in desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="paid")]
    [lbc] = desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="awaiting_shipment")
    desk.harvest()
    csv_file = tmp_path / "parcels.csv"
    csv_file.write_text(
        "\ufefforder_id;carrier;tracking_number;imei\n"
        f"{plain};Colissimo;6A0001;\n"
        f"{phone};Colissimo;6A0002;{GOOD_IMEI}\n"
        f"{bad_phone};Colissimo;6A0003;{BAD_IMEI}\n"
        f"{no_tracking};Colissimo;;\n"
        f"{twice};UPS;1Z01;\n"
        f"{twice};UPS;1Z02;\n"
        "999999;UPS;1Z03;\n"
        f"{unaccepted};UPS;1Z04;\n"
        f"{lbc['id']};colissimo;LB0001;\n",
        encoding="utf-8",
    )

    plan = plan_bulk_ship(desk.ctx, csv_file)
    assert [(i.order, i.kind) for i in plan.valid] == [
        (plain, ActionKind.ship),
        (phone, ActionKind.ship),
        (lbc["id"], ActionKind.confirm_shipping),
    ]
    problems = {i.where: (i.order, i.field, i.error) for i in plan.invalid}
    assert problems["line 4"][1] == "imei" and "Luhn" in problems["line 4"][2]
    assert problems["line 5"][1] == "tracking_number" and "missing required field(s) tracking_number" in problems["line 5"][2]
    assert problems["line 6, 7"][1] == "tracking_number" and "differs between the rows" in problems["line 6, 7"][2]
    assert problems["line 8"][1] == "order_id" and "no order '999999'" in problems["line 8"][2]
    assert problems["line 9"][1] == "status" and "needs an order that is InProgress; this one is New" in problems["line 9"][2]
    with desk.ctx.read_session() as session:  # a preview queues nothing
        assert session.execute(select(func.count()).select_from(OrderAction)).scalar() == 0

    plan, queued = apply_bulk_ship(desk.ctx, csv_file, batch_key="bulk-1")
    assert len(queued.queued) == 3 and len(queued.refused) == 5
    progress = batch_progress(desk.ctx, "bulk-1")
    assert (progress.total, progress.pending) == (3, 3)
    desk.send(batch_key="bulk-1")
    progress = batch_progress(desk.ctx, "bulk-1")
    assert (progress.confirmed, progress.failed, progress.done) == (3, 0, True)
    ships = [e for e in desk.effects("backmarket") if e["new_state"] == 3]
    assert sorted(str(e["order_id"]) for e in ships) == sorted([plain, phone])
    assert desk.sandbox_state("backmarket")["orders"][phone]["orderlines"][0]["imei"] == GOOD_IMEI
    assert [e["action"] for e in desk.effects("leboncoin")] == ["confirm-shipping"]
    assert get_order_detail(desk.ctx, lbc["id"]).tracking_number == "LB0001"  # kept by shelfdesk

    _, again = apply_bulk_ship(desk.ctx, csv_file, batch_key="bulk-2")  # the same file twice ships nothing twice
    assert again.queued == [] and batch_progress(desk.ctx, "bulk-2").total == 0
    desk.send()
    assert len([e for e in desk.effects("backmarket") if e["new_state"] == 3]) == 2
    with desk.ctx.read_session() as session:
        states = set(session.execute(select(OrderAction.state)).scalars())
    assert states == {ActionState.confirmed}
