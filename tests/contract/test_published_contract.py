"""The contract document itself: what it follows, what it covers, and that a divergence names its field."""

from __future__ import annotations

from pathlib import Path

from shelfdesk.markets import BACKMARKET_LOCALES
from shelfdesk.sandbox import contract
from shelfdesk.sandbox.backmarket import BackMarketSandbox


def test_it_names_the_spec_version_it_follows() -> None:
    doc = contract.load()
    assert doc["spec"] == {"title": "Back Market - API Guidelines", "openapi": "3.0.3", "version": "0.1.1"}
    assert doc["open_points"]


def test_every_route_of_the_sandbox_has_its_operation(tmp_path: Path) -> None:
    sandbox = BackMarketSandbox(tmp_path, history_orders=0)
    routes = {(method, route.path) for route in sandbox.routes() for method in route.methods or () if method != "HEAD"}
    covered = {
        (op.method, op.path.replace("{orderline_id}", "{line_id}").replace("{listingId}", "{listing_id}").replace("{taskId}", "{task_id}"))
        for op in contract.operations()
    }
    assert routes == covered


def test_the_market_table_is_the_specs_country_code_enum() -> None:
    assert tuple(contract.load()["$defs"]["CountryCode"]["enum"]) == BACKMARKET_LOCALES


def test_a_country_instead_of_a_locale_is_named_by_its_field() -> None:
    page = {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{"order_id": 1, "country_code": "FR", "orderlines": [{"id": 2, "product_id": "a-uuid"}]}],
    }
    found = contract.check_response("GET", "/ws/orders", 200, page)
    assert any(d.startswith("GET /ws/orders response 200: results[0].country_code: 'FR' is not one of") for d in found)
    assert any("results[0].orderlines[0].product_id: 'a-uuid' is not of type 'integer'" in d for d in found)


def test_non_nullable_fields_refuse_null_and_accept_empty_or_absent() -> None:
    assert contract.check_response("GET", "/ws/orders/1", 200, {"order_id": 1, "tracking_number": ""}) == []
    assert contract.check_response("GET", "/ws/orders/1", 200, {"order_id": 1}) == []
    [found] = contract.check_response("GET", "/ws/orders/1", 200, {"order_id": 1, "tracking_number": None})
    assert "tracking_number: None is not of type 'string'" in found


def test_requests_are_checked_for_query_header_and_body() -> None:
    found = contract.check_request("GET", "/ws/orders", query="page-size=100&since=x", headers={"accept_language": "FR"})
    assert any("query: page-size: 100 is greater than the maximum of 50" in d for d in found)
    assert any("query: Additional properties are not allowed ('since' was unexpected)" in d for d in found)
    assert any("header Accept-Language: 'FR' does not match" in d for d in found)
    [bad] = contract.check_request(
        "POST", "/ws/listings", body={"catalog": "sku\nA", "quotechar": '"', "delimiter": ";;", "encoding": "utf-8"}
    )
    assert "body: delimiter: ';;' is too long" in bad
    assert contract.check_request("POST", "/ws/orders/12", body={"order_id": 12, "new_state": 2, "sku": "A"}) == []
    assert contract.check_request("GET", "/ws/unknown") == ["GET /ws/unknown request: no such operation in the contract"]


def test_error_envelopes_by_endpoint() -> None:
    v1 = {"error": {"code": "not-found", "message": "Listing x not found"}, "requestId": "abc"}
    v2 = {"errors": [{"code": "x", "message": "y"}]}
    assert contract.check_response("GET", "/ws/listings/x", 404, v1) == []
    assert contract.check_response("GET", "/ws/listings/x", 404, v2) != []
    assert contract.check_response("POST", "/ws/listings/x", 400, "quantity cannot be negative") == []
    assert contract.check_response("POST", "/ws/listings/x", 400, v1) != []
    assert contract.check_response("GET", "/ws/orders/1", 404, v2) == []
    [odd] = contract.check_response("GET", "/ws/tasks/1", 409, v1)
    assert "the contract lists no such status" in odd
