"""How the Back Market connector reads what its published contract allows (and what it does not foresee).

In-memory answers, so each shape the spec permits can be given exactly; the
contract tests run the same connector against the sandbox over loopback.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.base import BatchState, BatchTicket
from shelfdesk.channels.errors import NotFound
from shelfdesk.clock import FakeClock
from shelfdesk.domain import Marketplace, PublicationKind

BASE = "https://www.backmarket.fr"


def connector(clock: FakeClock, answer: Any, seen: list[httpx.Request] | None = None, **kw: Any) -> BackMarketConnector:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return answer(request)

    return BackMarketConnector(
        token="t0k",
        clock=clock,
        company="Acme",
        contact_email="ops@acme.test",
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        rng=random.Random(1),
        **kw,
    )


def order(**changes: Any) -> dict[str, Any]:
    base = {
        "order_id": 7,
        "state": 1,
        "country_code": "fr-fr",
        "currency": "EUR",
        "price": "600.00",
        "shipping_price": "0.00",
        "date_creation": "2026-03-02T09:00:00Z",
        "date_modification": "2026-03-02T09:00:00Z",
        "shipping_address": {"first_name": "Léa", "last_name": "Martin", "postal_code": "69003", "country": "FR"},
        "orderlines": [{"id": 11, "state": 1, "listing": "SKU-A", "quantity": 2, "price": "300.00", "product_id": 141}],
    }
    base.update(changes)
    return base


async def read(clock: FakeClock, raw: dict[str, Any]):
    async with connector(clock, lambda r: httpx.Response(200, json=raw)) as bm:
        return await bm.get_order("7")


@pytest.mark.parametrize(("locale", "country"), [("fr-fr", "FR"), ("en-gb", "GB"), ("de-at", "AT"), ("fr-be", "BE"), ("EN-GB", "GB")])
async def test_country_code_is_a_locale_whose_country_is_after_the_dash(clock: FakeClock, locale: str, country: str) -> None:
    remote = await read(clock, order(country_code=locale))
    assert remote.country == country and remote.problems == ()


@pytest.mark.parametrize("code", ["fr-lu", "Francia", 33])
async def test_a_market_outside_the_enum_is_flagged_and_the_address_says_the_country(clock: FakeClock, code: Any) -> None:
    remote = await read(clock, order(country_code=code))
    assert remote.country == "FR" and remote.problems == ("country_code",)  # the address's country
    assert remote.raw["country_code"] == code
    nowhere = await read(clock, order(country_code=code, shipping_address={}))
    assert nowhere.country is None and nowhere.problems == ("country_code",)


async def test_line_price_is_the_unit_price(clock: FakeClock) -> None:
    remote = await read(clock, order())
    [line] = remote.lines
    assert (line.quantity, line.unit_price) == (2, Decimal("300.00"))
    assert line.unit_price * line.quantity == remote.total


async def test_product_id_is_an_integer_and_a_uuid_is_kept(clock: FakeClock) -> None:
    assert (await read(clock, order())).lines[0].product_id == "141"
    uuid = "3f0c1a5e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
    lines = [{"id": 11, "state": 1, "listing": "SKU-A", "quantity": 1, "price": "300.00", "product_id": uuid}]
    assert (await read(clock, order(orderlines=lines, price="300.00"))).lines[0].product_id == uuid


@pytest.mark.parametrize(
    "address",
    [
        {"firstName": "Victor", "lastName": "Hugo", "postalCode": "75003", "phoneNumber": "+33639981234", "country": "FR"},
        {"first_name": "Victor", "last_name": "Hugo", "postal_code": "75003", "phone": "+33639981234", "country": "FR"},
        {
            "first_name": "",
            "firstName": "Victor",
            "lastName": "Hugo",
            "last_name": None,
            "postal_code": "75003",
            "phoneNumber": "+33639981234",
            "country": "FR",
        },
    ],
    ids=["camelCase", "snake_case", "mixed"],
)
async def test_both_address_shapes_read_the_same(clock: FakeClock, address: dict[str, Any]) -> None:
    remote = await read(clock, order(shipping_address=address, billing_address=address))
    assert remote.customer_name == "Victor Hugo"
    expected = {"first_name": "Victor", "last_name": "Hugo", "postal_code": "75003", "phone": "+33639981234", "country": "FR"}
    assert remote.shipping_address == expected and remote.billing_address == expected
    assert remote.raw["shipping_address"] == address  # what was sent is kept as it came


async def test_when_both_names_are_filled_the_snake_case_one_is_kept(clock: FakeClock) -> None:
    remote = await read(clock, order(shipping_address={"first_name": "Léa", "firstName": "Lea", "lastName": "Martin"}))
    assert remote.shipping_address == {"first_name": "Léa", "last_name": "Martin"}


@pytest.mark.parametrize("unset", ["absent", "empty", "null"])
async def test_non_nullable_fields_may_be_absent_or_empty(clock: FakeClock, unset: str) -> None:
    fields = ("tracking_number", "tracking_url", "date_shipping", "shipper_display", "expected_dispatch_date")
    line_fields = ("imei", "serial_number", "shipping_price", "return_message")
    raw = order()
    line = raw["orderlines"][0]
    for name, target in [(f, raw) for f in fields] + [(f, line) for f in line_fields]:
        if unset != "absent":
            target[name] = "" if unset == "empty" else None
    remote = await read(clock, raw)
    assert remote.tracking_number is None and remote.shipper is None and remote.deadline is None
    assert remote.lines[0].imei is None and remote.lines[0].serial_number is None
    assert remote.lines[0].shipping_price == 0 and remote.problems == ()


async def test_unreadable_fields_keep_the_order_and_are_named(clock: FakeClock) -> None:
    raw = order(
        price="six hundred",
        shipping_address="Lyon",
        orderlines=[
            {"id": 11, "state": 1, "listing": "SKU-A", "quantity": "two", "price": "300.00"},
            {"id": 12, "state": 1, "listing": "SKU-B", "quantity": 1, "price": "3O0"},
            "SKU-C",
        ],
    )
    remote = await read(clock, raw)
    assert remote.remote_id == "7" and [l.sku for l in remote.lines] == ["SKU-A", "SKU-B"]
    assert remote.problems == ("orderlines[0].quantity", "orderlines[1].price", "orderlines[2]", "shipping_address", "price")
    assert remote.raw == raw


async def test_accept_language_is_the_market_it_is_given(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []
    page = {"count": 1, "next": None, "previous": None, "results": [order(country_code="en-gb")]}
    for language, sent in (("en-gb", "en-gb"), ("GB", "en-gb"), ("de-AT", "de-at")):
        async with connector(clock, lambda r: httpx.Response(200, json=page), seen, language=language) as bm:
            [[remote]] = [p async for p in bm.iter_orders()]
        assert seen[-1].headers["accept-language"] == sent and remote.country == "GB"


async def test_a_next_link_under_another_scheme_keeps_paging_on_the_configured_origin(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json={"count": 2, "next": None, "previous": None, "results": [order(order_id=8)]})
        following = "http://www.backmarket.fr/ws/orders?page=2&page-size=50"  # http behind an https API
        return httpx.Response(200, json={"count": 2, "next": following, "previous": None, "results": [order()]})

    async with connector(clock, answer, seen) as bm:
        ids = [o.remote_id async for page in bm.iter_orders() for o in page]
    assert ids == ["7", "8"]
    assert [str(r.url) for r in seen][-1] == "https://www.backmarket.fr/ws/orders?page=2&page-size=50"


async def test_a_next_link_to_another_host_is_still_refused(clock: FakeClock) -> None:
    page = {"count": 2, "next": "https://evil.test/ws/orders?page=2", "previous": None, "results": [order()]}
    async with connector(clock, lambda r: httpx.Response(200, json=page)) as bm:
        with pytest.raises(Exception, match="another host: evil.test"):
            [p async for p in bm.iter_orders()]


async def test_the_v1_error_envelope_gives_message_code_and_request_id(clock: FakeClock) -> None:
    body = {"error": {"code": "listing-not-found", "message": "Listing not found", "target": "listingId"}, "requestId": "req-42"}
    async with connector(clock, lambda r: httpx.Response(404, json=body)) as bm:
        with pytest.raises(NotFound) as info:
            await bm.get_listing(listing_id="x")
    assert (info.value.message, info.value.code, info.value.request_id) == ("Listing not found", "listing-not-found", "req-42")


async def test_a_plain_string_400_is_the_message(clock: FakeClock) -> None:
    async with connector(clock, lambda r: httpx.Response(400, json="quantity: must be an integer")) as bm:
        outcome = await bm.update_listing_now(sku="SKU-A", listing_id="x", quantity=1)
    assert not outcome.ok and outcome.message == "quantity: must be an integer"


def ticket(*skus: str) -> BatchTicket:
    return BatchTicket(Marketplace.backmarket, PublicationKind.offers, "9001", skus, FakeClock().now())


@pytest.mark.parametrize("result", [None, "done", {"processed": 2}, [{"line": 2, "state": "ok"}], 42], ids=str)
async def test_a_succeeded_task_whose_result_cannot_be_read_confirms_each_sku_from_its_listing(clock: FakeClock, result: Any) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ws/tasks/9001":
            return httpx.Response(
                200, json={"task_id": 9001, "action_status": 9, "last_action_error": None, "result": result, "statuscode": 200}
            )
        if request.url.params["sku"] == "SKU-A":
            return httpx.Response(200, json={"id": "l-1", "sku": "SKU-A", "quantity": 3, "price": "10.00", "statuscode": 200})
        return httpx.Response(404, json={"error": {"code": "not-found", "message": "no listing"}, "requestId": "r"})

    async with connector(clock, answer, seen) as bm:
        batch = await bm.get_batch(ticket("SKU-A", "SKU-B"))
    assert batch.state is BatchState.done and batch.unread_result == result
    a, b = batch.items
    assert a.ok and a.remote_id == "l-1" and "confirmed by reading the listing back" in a.message
    assert not b.ok and "no listing has this SKU after the task" in b.message
    assert [r.url.params.get("sku") for r in seen[1:]] == ["SKU-A", "SKU-B"]


async def test_a_readable_result_is_used_as_it_is(clock: FakeClock) -> None:
    result = [
        {"sku": "SKU-A", "status": "updated", "listing_id": "l-1"},
        {"sku": "SKU-B", "status": "error", "errors": [{"code": "invalid-quantity", "message": "bad"}]},
    ]
    task = {"task_id": 9001, "action_status": 9, "last_action_error": None, "result": result, "statuscode": 200}
    seen: list[httpx.Request] = []
    async with connector(clock, lambda r: httpx.Response(200, json=task), seen) as bm:
        batch = await bm.get_batch(ticket("SKU-A", "SKU-B"))
    assert [(i.ok, i.code) for i in batch.items] == [(True, None), (False, "invalid-quantity")]
    assert batch.unread_result is None and len(seen) == 1


async def test_a_failed_task_fails_its_skus_without_reading_listings(clock: FakeClock) -> None:
    task = {"task_id": 9001, "action_status": 8, "last_action_error": "bad file", "result": None, "statuscode": 200}
    seen: list[httpx.Request] = []
    async with connector(clock, lambda r: httpx.Response(200, json=task), seen) as bm:
        batch = await bm.get_batch(ticket("SKU-A"))
    assert batch.state is BatchState.failed and [(i.ok, i.message) for i in batch.items] == [(False, "bad file")]
    assert len(seen) == 1
