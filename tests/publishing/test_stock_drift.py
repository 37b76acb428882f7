"""The drift check against the Back Market sandbox: a listing changed in the marketplace's back office is
found, listed as a drift record, and its correction reaches the marketplace through the stock pusher."""

from __future__ import annotations

import json
from typing import Any

from shelfdesk.cli import main
from shelfdesk.publishing.drift import DRIFT, check_drift_sync, push_corrections
from shelfdesk.publishing.pusher import push_stock_sync
from tests.publishing.conftest import Shop

SKU = "IPH13-128-MID-GOOD"


def _changed_in_back_office(shop: Shop, sku: str, quantity: int) -> None:
    listing = next(l for l in shop.sb.backmarket.state["listings"].values() if l["sku"] == sku)
    listing["quantity"] = quantity


def _baseline(shop: Shop) -> dict[str, Any]:
    listings = shop.listings()
    for sku in (SKU, "GA52-128-BLK-EXC"):
        shop.add_product(sku, price=listings[sku]["price"], stock=listings[sku]["quantity"])
    shop.publish(shop.bm_channel)
    return listings


def test_a_listing_changed_in_the_back_office_is_a_drift_and_its_correction_is_pushed(shop: Shop) -> None:
    listings = _baseline(shop)
    assert check_drift_sync(shop.ctx, shop.bm_channel, factory=shop.factory).drifts == []
    _changed_in_back_office(shop, SKU, listings[SKU]["quantity"] + 7)

    report = check_drift_sync(shop.ctx, shop.bm_channel, factory=shop.factory)
    [drift] = report.drifts
    assert (drift.sku, drift.marketplace_quantity, drift.expected_quantity) == (
        SKU,
        listings[SKU]["quantity"] + 7,
        listings[SKU]["quantity"],
    )
    record = shop.publication(report.publication_id)
    assert record.started_by == DRIFT and record.dry_run and record.planned == 1
    assert shop.listings()[SKU]["quantity"] == listings[SKU]["quantity"] + 7  # a check changes nothing there

    assert push_corrections(shop.ctx, shop.bm_channel, publication_id=report.publication_id) == 1
    result = push_stock_sync(shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
    assert result.realtime == 1 and shop.listings()[SKU]["quantity"] == listings[SKU]["quantity"]
    assert check_drift_sync(shop.ctx, shop.bm_channel, factory=shop.factory).drifts == []


def test_publications_drift_json_lists_the_differences_and_push_queues_them(shop: Shop, capsys) -> None:  # type: ignore[no-untyped-def]
    listings = _baseline(shop)
    _changed_in_back_office(shop, SKU, 0)
    code = main(["publications", "drift", "Refurb Paris", "fr-fr", "--json", "--push", "--home", str(shop.ctx.paths.home)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(d["sku"], d["marketplace_quantity"], d["expected_quantity"]) for d in data["drifts"]] == [
        (SKU, 0, listings[SKU]["quantity"])
    ] and data["pushed"] == 1
    from shelfdesk.publishing.dirty import read_marks

    with shop.ctx.read_session() as session:
        assert [(m.sku, m.reason) for m in read_marks(session, shop.bm_channel)] == [(SKU, "drift")]
