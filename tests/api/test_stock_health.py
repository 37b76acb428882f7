"""Stock through the API feeds the stock loop exactly as ``shelfdesk stock set``; health and readiness."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shelfdesk.db.models import AuditLog, Product
from shelfdesk.publishing.pusher import push_stock_sync
from tests.publishing.conftest import Shop, _running, sandboxes, shop  # noqa: F401 (fixtures)

from .conftest import Api, error_of

SKU = "IPH13-128-MID-GOOD"


def _stock(api: Api, sku: str) -> int:
    with api.ctx.read_session() as session:
        return session.execute(select(Product.stock).where(Product.sku == sku)).scalar_one()


def test_a_stock_put_reaches_the_sandbox_through_the_stock_loop(api: Api, shop: Shop) -> None:
    listings = shop.listings()
    shop.add_product(SKU, price=listings[SKU]["price"], stock=5)
    shop.add_product("GA52-128-BLK-EXC", price=listings["GA52-128-BLK-EXC"]["price"], stock=5)
    shop.publish(shop.bm_channel)
    push_stock_sync(shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
    assert shop.listings()[SKU]["quantity"] == 5

    response = api.writer.put(f"/v1/stock/{shop.store_id}/{SKU}", json={"quantity": 2})
    assert response.status_code == 200, response.text
    assert response.json()["changed"] == 1 and response.json()["marked"] >= 1
    push_stock_sync(shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
    assert shop.listings()[SKU]["quantity"] == 2

    batch = api.writer.post(
        f"/v1/stock/{shop.store_id}",
        json={"items": [{"sku": "GA52-128-BLK-EXC", "quantity": 1}, {"sku": "NOPE-1", "quantity": 3}, {"sku": SKU, "quantity": -1}]},
    )
    assert batch.status_code == 200, batch.text
    result = batch.json()
    assert result["changed"] == 1 and result["unknown"] == ["NOPE-1"] and len(result["errors"]) == 1
    assert "item 2" in result["errors"][0] and _stock(api, SKU) == 2  # the bad line is refused, the rest applied
    push_stock_sync(shop.ctx, shop.bm_channel, factory=shop.factory, settle=False)
    assert shop.listings()["GA52-128-BLK-EXC"]["quantity"] == 1
    with api.ctx.read_session() as session:
        audited = session.execute(select(AuditLog.actor, AuditLog.details).where(AuditLog.action == "stock.set")).all()
    assert [(a, d["source"]) for a, d in audited] == [("api:erp", "api"), ("api:erp", "api")]


def test_stock_answers_as_the_cli_does(api: Api, shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    from shelfdesk.cli import main

    shop.add_product(SKU, price=100, stock=5)
    assert main(["stock", "set", str(shop.store_id), f"{SKU}=4", "--json", "--home", str(api.ctx.paths.home)]) == 0
    cli = json.loads(capsys.readouterr().out)
    over_api = api.writer.put(f"/v1/stock/{shop.store_id}/{SKU}", json={"quantity": 4}).json()
    assert set(cli) == set(over_api) and cli["changed"] == over_api["unchanged"] == 1 and _stock(api, SKU) == 4


def test_stock_refusals(api: Api, shop: Shop) -> None:
    shop.add_product(SKU, price=100, stock=5)
    cases = [
        (f"/v1/stock/{shop.store_id}/{SKU}", {"quantity": "many"}, 422, "quantity"),
        (f"/v1/stock/{shop.store_id}/{SKU}", {"quantity": 10_000_001}, 422, "quantity"),
        (f"/v1/stock/{shop.store_id}/{SKU}", {"quantity": True}, 422, "quantity"),
        (f"/v1/stock/{shop.store_id}/{SKU}", {"quantity": 1, "price": 3}, 422, "price"),
        (f"/v1/stock/{shop.store_id}/NOPE", {"quantity": 1}, 404, "sku"),
        (f"/v1/stock/Nowhere/{SKU}", {"quantity": 1}, 404, "store"),
    ]
    for path, body, status, field in cases:
        response = api.writer.put(path, json=body)
        assert response.status_code == status and error_of(response)["field"] == field, (body, response.text)
    for body in ({"items": []}, {"items": "x"}, {}):
        response = api.writer.post(f"/v1/stock/{shop.store_id}", json=body)
        assert response.status_code == 422, response.text
    assert api.writer.put(f"/v1/stock/{shop.store_id}/{SKU}", json=[1]).status_code == 400
    assert _stock(api, SKU) == 5


def test_status_is_status_json_and_ready_answers(api: Api, shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    from shelfdesk.cli import main

    over_api = api.reader.get("/v1/status").json()
    main(["status", "--json", "--home", str(api.ctx.paths.home)])
    cli = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in over_api["channels"]] == [c["name"] for c in cli["channels"]]
    assert set(over_api) == set(cli) and over_api["critical"] == cli["critical"]
    from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN

    assert DEFAULT_TOKEN not in json.dumps(over_api) and api.read_token not in json.dumps(over_api)
    assert api.client().get("/v1/ready").status_code == 200


def test_an_sku_holding_a_slash_is_one_path_segment(api: Api, shop: Shop) -> None:
    """``A/B`` sent as ``A%2FB`` names that SKU; it is not two segments routed elsewhere."""
    shop.add_product("CASE/BLK-01", price=100, stock=5)
    response = api.writer.put(f"/v1/stock/{shop.store_id}/CASE%2FBLK-01", json={"quantity": 3})
    assert response.status_code == 200, response.text
    assert _stock(api, "CASE/BLK-01") == 3
    missing = api.writer.put(f"/v1/stock/{shop.store_id}/CASE%2fNOPE", json={"quantity": 3})
    assert missing.status_code == 404 and "CASE/NOPE" in error_of(missing)["message"]
    order = api.reader.get("/v1/orders/0%2F0")  # no longer a 405 from POST /v1/orders/{order}/{action}
    assert order.status_code == 404 and error_of(order)["field"] == "order", order.text
