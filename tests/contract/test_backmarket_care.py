"""Every Care call of the Back Market connector against the sandbox, each exchange checked against the
published contract (the package's autouse fixture) and asserted from the sandbox's own request log."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from shelfdesk.channels.backmarket import BackMarketConnector
from shelfdesk.channels.errors import RemoteRejected
from shelfdesk.clock import FakeClock

from .conftest import Admin


def _case(admin: Admin, *, fate: str = "shipped", **spec: object) -> tuple[dict, dict]:
    order = admin.orders(["APP1-WHT-EXC"], fate=fate)[0]
    folder = admin.post("/care", {"order_id": order["order_id"], **spec})["folder"]
    return order, folder


async def test_list_with_each_filter_and_detail(bm: BackMarketConnector, bm_admin: Admin, clock: FakeClock) -> None:
    _, folder = _case(bm_admin, return_label=True)
    since = clock.now() - timedelta(minutes=5)
    listed = [c async for page in bm.iter_care_cases(state=0, modified_since=since) for c in page]
    assert [c.remote_id for c in listed] == [str(folder["id"])] and listed[0].state == "open"
    by_message = [c async for page in bm.iter_care_cases(message_since=since, orderline=folder["orderline"]["id"]) for c in page]
    assert [c.remote_id for c in by_message] == [str(folder["id"])]
    later = [c async for page in bm.iter_care_cases(modified_since=clock.now() + timedelta(minutes=5)) for c in page]
    assert later == []
    detail = await bm.get_care_case(folder["id"])
    assert detail.detailed and detail.claims[0].return_labels[0].state == "ALIVE" and detail.messages[0].sender == "buyer"
    first = parse_qs(bm_admin.requests("GET", "/ws/sav")[0]["query"])
    assert first["state"] == ["0"] and first["last_modification_date"] == [since.strftime("%Y-%m-%d-%H-%M")]
    assert bm_admin.requests("GET", f"/ws/sav/{folder['id']}")


async def test_pages_of_ten_are_all_read(bm: BackMarketConnector, bm_admin: Admin) -> None:
    orders = bm_admin.orders(["APP1-WHT-EXC"] * 1, fate="shipped", count=12)
    for order in orders:
        bm_admin.post("/care", {"order_id": order["order_id"]})
    listed = [c async for page in bm.iter_care_cases() for c in page]
    assert len(listed) == 12 and len({c.remote_id for c in listed}) == 12
    assert len(bm_admin.requests("GET", "/ws/sav")) == 2


async def test_message_problem_transfer_and_refund_reach_the_sandbox_once(bm: BackMarketConnector, bm_admin: Admin) -> None:
    order, folder = _case(bm_admin)
    message = await bm.post_care_message(folder["id"], "Bonjour, envoyez-nous l'appareil.", [("photo.jpg", b"\xff\xd8\xff")])
    assert message is None or message.body.startswith("Bonjour")
    await bm.post_care_problem(folder["id"], "OTHER", "Appareil tombé")
    line = order["orderlines"][0]
    outcome = await bm.post_refund(line["id"], 6, Decimal("10.00"))
    assert "refunded" in outcome.summary
    after = await bm.get_order(str(order["order_id"]))
    refunded_line = after.lines[0]
    assert refunded_line.raw_status == "6" and Decimal(str(refunded_line.raw["refunded_amount"])) == Decimal("10.00")
    [msg] = bm_admin.requests("POST", f"/ws/sav/{folder['id']}/msg")
    [problem] = bm_admin.requests("POST", f"/ws/sav/{folder['id']}/problem")
    [refund] = bm_admin.requests("POST", "/ws/sav/refund")
    assert refund["body"] == {"orderline_pk": line["id"], "refund_type": 6, "amount": 10.0}
    assert msg and problem
    legacy_order, legacy = _case(bm_admin, legacy=True)
    await bm.post_item_transfer(legacy["id"], "DHL", "JD0001", "REPLACE")
    [transfer] = bm_admin.requests("POST", f"/ws/sav/{legacy['id']}/item-transfer")
    assert transfer["body"] == {"shipperName": "DHL", "trackingNumber": "JD0001", "action": "REPLACE"}
    with pytest.raises(RemoteRejected):  # the same tracking number twice: Back Market's 400
        await bm.post_item_transfer(legacy["id"], "DHL", "JD0001", "REPLACE")


async def test_full_refunds_before_shipping(bm: BackMarketConnector, bm_admin: Admin) -> None:
    paid = bm_admin.orders(["APP1-WHT-EXC"], fate="paid")[0]
    accepted = bm_admin.orders(["APP1-WHT-EXC"], fate="accepted")[0]
    await bm.post_refund(paid["orderlines"][0]["id"], 4)
    await bm.post_refund(accepted["orderlines"][0]["id"], 5)
    states = [(await bm.get_order(str(o["order_id"]))).lines[0].raw_status for o in (paid, accepted)]
    assert states == ["4", "5"]
    with pytest.raises(RemoteRejected):  # a refund type that does not match the line's state
        await bm.post_refund(paid["orderlines"][0]["id"], 4)
