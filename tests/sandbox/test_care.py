"""The Back Market sandbox's Care side: folders, messages, problems, item transfers, refunds and their budgets.

Every request goes in-process through httpx's ASGI transport, on the test's
FakeClock; every answer is checked against the published contract
(``shelfdesk.sandbox.contract``) and every write read back from disk
(``verify_journal``), so a rule that answers in the wrong shape or forgets to
journal a change fails here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox import contract
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN, BackMarketSandbox

HEADERS = {"Authorization": f"Basic {DEFAULT_TOKEN}", "User-Agent": "BM-Acme-care;ops@acme.test"}


class Client:
    """A seller's client of the sandbox (API calls checked against the contract) and the admin API."""

    def __init__(self, sandbox: BackMarketSandbox, clock: FakeClock) -> None:
        self.sandbox, self.clock = sandbox, clock
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox")

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        answer = self.loop.run_until_complete(self.http.request(method, path, headers=HEADERS, **kw))
        if answer.status_code != 429:
            body = contract.parsed(answer.content)
            assert contract.check_response(method, answer.request.url.path, answer.status_code, body) == [], answer.text
        return answer

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.request(method, f"/_sandbox{path}", **kw))

    def shipped_line(self, sku: str = "IPH13-128-MID-GOOD", fate: str = "shipped") -> dict[str, Any]:
        order = self.sandbox.create_orders({"skus": [sku], "fate": fate, "quantity": 1})[0]
        return {"order_id": order["order_id"], "line": order["orderlines"][0]["id"], "price": order["orderlines"][0]["price"]}

    def open_case(self, line: int, **options: Any) -> int:
        answer = self.admin("POST", "/care", json={"orderline": line, **options})
        assert answer.status_code == 201, answer.text
        return answer.json()["folder"]["id"]

    def line(self, order_id: int) -> dict[str, Any]:
        return self.call("GET", f"/ws/orders/{order_id}").json()["orderlines"][0]

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setattr(BackMarketSandbox, "verify_journal", True)
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0, history_orders=0)
    c = Client(sandbox, clock)
    yield c
    c.close()


def test_a_buyer_opens_a_case_and_the_seller_reads_it_whole(client: Client) -> None:
    sold = client.shipped_line()
    folder = client.open_case(sold["line"], issue="SCREEN_DEFECT", resolution="REPLACE", return_label=True)
    listed = client.call("GET", "/ws/sav").json()
    assert [f["id"] for f in listed["results"]] == [folder] and listed["results"][0]["orderline"] == sold["line"]
    details = client.call("GET", f"/ws/sav/{folder}").json()
    assert details["state"] == 0 and details["client"]["first_name"]
    assert details["orderline"]["order"]["order_id"] == sold["order_id"] and details["orderline"]["state"] == 3
    assert details["orderline"]["snapshot"]["sku"] == "IPH13-128-MID-GOOD"
    [claim] = details["lines"]
    assert claim["resolution_choice"] == "REPLACE" and claim["issues"][0]["customerIssue"] == "SCREEN_DEFECT"
    assert claim["return_labels"][0]["kind"] == "CUSTOMER_TO_MERCHANT"
    [first] = details["messages"]
    assert first["initiator"] == "Customer" and "écran" in first["message"]


def test_a_case_opens_only_on_a_paid_line_and_once(client: Client) -> None:
    unpaid = client.shipped_line(fate="pending_payment")
    refused = client.admin("POST", "/care", json={"orderline": unpaid["line"]})
    assert refused.status_code == 400 and "paid line" in refused.json()["error"]
    sold = client.shipped_line()
    client.open_case(sold["line"])
    again = client.admin("POST", "/care", json={"order_id": sold["order_id"]})
    assert again.status_code == 400 and "already has an open case" in again.json()["error"]
    assert client.admin("POST", "/care", json={"orderline": sold["line"], "issue": "BORED"}).status_code == 400


def test_the_list_pages_by_ten_and_filters_by_state_line_id_and_dates(client: Client) -> None:
    lines = [client.shipped_line()["line"] for _ in range(12)]
    folders = [client.open_case(line) for line in lines[:11]]
    client.clock.advance(3600)
    client.admin("POST", f"/care/{folders[3]}/close")
    client.clock.advance(3600)
    client.admin("POST", f"/care/{folders[5]}/messages", json={"message": "Toujours rien ?"})
    first = client.call("GET", "/ws/sav").json()
    assert first["count"] == 10 and first["next"].endswith("page=2") and first["previous"] is None
    second = client.call("GET", first["next"].replace("http://sandbox", "")).json()
    assert [f["id"] for f in second["results"]] == folders[10:] and second["next"] is None
    assert [f["id"] for f in client.call("GET", "/ws/sav", params={"state": 9}).json()["results"]] == [folders[3]]
    assert [f["id"] for f in client.call("GET", "/ws/sav", params={"orderline": lines[7]}).json()["results"]] == [folders[7]]
    assert [f["id"] for f in client.call("GET", "/ws/sav", params={"last_id": folders[9]}).json()["results"]] == [folders[10]]
    now = client.clock.now()
    since = (now.replace(minute=0) if now.minute else now).strftime("%Y-%m-%d-%H-%M")  # this hour: the buyer's message only
    assert [f["id"] for f in client.call("GET", "/ws/sav", params={"last_message_date": since}).json()["results"]] == [folders[5]]
    earlier = (now - timedelta(hours=1, minutes=1)).strftime("%Y-%m-%d-%H-%M")
    changed = client.call("GET", "/ws/sav", params={"last_modification_date": earlier}).json()["results"]
    assert [f["id"] for f in changed] == [folders[3], folders[5]]
    bad = client.call("GET", "/ws/sav", params={"last_modification_date": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD-hh-mm" in bad.text
    assert client.call("GET", "/ws/sav/nope").status_code == 400
    assert client.call("GET", "/ws/sav/42").status_code == 404


def test_a_message_with_files_joins_the_thread_and_reopens_a_closed_case(client: Client) -> None:
    folder = client.open_case(client.shipped_line()["line"])
    client.admin("POST", f"/care/{folder}/close")
    client.clock.advance(60)
    files = [("attachment", ("diag.txt", b"battery 71%", "text/plain"))]
    sent = client.call("POST", f"/ws/sav/{folder}/msg", data={"message": "Bonjour, voici le diagnostic."}, files=files)
    assert sent.status_code == 201 and sent.json()["group"] == folder and len(sent.json()["attachments"]) == 1
    details = client.call("GET", f"/ws/sav/{folder}").json()
    assert details["state"] == 0 and "date_closed" not in details
    mine = details["messages"][-1]
    assert mine["initiator"] == "Merchant" and mine["message"] == "Bonjour, voici le diagnostic."
    assert details["date_last_message"] == mine["date_creation"] == client.clock.now().isoformat(timespec="seconds")
    download = client.admin("GET", mine["attachments"][0]["attachment"].replace("http://sandbox/_sandbox", ""))
    assert download.content == b"battery 71%"
    assert client.call("POST", f"/ws/sav/{folder}/msg", data={"message": "  "}).status_code == 400
    eleven = [("attachment", (f"{n}.txt", b"x", "text/plain")) for n in range(11)]
    assert client.call("POST", f"/ws/sav/{folder}/msg", data={"message": "x"}, files=eleven).status_code == 400
    assert len(client.call("GET", f"/ws/sav/{folder}").json()["messages"]) == 2


def test_problems_follow_the_folders_platform_and_the_attachment_rule(client: Client) -> None:
    new = client.open_case(client.shipped_line()["line"])
    old = client.open_case(client.shipped_line()["line"], legacy=True)
    assert old < 100_000_000 < new
    assert client.call("POST", f"/ws/sav/{old}/problem", data={"problem_type": "WRONG_ITEM"}).status_code == 422
    assert client.call("POST", f"/ws/sav/{old}/problem", data={"problem_type": "OTHER", "message": "x"}).status_code == 422
    assert client.call("POST", f"/ws/sav/{old}/problem", json={}).json()["problem_type"] == "OTHER"
    assert client.call("POST", f"/ws/sav/{new}/problem", data={"problem_type": "DAMAGED_PACKAGE"}).status_code == 422
    photo = [("attachment", ("box.jpg", b"\xff\xd8", "image/jpeg"))]
    declared = client.call(
        "POST", f"/ws/sav/{new}/problem", data={"problem_type": "DAMAGED_PACKAGE", "message": "Carton écrasé"}, files=photo
    )
    assert declared.status_code == 201
    note = client.call("GET", f"/ws/sav/{new}").json()["messages"][-1]
    assert note["is_informative"] and "DAMAGED_PACKAGE" in note["message"] and len(note["attachments"]) == 1
    assert client.call("POST", f"/ws/sav/{new}/problem", data={"problem_type": "LOST"}).status_code == 422
    client.admin("POST", f"/care/{new}/close")
    assert client.call("POST", f"/ws/sav/{new}/problem", data={"problem_type": "OTHER"}).status_code == 422


def test_an_item_transfer_needs_an_old_platform_folder_and_a_new_tracking_number(client: Client) -> None:
    new = client.open_case(client.shipped_line()["line"])
    old = client.open_case(client.shipped_line()["line"], legacy=True)
    body = {"shipperName": "Colissimo", "trackingNumber": "6A100", "action": "REPAIR"}
    assert client.call("POST", f"/ws/sav/{new}/item-transfer", json=body).status_code == 422
    assert client.call("POST", f"/ws/sav/{old}/item-transfer", json={"shipperName": "DHL"}).status_code == 400
    assert client.call("POST", f"/ws/sav/{old}/item-transfer", json={**body, "action": "BURN"}).status_code == 400
    assert client.call("POST", f"/ws/sav/{old}/item-transfer", json=body).status_code == 201
    assert client.call("POST", f"/ws/sav/{old}/item-transfer", json=body).status_code == 400  # the same tracking number
    note = client.call("GET", f"/ws/sav/{old}").json()["messages"][-1]
    assert note["is_informative"] and "Colissimo" in note["message"] and "6A100" in note["message"]


def test_refunds_move_the_line_to_their_type_and_never_above_what_is_left(client: Client) -> None:
    paid, accepted, shipped = client.shipped_line(fate="paid"), client.shipped_line(fate="accepted"), client.shipped_line()
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": paid["line"], "refund_type": 5}).status_code == 400  # wrong state
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": paid["line"], "refund_type": 4, "amount": 10}).status_code == 400
    full = client.call("POST", "/ws/sav/refund", json={"orderline_pk": paid["line"], "refund_type": 4})
    assert full.status_code == 201 and full.text == f"{paid['price']}€ refunded on the sku IPH13-128-MID-GOOD"
    assert client.line(paid["order_id"])["state"] == 4
    assert client.call("GET", f"/ws/orders/{paid['order_id']}").json()["state"] == 9  # nothing left to ship
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": accepted["line"], "refund_type": 5}).status_code == 201
    assert client.line(accepted["order_id"])["state"] == 5

    folder = client.open_case(shipped["line"], issue="BATTERY_NOT_CHARGING", resolution="REFUND")
    before = client.call("GET", f"/ws/orders/{shipped['order_id']}").json()["date_modification"]
    client.clock.advance(120)
    part = client.call("POST", "/ws/sav/refund", json={"orderline_pk": shipped["line"], "refund_type": 6, "amount": 100.5})
    assert part.status_code == 201 and part.text.startswith("100.50€")
    line = client.line(shipped["order_id"])
    assert (line["state"], line["refunded_amount"], line["return_reason"]) == (6, "100.50", 22)
    assert client.call("GET", f"/ws/orders/{shipped['order_id']}").json()["date_modification"] > before  # the harvest sees it
    left = Decimal(shipped["price"]) - Decimal("100.50")
    too_much = client.call("POST", "/ws/sav/refund", json={"orderline_pk": shipped["line"], "refund_type": 6, "amount": float(left) + 0.01})
    assert too_much.status_code == 400 and f"{left:.2f} left" in too_much.text
    for bad in ("NaN", -1, 0, 1.001, "1e999", True):
        assert (
            client.call("POST", "/ws/sav/refund", json={"orderline_pk": shipped["line"], "refund_type": 6, "amount": bad}).status_code
            == 400
        )
    assert client.call("GET", f"/ws/sav/{folder}").json()["state"] == 0  # something is left: the case stays open
    rest = client.call("POST", "/ws/sav/refund", json={"orderline_pk": shipped["line"], "refund_type": 6})  # no amount: what is left
    assert rest.status_code == 201 and rest.text.startswith(f"{left:.2f}€")
    assert client.line(shipped["order_id"])["refunded_amount"] == shipped["price"]
    details = client.call("GET", f"/ws/sav/{folder}").json()
    assert details["state"] == 9 and details["date_closed"]
    assert [m["message"].split("€")[0] for m in details["messages"] if m["is_informative"]] == ["Refund: 100.50", f"Refund: {left:.2f}"]
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": shipped["line"], "refund_type": 6, "amount": 1}).status_code == 400
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": 1, "refund_type": 6}).status_code == 404
    refunds = client.admin("GET", "/received").json()["refunds"]
    assert [r["amount"] for r in refunds] == [paid["price"], accepted["price"], "100.50", f"{left:.2f}"]


def test_each_endpoint_keeps_to_its_minute_budget(client: Client) -> None:
    """292 item transfers a minute: the 293rd is refused (a 429 in the V1 envelope), the next minute is new."""
    client.sandbox.verify_journal = False  # hundreds of writes: the other tests read them back
    folder = client.open_case(client.shipped_line()["line"], legacy=True)
    statuses = []
    for n in range(293):
        statuses.append(client.call("POST", f"/ws/sav/{folder}/item-transfer", json={"shipperName": "DHL", "trackingNumber": f"T{n}"}))
        client.clock.advance(0.1)  # within the edge limit of 200 requests in 10 s
    assert [a.status_code for a in statuses[:292]] == [201] * 292
    assert statuses[292].status_code == 429 and statuses[292].json()["error"]["code"] == "too-many-requests"
    assert client.call("GET", f"/ws/sav/{folder}").status_code == 200  # another endpoint, another budget
    client.clock.advance(60)
    assert (
        client.call("POST", f"/ws/sav/{folder}/item-transfer", json={"shipperName": "DHL", "trackingNumber": "T-next"}).status_code == 201
    )


def test_refunds_keep_to_500_a_day_whatever_they_answer(client: Client) -> None:
    """Every call counts, refused or not; the budget is any 24 hours."""
    client.sandbox.verify_journal = False
    for _ in range(500):
        assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": 1, "refund_type": 6}).status_code == 404
        client.clock.advance(0.1)
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": 1, "refund_type": 6}).status_code == 429
    client.clock.advance(12 * 3600)
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": 1, "refund_type": 6}).status_code == 429
    client.clock.advance(12 * 3600)
    assert client.call("POST", "/ws/sav/refund", json={"orderline_pk": 1, "refund_type": 6}).status_code == 404


def test_cases_survive_a_restart(client: Client, clock: FakeClock) -> None:
    sold = client.shipped_line()
    folder = client.open_case(sold["line"], legacy=True)
    client.call("POST", f"/ws/sav/{folder}/msg", data={"message": "Nous vous le renvoyons."})
    client.call("POST", f"/ws/sav/{folder}/item-transfer", json={"shipperName": "UPS", "trackingNumber": "1Z1"})
    client.call("POST", "/ws/sav/refund", json={"orderline_pk": sold["line"], "refund_type": 6, "amount": 5})
    again = BackMarketSandbox(client.sandbox.folder, clock=clock)
    assert again.recovered == []
    assert again.state["care"] == client.sandbox.state["care"] and again.state["refunds"] == client.sandbox.state["refunds"]
