"""Input that used to poison a sandbox: refused with the marketplace's error, and the sandbox keeps serving.

Each test sends what once entered the state (or broke a handler), then checks
the answer, that a normal request still works after the clock has moved (a
batch is processed at a later tick), that the admin reset answers, and that a
new sandbox on the same folder starts.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox.app import SandboxApp
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN, BackMarketSandbox
from shelfdesk.sandbox.leboncoin import DEFAULT_REFRESH_TOKEN, LeboncoinSandbox

with warnings.catch_warnings():  # Starlette would rather have httpx2 serve its synchronous test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BM_HEADERS = {"Authorization": f"Basic {DEFAULT_TOKEN}", "User-Agent": "BM-Acme-tests;ops@acme.test"}
CSV = "sku,quantity,price\nIPH12-64-BLK-VG,3,389.00\n"


@pytest.fixture(autouse=True)
def _verify_journal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SandboxApp, "verify_journal", True)


@pytest.fixture
def bm(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[BackMarketSandbox, TestClient]]:
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0, task_seconds=60)
    with TestClient(sandbox.app, base_url="http://sandbox", headers=BM_HEADERS) as http:
        yield sandbox, http


def still_serves(sandbox: BackMarketSandbox, http: TestClient, clock: FakeClock) -> None:
    """After the batch's processing time: the API answers, the admin resets, a restart reads the folder."""
    clock.advance(sandbox.task_seconds + 1)
    assert http.get("/ws/listings").status_code == 200
    assert http.get("/ws/orders").status_code == 200
    again = BackMarketSandbox(sandbox.folder, clock=clock, orders_per_hour=6)
    with TestClient(again.app, base_url="http://sandbox", headers=BM_HEADERS) as other:
        assert other.get("/ws/listings").status_code == 200
    assert http.post("/_sandbox/reset", json={}).status_code == 200


def batch(**fields: Any) -> dict[str, Any]:
    return {"catalog": CSV, "quotechar": '"', "delimiter": ",", "encoding": "utf-8", **fields}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (batch(delimiter=";;"), "delimiter"),
        (batch(quotechar='""'), "quotechar"),
        (batch(delimiter=7), "delimiter"),
        (batch(encoding="u"), "encoding"),
        (batch(encoding="x" * 65), "encoding"),
        (batch(catalog=["sku", "IPH12-64-BLK-VG"]), "catalog"),
        (batch(catalog={"sku": "IPH12-64-BLK-VG"}), "catalog"),
    ],
)
def test_a_listing_batch_with_a_malformed_field_is_refused_with_a_plain_400(bm: Any, clock: FakeClock, body: Any, field: str) -> None:
    sandbox, http = bm
    answer = http.post("/ws/listings", json=body)
    assert answer.status_code == 400, answer.text
    assert isinstance(answer.json(), str) and field in answer.json()  # the spec's 400 here is a plain string
    assert sandbox.state["tasks"] == {}  # nothing entered the state
    still_serves(sandbox, http, clock)


@pytest.mark.parametrize("body", [["sku,quantity", "A,1"], "sku,quantity\nA,1", 12, None])
def test_a_listing_batch_that_is_not_an_object_is_refused(bm: Any, clock: FakeClock, body: Any) -> None:
    sandbox, http = bm
    answer = http.post("/ws/listings", json=body)
    assert answer.status_code == 400, answer.text
    assert isinstance(answer.json(), str)
    still_serves(sandbox, http, clock)


@pytest.mark.parametrize(
    "catalog",
    [
        "sku,quantity,price\nIPH12-64-BLK-VG,3,NaN\n",  # a Decimal NaN cannot be compared with the bounds
        "sku,quantity,price,max_price\nIPH12-64-BLK-VG,3,389.00,1e999999999\n",  # would be written out digit by digit
        "sku,quantity,price\nIPH12-64-BLK-VG,3," + "9" * 200_000 + "\n",  # longer than a CSV field may be
        'sku,quantity\n"IPH12-64-BLK-VG,3\n',  # an unclosed quote
        "sku,quantity\nIPH12\x00,3\n",
    ],
    ids=["nan-price", "huge-max-price", "huge-field", "unclosed-quote", "nul"],
)
def test_a_batch_whose_lines_cannot_be_applied_reports_them_and_the_sandbox_goes_on(bm: Any, clock: FakeClock, catalog: str) -> None:
    sandbox, http = bm
    answer = http.post("/ws/listings", json=batch(catalog=catalog))
    assert answer.status_code == 200, answer.text
    task_id = answer.json()["bodymessage"]
    clock.advance(sandbox.task_seconds + 1)
    task = http.get(f"/ws/tasks/{task_id}").json()
    assert task["action_status"] in (8, 9), task
    if task["action_status"] == 9:
        assert all(line["status"] == "error" for line in task["result"]), task["result"]
    else:
        assert task["last_action_error"]
    assert http.get("/ws/listings/detail", params={"sku": "IPH12-64-BLK-VG"}).json()["price"] == "389.00"
    still_serves(sandbox, http, clock)


def test_a_batch_in_an_unknown_encoding_fails_as_a_task(bm: Any, clock: FakeClock) -> None:
    """The spec bounds the encoding's length only: an unknown one is accepted, and its task fails [I]."""
    sandbox, http = bm
    answer = http.post("/ws/listings", json=batch(encoding="klingon-8"))
    assert answer.status_code == 200, answer.text
    clock.advance(sandbox.task_seconds + 1)
    task = http.get(f"/ws/tasks/{answer.json()['bodymessage']}").json()
    assert task["action_status"] == 8 and "klingon-8" in task["last_action_error"]
    still_serves(sandbox, http, clock)


def test_a_batch_that_breaks_the_sandbox_fails_alone(bm: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in processing one batch fails that task, not every later request (processing runs at each tick)."""
    sandbox, http = bm

    def broken(*_: Any) -> None:
        raise RuntimeError("a sandbox bug")

    answer = http.post("/ws/listings", json=batch())
    monkeypatch.setattr(sandbox, "_process_task", broken)
    clock.advance(sandbox.task_seconds + 1)
    task = http.get(f"/ws/tasks/{answer.json()['bodymessage']}").json()
    assert (task["action_status"], task["last_action_error"]) == (8, "Task has been interrupted.")
    monkeypatch.undo()
    still_serves(sandbox, http, clock)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_sandbox/orders", None),  # a JSON null: the handler read .get() on it
        ("POST", "/_sandbox/orders", {"skus": ["APP1-WHT-EXC"], "quantity": "two"}),  # failed half-way, after a first change
        ("POST", "/_sandbox/orders", {"skus": ["APP1-WHT-EXC"], "count": 10**9}),
        ("POST", "/_sandbox/orders", {"skus": ["APP1-WHT-EXC", "A"], "fate": "lost"}),
        ("POST", "/_sandbox/clock", {"advance": 1e300}),  # the clock overflowed its dates: every request failed
        ("POST", "/_sandbox/clock", {"to": 12}),
        ("POST", "/_sandbox/generator", {"orders_per_hour": 1e300}),  # every tick failed
        ("POST", "/_sandbox/faults", {"kind": "503", "count": "x"}),  # read at every request: every one failed
        ("POST", "/_sandbox/faults", [{"kind": "503"}, {"kind": "503", "rate": 2}]),
        ("POST", "/_sandbox/faults", [1]),
        ("POST", "/_sandbox/products", {"products": [{"ean": "0190198000019"}, {"ean": "nope"}]}),  # the first was kept
        ("POST", "/_sandbox/tokens", {"token": ["a"]}),
        ("GET", "/_sandbox/windows?window=-1", None),
        ("POST", "/_sandbox/reset", [1]),
        ("POST", "/_sandbox/state", {"sku": "\ud800"}),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_the_admin_api_refuses_what_it_cannot_use_and_changes_nothing(bm: Any, clock: FakeClock, method: str, path: str, body: Any) -> None:
    sandbox, http = bm
    before = json.dumps(sandbox.state, sort_keys=True)
    content = json.dumps(body).encode() if body is not None else b"null"
    answer = http.request(method, path, content=content, headers={"content-type": "application/json"})
    assert answer.status_code in (400, 405), answer.text
    assert json.dumps(sandbox.state, sort_keys=True) == before
    assert sandbox.faults.rules == []
    still_serves(sandbox, http, clock)


@pytest.mark.parametrize("raw", [b'{"sku": "\\ud800"}', b'{"price": NaN}', b'{"price": Infinity}', b"[" * 100_000 + b"]" * 100_000])
def test_json_that_could_not_be_written_back_is_refused(bm: Any, clock: FakeClock, raw: bytes) -> None:
    """A lone surrogate stored as a SKU failed every listing page; deep nesting exhausted the reader's stack."""
    sandbox, http = bm
    listing = next(iter(sandbox.state["listings"].values()))
    for path in ("/ws/listings", f"/ws/listings/{listing['id']}", "/_sandbox/orders"):
        answer = http.post(path, content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == 400, (path, answer.text)
    still_serves(sandbox, http, clock)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/ws/listings?min_quantity=abc", None, 400),  # int() raised: a 500
        ("GET", "/ws/listings?max_quantity=1.5", None, 400),
        ("GET", "/ws/listings?publication_state=9", None, 400),
        ("GET", "/ws/listings?page-size=51", None, 400),
        ("GET", "/ws/orders?state=2", None, 400),
        ("GET", "/ws/orders?date_modification=2026-03-02T09:30:00", None, 400),  # no offset: compared with aware dates, a 500
        ("GET", "/ws/orders/abc", None, 400),
        ("PATCH", "/ws/orderlines/abc", {"imei": "1"}, 400),
        ("GET", "/ws/listings/detail?listing_id=abc", None, 400),
        ("GET", "/ws/listings/detail?id=not-a-uuid", None, 400),
        ("GET", "/ws/listings/not-an-id", None, 400),
        ("GET", "/ws/tasks/abc", None, 404),
        ("GET", "/ws/backbox/v1/competitors/not-a-uuid", None, 422),
        ("POST", "/ws/orders/{order}", {"new_state": 3, "tracking_number": 123}, 400),
        ("POST", "/ws/orders/{order}", {"new_state": 3, "tracking_number": "6A1", "date_shipping": "yesterday"}, 400),
        ("POST", "/ws/orders/{order}", {"new_state": 3, "tracking_number": "6A1", "vat_type": "X"}, 400),
        ("POST", "/ws/orders/{order}", {"new_state": 3, "tracking_number": "6A1", "tracking_url": "x" * 301}, 400),
        ("POST", "/ws/orders/{order}", {"new_state": 12}, 400),
        ("PATCH", "/ws/orderlines/{line}", {"imei": 123456}, 400),
        ("POST", "/ws/listings/{listing}", {"price": "NaN"}, 400),
        ("POST", "/ws/listings/{listing}", {"quantity": []}, 400),
        ("POST", "/ws/listings/{listing}", {"comment": {"a": 1}}, 400),
        ("POST", "/ws/listings/{listing}", {"currency": "euros"}, 400),
        ("GET", "/ws/nowhere", None, 404),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_back_market_refuses_malformed_parameters_and_bodies(
    bm: Any, clock: FakeClock, method: str, path: str, body: Any, status: int
) -> None:
    sandbox, http = bm
    order = sandbox.create_orders({"skus": ["APP1-WHT-EXC"], "fate": "accepted"})[0]  # ready to ship
    listing = next(iter(sandbox.state["listings"].values()))
    path = path.format(order=order["order_id"], listing=listing["id"], line=order["orderlines"][0]["id"])
    before = json.dumps(sandbox.state, sort_keys=True)
    answer = http.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()  # JSON, in the sandbox's envelope
    assert json.dumps(sandbox.state, sort_keys=True) == before
    still_serves(sandbox, http, clock)


@pytest.fixture
def lbc(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[LeboncoinSandbox, TestClient]]:
    sandbox = LeboncoinSandbox(tmp_path / "lbc", clock=clock, orders_per_hour=0, feed_seconds=60)
    with TestClient(sandbox.app, base_url="http://sandbox") as http:
        token = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": DEFAULT_REFRESH_TOKEN}).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield sandbox, http


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PATCH", "/api/v1/ads/{ad}", {"price": "NaN"}, 400),  # compared with the bounds: a 500
        ("PATCH", "/api/v1/ads/{ad}", {"quantity": "9" * 40}, 400),
        ("GET", "/api/v1/orders?updated_since=2026-03-02T09:30:00", None, 400),  # no offset: a 500
        ("GET", "/api/v1/ads?per_page=0", None, 400),
        ("POST", "/api/v1/feeds/offers", {"reference": {"a": 1}, "items": [{"sku": "X", "price": "10"}]}, 400),
        ("POST", "/api/v1/orders/{order}/confirm-shipping", {"carrier": ["colissimo"]}, 400),
        ("POST", "/api/v1/orders/{order}/messages", {"body": {"text": "bonjour"}}, 400),
        ("GET", "/api/v1/nowhere", None, 404),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_leboncoin_refuses_malformed_parameters_and_bodies(lbc: Any, method: str, path: str, body: Any, status: int) -> None:
    sandbox, http = lbc
    order = sandbox.create_orders({"skus": ["CHAIR-OAK-01"], "fate": "awaiting_shipment"})[0]
    path = path.format(ad=next(iter(sandbox.state["ads"])), order=order["id"])
    before = json.dumps(sandbox.state, sort_keys=True)
    answer = http.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["message"]
    assert json.dumps(sandbox.state, sort_keys=True) == before


def test_a_leboncoin_feed_with_unreadable_numbers_reports_them_and_the_sandbox_goes_on(lbc: Any, clock: FakeClock) -> None:
    """A feed line priced "NaN" made every tick fail once the feed was processed: every request, every restart."""
    sandbox, http = lbc
    items = [{"sku": "CHAIR-OAK-01", "price": "NaN"}, {"sku": "CHAIR-OAK-01", "quantity": "1e999999999"}]
    feed = http.post("/api/v1/feeds/offers", json={"reference": "poison", "items": items})
    assert feed.status_code == 202, feed.text
    clock.advance(61)
    report = http.get(f"/api/v1/feeds/{feed.json()['feed_id']}").json()
    assert report["status"] == "done" and [line["status"] for line in report["report"]] == ["error", "error"]
    assert http.get("/api/v1/ads").status_code == 200
    assert LeboncoinSandbox(sandbox.folder, clock=clock).recovered == []


def test_a_huge_user_agent_is_refused_without_holding_the_sandbox(bm: Any) -> None:
    """The User-Agent pattern backtracks quadratically: 64 kB of dashes held the event loop for seconds."""
    sandbox, http = bm
    answer = http.get("/ws/orders", headers={"User-Agent": "BM-" + "-" * 60_000})
    assert answer.status_code == 400 and "User-Agent" in answer.text
