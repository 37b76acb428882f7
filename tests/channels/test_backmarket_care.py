"""The Back Market connector's Care calls, on in-memory answers shaped as the Care spec allows.

The contract tests run the same calls against the sandbox over loopback; these
give each shape the spec permits (and a few it does not foresee) exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shelfdesk.channels.backmarket_care import care_endpoint, filter_date, parse_care_case
from shelfdesk.channels.errors import InvalidActionInput, UnknownOutcome
from shelfdesk.clock import FakeClock
from tests.channels.test_backmarket_reading import connector

DETAIL = {
    "id": 123,
    "state": 0,
    "country_code": "fr-fr",
    "date_creation": "2026-03-01T10:00:00+00:00",
    "date_modification": "2026-03-02T10:00:00+00:00",
    "date_last_message": "2026-03-02T09:00:00+00:00",
    "client": {"id": 0, "first_name": "John", "last_name": "Doe", "email": "john@example.test"},
    "orderline": {
        "id": 11,
        "order": {"order_id": 7, "state": 9},
        "snapshot": {"sku": "SKU-A", "listing": 4},
        "quantity": 1,
        "price": "300.00",
        "state": 3,
    },
    "lines": [
        {
            "id": 731,
            "state": 0,
            "issues": [{"customerIssue": "BATTERY_NOT_CHARGING", "tag": "TECHNICAL"}],
            "resolution_choice": "REFUND",
            "declared_warranty_state": "IN_WARRANTY",
            "return_labels": [{"state": "ALIVE", "label": "https://cdn.test/l.pdf", "kind": "CUSTOMER_TO_MERCHANT"}],
        }
    ],
    "messages": [
        {
            "id": 1,
            "message": "It does not charge",
            "date_creation": "2026-03-01T10:00:00+00:00",
            "initiator": "Customer",
            "kind": "CUSTOMER_TO_MERCHANT",
            "attachments": [{"id": 5, "attachment": "https://cdn.test/photo.jpg", "date_creation": "2026-03-01T10:00:00+00:00"}],
        },
        {"id": 2, "message": "Sorry!", "date_creation": "2026-03-01T11:00:00+00:00", "initiator": "Merchant", "kind": "MERCHANT_TO_ALL"},
    ],
}


def json_answer(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data)


async def test_detail_reads_claims_order_line_buyer_and_thread() -> None:
    clock = FakeClock()
    seen: list[httpx.Request] = []
    async with connector(clock, lambda r: json_answer(DETAIL), seen) as bm:
        case = await bm.get_care_case("123")
    assert seen[0].url.path == "/ws/sav/123"
    assert case.state == "open" and case.order_id == "7" and case.orderline_id == "11" and case.sku == "SKU-A"
    assert case.buyer == "John Doe" and case.buyer_email == "john@example.test"
    claim = case.claims[0]
    assert claim.issues == ["BATTERY_NOT_CHARGING"] and claim.resolution == "REFUND" and claim.return_labels[0].state == "ALIVE"
    assert [m.sender for m in case.messages] == ["buyer", "merchant"]
    assert case.messages[0].attachments[0].url == "https://cdn.test/photo.jpg"
    assert case.raw["id"] == 123 and not case.problems


def test_list_shape_with_ids_and_text_states() -> None:
    case = parse_care_case(
        {"id": 5, "state": "CLOSED", "orderline": 44, "client": 456, "lines": [731, 1252], "date_creation": "2026-03-01"}
    )
    assert case.state == "closed" and case.orderline_id == "44" and case.claim_ids == ["731", "1252"] and not case.detailed
    broken = parse_care_case({"id": 6, "lines": "x", "messages": [3], "date_creation": None})
    assert set(broken.problems) == {"lines", "messages[0]", "date_creation"}


async def test_list_filters_follow_next_and_fall_back_to_page_numbers() -> None:
    clock = FakeClock()
    seen: list[httpx.Request] = []
    folders = [{"id": i, "state": 0, "date_creation": "2026-03-01T00:00:00Z"} for i in range(10)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page")
        if page is None and "next" not in str(request.url):
            return json_answer({"count": 10, "next": f"{request.url.scheme}://{request.url.host}/ws/sav?page=2", "results": folders})
        if page == "2" and len(seen) == 2:
            return json_answer({"results": folders})  # no "next" key at all: ask for page 3
        return json_answer({"count": 1, "next": None, "results": folders[:1]})

    since = __import__("datetime").datetime(2026, 3, 1, 8, 5, 59, tzinfo=__import__("datetime").timezone.utc)
    async with connector(clock, answer, seen) as bm:
        pages = [p async for p in bm.iter_care_cases(state=0, modified_since=since, message_since=since)]
    assert [len(p) for p in pages] == [10, 10, 1]
    first = seen[0].url.params
    assert (
        first["state"] == "0" and first["last_modification_date"] == "2026-03-01-08-05" and first["last_message_date"] == "2026-03-01-08-05"
    )
    assert seen[2].url.params["page"] == "3" and seen[2].url.params["state"] == "0"


async def test_message_and_problem_are_multipart_transfer_and_refund_json() -> None:
    clock = FakeClock()
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/msg"):
            return json_answer({"id": 9, "message": "Hello", "group": 123, "sender": 789, "date_creation": "2026-03-02T00:00:00Z"}, 201)
        if request.url.path == "/ws/sav/refund":
            return httpx.Response(201, text="49.00€ refunded on the sku SKU-A", headers={"content-type": "text/plain"})
        return httpx.Response(201)

    async with connector(clock, answer, seen) as bm:
        message = await bm.post_care_message(123, "Hello", [("photo.jpg", b"\xff\xd8")])
        await bm.post_care_problem(123, "DAMAGED_PACKAGE", "broken box", [("box.jpg", b"x")])
        await bm.post_item_transfer(123, "DHL", "123AZ", "REPAIR")
        refund = await bm.post_refund(11, 6, Decimal("49.00"))
        full = await bm.post_refund(12, 4)
    assert message is not None and message.remote_id == "9" and message.sender == "merchant"
    msg, problem, transfer, partial, whole = seen
    assert msg.headers["content-type"].startswith("multipart/form-data") and b'name="message"' in msg.content
    assert b'filename="photo.jpg"' in msg.content
    assert b'name="problem_type"' in problem.content and b"DAMAGED_PACKAGE" in problem.content
    assert json.loads(transfer.content) == {"shipperName": "DHL", "trackingNumber": "123AZ", "action": "REPAIR"}
    assert json.loads(partial.content) == {"orderline_pk": 11, "refund_type": 6, "amount": 49.0}
    assert json.loads(whole.content) == {"orderline_pk": 12, "refund_type": 4}  # no amount for 4 and 5
    assert refund.summary.startswith("49.00") and full.amount is None


async def test_refund_is_never_retried_on_an_unknown_outcome() -> None:
    clock = FakeClock()
    seen: list[httpx.Request] = []
    async with connector(clock, lambda r: httpx.Response(502), seen) as bm:
        with pytest.raises(UnknownOutcome):
            await bm.post_refund(11, 5)
    assert len(seen) == 1


async def test_bad_input_is_refused_before_anything_is_sent() -> None:
    clock = FakeClock()
    seen: list[httpx.Request] = []
    async with connector(clock, lambda r: httpx.Response(201), seen) as bm:
        for call in (
            bm.post_refund(11, 6),  # type 6 needs an amount
            bm.post_refund(11, 3),
            bm.post_care_message(1, "  "),
            bm.post_item_transfer(1, "", "X"),
            bm.post_care_message(1, "hi", [("big", b"x" * (3 * 1024 * 1024 + 1))]),
        ):
            with pytest.raises(InvalidActionInput):
                await call
    assert seen == []


def test_endpoints_and_filter_dates() -> None:
    assert care_endpoint("GET", "/ws/sav") == "list" and care_endpoint("GET", "/ws/sav/") == "list"
    assert care_endpoint("GET", "/ws/sav/12") == "detail" and care_endpoint("POST", "/ws/sav/refund") == "refund"
    assert care_endpoint("POST", "/ws/sav/12/msg") == "message" and care_endpoint("POST", "/ws/sav/12/item-transfer") == "transfer"
    assert care_endpoint("GET", "/ws/orders") is None
    with pytest.raises(ValueError):
        filter_date(__import__("datetime").datetime(2026, 1, 1))
