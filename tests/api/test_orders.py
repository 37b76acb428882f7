"""Orders over the API: list, detail, actions through the outbox, idempotency across a restart, validation."""

from __future__ import annotations

from sqlalchemy import func, select

from shelfdesk.db.models import AuditLog, OrderAction
from shelfdesk.domain import ActionState, NormalizedStatus

from .conftest import BAD_IMEI, GOOD_IMEI, Api, Desk, error_of


def _outbox(desk: Desk) -> int:
    with desk.ctx.read_session() as session:
        return session.execute(select(func.count()).select_from(OrderAction)).scalar_one()


def test_list_and_detail_of_harvested_orders(api: Api, desk: Desk) -> None:
    made = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD", "GA52-128-BLK-EXC"], fate="paid")
    desk.new_orders("leboncoin", ["APP1-WHT-EXC"], fate="paid")
    desk.harvest()
    first = api.reader.get("/v1/orders", params={"limit": 2, "counts": "true"}).json()
    total = sum(first["counts"].values())
    seen, page = [], first
    while True:
        assert len(page["orders"]) <= 2
        seen += [o["marketplace_order_id"] for o in page["orders"]]
        if page["next"] is None:
            break
        page = api.reader.get("/v1/orders", params={"limit": 2, "cursor": page["next"]}).json()
    assert len(seen) == len(set(seen)) == total > 3
    only_bm = api.reader.get("/v1/orders", params={"channel": "bm-fr", "status": "New", "limit": 500}).json()
    assert {str(o["order_id"]) for o in made} <= {o["marketplace_order_id"] for o in only_bm["orders"]}
    assert {(o["channel_code"], o["status"]) for o in only_bm["orders"]} == {("BM FR", "New")}
    row = only_bm["orders"][0]
    assert isinstance(row["total"], str) and "." in row["total"]  # money as a decimal string
    assert row["purchased_at"].endswith("+00:00")  # RFC 3339, UTC

    oid = str(made[0]["order_id"])
    detail = api.reader.get(f"/v1/orders/{oid}").json()
    assert detail["marketplace_order_id"] == oid and detail["status"] == "New" and detail["lines"]
    assert "payload" not in detail and detail["invoice"] is None and detail["accept_by"]
    assert {c["kind"] for c in detail["choices"]} >= {"accept", "cancel"}
    assert api.reader.get("/v1/orders/nope").status_code == 404


def test_list_filters_are_validated_by_name(api: Api) -> None:
    for params, field in (({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"invoiced": "maybe"}, "invoiced")):
        response = api.reader.get("/v1/orders", params=params)
        assert response.status_code == 422 and error_of(response)["field"] == field
    for params in ({"after": "yesterday"}, {"status": "Lost"}, {"store": "Nowhere"}, {"cursor": "garbage"}, {"channel": "nope"}):
        response = api.reader.get("/v1/orders", params=params)
        assert response.status_code == 422, (params, response.text)
        assert list(params.values())[0] in error_of(response)["message"]


def test_accept_then_ship_with_tracking_and_imei_confirmed_at_the_sandbox(api: Api, desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="paid")
    oid = str(order["order_id"])
    desk.harvest()
    accepted = api.writer.post(f"/v1/orders/{oid}/accept")
    assert accepted.status_code == 202, accepted.text
    action = accepted.json()
    assert action["created"] and action["kind"] == "accept" and action["state"] == "pending"
    assert api.reader.get(action["links"]["action"]).json()["state"] == "pending"
    assert [o.state for o in desk.send().outcomes] == [ActionState.confirmed]
    assert api.reader.get(f"/v1/actions/{action['action_id']}").json()["state"] == "confirmed"

    bad = api.writer.post(f"/v1/orders/{oid}/ship", json={"carrier": "Colissimo", "tracking_number": "6A1", "imei": BAD_IMEI})
    assert bad.status_code == 422 and error_of(bad)["field"] == "imei"
    shipped = api.writer.post(f"/v1/orders/{oid}/ship", json={"carrier": "Colissimo", "tracking_number": "6A1", "imei": GOOD_IMEI})
    assert shipped.status_code == 202, shipped.text
    assert [o.state for o in desk.send().outcomes] == [ActionState.confirmed]
    remote = desk.sandbox_state("backmarket")["orders"][oid]
    assert remote["state"] == 9 and remote["tracking_number"] == "6A1"
    assert [line["imei"] for line in remote["orderlines"]] == [GOOD_IMEI]
    detail = api.reader.get(f"/v1/orders/{oid}").json()
    assert detail["status"] == NormalizedStatus.Shipped.value and detail["tracking_number"] == "6A1"
    with desk.ctx.read_session() as session:
        audited = set(session.execute(select(AuditLog.action, AuditLog.actor).where(AuditLog.target_id == oid)).all())
    assert {("order.accept", "api:erp"), ("order.ship", "api:erp")} <= audited


def test_refusals_name_the_field(api: Api, desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="paid")
    oid = str(order["order_id"])
    desk.harvest()
    cases = [
        (f"/v1/orders/{oid}/ship", {"tracking_number": "1"}, 422, "status"),  # not accepted yet
        (f"/v1/orders/{oid}/accept", {"colour": "red"}, 422, "colour"),
        (f"/v1/orders/{oid}/ship", {"carrier": 5}, 422, "carrier"),
        (f"/v1/orders/{oid}/ship", {"identifiers": "x"}, 422, "identifiers"),
        (f"/v1/orders/{oid}/accept", {"skus": "all"}, 422, "skus"),
        (f"/v1/orders/{oid}/explode", {}, 404, "action"),
        ("/v1/orders/99999/accept", {}, 404, "order"),
    ]
    for path, body, status, field in cases:
        response = api.writer.post(path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert error_of(response)["field"] == field, (path, body, response.text)
    not_json = api.writer.post(f"/v1/orders/{oid}/accept", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and error_of(not_json)["code"] == "bad_request"
    assert api.reader.get("/v1/actions/123456").status_code == 404
    assert _outbox(desk) == 0  # nothing refused was queued


def test_idempotency_key_returns_the_first_answer_across_a_restart(api: Api, desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="paid")
    oid = str(order["order_id"])
    desk.harvest()
    key = {"Idempotency-Key": "erp-accept-42"}
    first = api.writer.post(f"/v1/orders/{oid}/accept", headers=key)
    assert first.status_code == 202 and "idempotent-replayed" not in first.headers
    api.restart()
    again = api.writer.post(f"/v1/orders/{oid}/accept", headers=key)
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _outbox(desk) == 1
    desk.send()
    # After it was sent, the same key still answers the same, and sends nothing again.
    assert api.writer.post(f"/v1/orders/{oid}/accept", headers=key).json() == first.json()
    assert desk.send().outcomes == [] and len(desk.effects("backmarket")) == 1
    other = api.writer.post(f"/v1/orders/{oid}/cancel", headers=key)
    assert other.status_code == 409 and error_of(other)["field"] == "Idempotency-Key"
    # Keys belong to a token: another token's same key is a new request.
    from shelfdesk.services.api_tokens import add_token

    _, second = add_token(api.ctx, "erp2", "write")
    fresh = api.client(second).post(f"/v1/orders/{oid}/ship", headers=key, json={"carrier": "UPS", "tracking_number": "1Z"})
    assert fresh.status_code == 202 and fresh.json()["action_id"] != first.json()["action_id"]


def test_a_refusal_is_replayed_too(api: Api, desk: Desk) -> None:
    [order] = desk.new_orders("backmarket", ["IPH13-128-MID-GOOD"], fate="paid")
    desk.harvest()
    path, key = f"/v1/orders/{order['order_id']}/ship", {"Idempotency-Key": "k1"}
    first = api.writer.post(path, headers=key, json={"tracking_number": "1"})
    assert first.status_code == 422
    again = api.writer.post(path, headers=key, json={"tracking_number": "1"})
    assert again.status_code == 422 and again.json() == first.json() and again.headers["idempotent-replayed"] == "true"


def test_leboncoin_confirm_availability_then_confirm_shipping_and_cancel(api: Api, desk: Desk) -> None:
    [a, b] = desk.new_orders("leboncoin", ["APP1-WHT-EXC", "JBL-FLIP5-NEW"], fate="paid")
    desk.harvest()
    assert api.writer.post(f"/v1/orders/{a['id']}/confirm_availability").status_code == 202
    assert api.writer.post(f"/v1/orders/{b['id']}/cancel", json={"reason": "out_of_stock"}).status_code == 202
    assert {o.state for o in desk.send().outcomes} == {ActionState.confirmed}
    shipped = api.writer.post(f"/v1/orders/{a['id']}/confirm_shipping", json={"carrier": "colissimo", "tracking_number": "XY12"})
    assert shipped.status_code == 202, shipped.text
    assert [o.state for o in desk.send().outcomes] == [ActionState.confirmed]
    actions = {(e["order_id"], e["action"]) for e in desk.effects("leboncoin")}
    assert actions == {(a["id"], "confirm-availability"), (a["id"], "confirm-shipping"), (b["id"], "cancel")}
    assert api.reader.get(f"/v1/orders/{a['id']}").json()["tracking_number"] == "XY12"
