"""Sandbox persistence: a snapshot plus a journal of changes, as durable as the old whole-state rewrite.

Every change a sandbox acknowledges is on disk before its reply leaves; a
restart (after a kill, a partial last journal line or a compaction stopped
half-way) gives back the same state; and a write costs the size of the change,
not of the state.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox.app import SandboxApp
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN, BackMarketSandbox
from shelfdesk.sandbox.core import JournalCorrupt, StateStore
from shelfdesk.sandbox.leboncoin import LeboncoinSandbox

BM_HEADERS = {"Authorization": f"Basic {DEFAULT_TOKEN}", "User-Agent": "BM-Acme-tests;ops@acme.test"}


def dump(state: dict[str, Any]) -> str:
    return json.dumps(state, default=str)


def restarted(sandbox: SandboxApp, clock: FakeClock) -> SandboxApp:
    """A new sandbox of the same kind on the same folder: what a restart after a kill reads."""
    return type(sandbox)(sandbox.folder, clock=clock)


@pytest.fixture
async def bm(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[BackMarketSandbox, httpx.AsyncClient]]:
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0, task_seconds=60)
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=BM_HEADERS) as http:
        yield sandbox, http


async def ship(http: httpx.AsyncClient, order_id: Any, tracking: str = "6A1") -> None:
    response = await http.post(f"/ws/orders/{order_id}", json={"order_id": order_id, "new_state": 3, "tracking_number": tracking})
    assert response.status_code == 200, response.text


async def test_a_restart_after_writes_of_every_kind_gives_the_same_state(bm: Any, clock: FakeClock) -> None:
    sandbox, http = bm
    order = sandbox.create_orders({"skus": ["IPH12-64-BLK-VG", "APP1-WHT-EXC"], "fate": "paid", "single_order": True})[0]
    oid = order["order_id"]
    for line in order["orderlines"]:
        answer = await http.post(f"/ws/orders/{oid}", json={"order_id": oid, "new_state": 2, "sku": line["listing"]})
        assert answer.status_code == 200
    await ship(http, oid, "6A42")
    single = sandbox.create_orders({"skus": ["GA52-128-BLK-EXC"], "fate": "accepted", "quantity": 1})[0]
    line_id = single["orderlines"][0]["id"]
    assert (await http.patch(f"/ws/orderlines/{line_id}", json={"imei": "356938035643809"})).status_code == 200
    files = {"invoice": ("f.pdf", b"%PDF-1.4 test", "application/pdf")}
    assert (await http.post(f"/ws/orders/{oid}/invoice", files=files)).status_code == 200
    listing = sandbox.ensure_listing("NEW-SKU-1", Decimal("42.00"), title='Surface Laptop 4 13.5" 16 Go')
    sold = sandbox.create_orders({"skus": ["NEW-SKU-1"], "fate": "paid"})[0]
    assert sold["orderlines"][0]["product"] == 'Surface Laptop 4 13.5" 16 Go'  # what is sold, not a placeholder
    assert (await http.post(f"/ws/listings/{listing['id']}", json={"price": "41.00", "quantity": 3})).status_code == 200
    catalog = "sku,price,quantity\nIPH12-64-BLK-VG,379.00,4\n"
    body = {"catalog": catalog, "quotechar": '"', "delimiter": ",", "encoding": "utf-8"}
    assert (await http.post("/ws/listings", json=body)).status_code == 200
    sandbox.advance_clock(61)  # the task runs and updates a listing
    sandbox.add_products([{"ean": "4006381333931", "title": "A product"}])
    sandbox.set_order_rate(30)
    sandbox.advance_clock(600)  # five generated orders
    assert (await http.get("/ws/orders")).status_code == 200
    assert (await http.post("/_sandbox/tokens", json={"token": "second-token"})).status_code == 200

    again = restarted(sandbox, clock)
    assert dump(again.state) == dump(sandbox.state)
    assert again.state["orders"][str(oid)]["state"] == 9 and len(again.state["invoices"]) == 1
    assert again.clock.offset == sandbox.clock.offset and len(again.log.entries) == len(sandbox.log.entries)


async def test_a_write_costs_the_change_not_the_state(tmp_path: Path, clock: FakeClock) -> None:
    written = {}
    for orders in (20, 3000):
        sandbox = BackMarketSandbox(tmp_path / f"bm-{orders}", clock=clock, orders_per_hour=0)
        created = sandbox.create_orders({"skus": ["APP1-WHT-EXC"], "fate": "accepted", "count": orders, "quantity": 1})
        oid = created[-1]["order_id"]
        before = sandbox.store.bytes_written
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox", headers=BM_HEADERS) as http:
            await ship(http, oid, "6A0000000001")
            reads = sandbox.store.bytes_written
            assert (await http.get(f"/ws/orders/{oid}")).status_code == 200
            assert sandbox.store.bytes_written == reads  # a read writes nothing
        written[orders] = sandbox.store.bytes_written - before
    assert written[20] < 4000
    assert abs(written[3000] - written[20]) < 50, written  # the same change costs the same, 150 times the orders later


def test_a_partial_last_journal_line_is_dropped_and_writing_goes_on(tmp_path: Path, clock: FakeClock) -> None:
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0)
    sandbox.create_orders({"skus": ["APP1-WHT-EXC"], "fate": "paid"})
    kept = dump(sandbox.state)
    sandbox.create_orders({"skus": ["IPH12-64-BLK-VG"], "fate": "paid"})
    journal = sandbox.store.journal_path()
    data = journal.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    journal.write_bytes(data[: last + (len(data) - last) // 2])  # killed while writing the second record

    again = restarted(sandbox, clock)
    assert dump(again.state) == kept
    assert journal.read_bytes() == data[:last]  # the partial line is cut off, so the next record starts clean
    again.create_orders({"skus": ["GA52-128-BLK-EXC"], "fate": "paid"})
    assert dump(restarted(again, clock).state) == dump(again.state)


def test_an_unreadable_record_before_the_last_is_refused_by_a_strict_read(tmp_path: Path, clock: FakeClock) -> None:
    """Verifying reads strictly; a sandbox starting skips the record instead (see test_recovery.py)."""
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0)
    for sku in ("APP1-WHT-EXC", "IPH12-64-BLK-VG"):
        sandbox.create_orders({"skus": [sku], "fate": "paid"})
    journal = sandbox.store.journal_path()
    journal.write_bytes(b'[["put","orders"\n' + journal.read_bytes())
    with pytest.raises(JournalCorrupt):
        StateStore(sandbox.folder).load(repair=False)


def test_a_compaction_stopped_at_any_step_loses_nothing_and_doubles_nothing(tmp_path: Path, clock: FakeClock) -> None:
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0)
    for sku in ("APP1-WHT-EXC", "IPH12-64-BLK-VG", "GA52-128-BLK-EXC"):
        sandbox.create_orders({"skus": [sku], "fate": "paid"})
        sandbox.effect("note", sku=sku)  # appended records must not be replayed twice
        sandbox._persist()
    expected = dump(sandbox.state)
    folder, generation = sandbox.folder, sandbox.store.generation
    old_journal = sandbox.store.journal_path()
    snapshot_before = (folder / "state.json").read_bytes()

    # 1. Stopped while writing the new snapshot: a temporary file beside the old snapshot and journal.
    (folder / ".state-crash.json").write_text('{"version": 1, "orders": {', encoding="utf-8")
    assert dump(restarted(sandbox, clock).state) == expected
    assert not (folder / ".state-crash.json").exists()

    # 2. Stopped after the new snapshot was renamed into place, before the old journal was deleted.
    journal_copy = old_journal.read_bytes()
    sandbox.store.save(sandbox.state)
    assert sandbox.store.generation == generation + 1 and not old_journal.exists()
    old_journal.write_bytes(journal_copy)
    again = restarted(sandbox, clock)
    assert dump(again.state) == expected and len([e for e in again.state["effects"] if e["kind"] == "note"]) == 3
    assert not old_journal.exists()
    assert (folder / "state.json").read_bytes() != snapshot_before


def test_the_journal_is_folded_into_a_snapshot_when_it_outgrows_it(tmp_path: Path, clock: FakeClock) -> None:
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0)
    sandbox.store.compact_min_bytes = 0
    generation = sandbox.store.generation
    for _ in range(40):
        sandbox.create_orders({"skus": ["APP1-WHT-EXC"], "fate": "paid"})
        assert sandbox.store.journal_bytes <= sandbox.store.snapshot_bytes
    assert sandbox.store.generation > generation
    assert sorted(p.name for p in sandbox.folder.glob("journal-*.jsonl")) in ([], [sandbox.store.journal_path().name])
    assert dump(restarted(sandbox, clock).state) == dump(sandbox.state)


def test_admin_operations_persist_by_themselves(tmp_path: Path, clock: FakeClock) -> None:
    bm = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0, history_orders=3)
    assert len(restarted(bm, clock).state["orders"]) == 3
    steps = [
        lambda: bm.ensure_listing("DEMO-1", Decimal("99.90"), grade="EXCELLENT"),
        lambda: bm.add_products([{"ean": "4006381333931"}]),
        lambda: bm.create_orders({"skus": ["DEMO-1"], "fate": "accepted"}),
        lambda: bm.set_order_rate(12),
        lambda: bm.advance_clock(3600),
        lambda: bm.reset(seed=4),
    ]
    lbc = LeboncoinSandbox(tmp_path / "lbc", clock=clock, orders_per_hour=0)
    steps += [
        lambda: lbc.ensure_listing("DEMO-CHAIR", Decimal("120.00"), title="Chaise de démonstration"),
        lambda: lbc.create_orders({"skus": ["DEMO-CHAIR"]}),
        lambda: lbc.issue_refresh_token("another-refresh-token"),
        lambda: lbc.advance_clock(4 * 86400),  # deadlines pass: orders cancelled
        lambda: lbc.reset(seed=2),
    ]
    for step in steps:
        step()
        for sandbox in (bm, lbc):
            assert dump(restarted(sandbox, clock).state) == dump(sandbox.state), step


def test_a_change_made_without_touch_is_caught_when_verifying(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SandboxApp, "verify_journal", True)
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0)
    key = next(iter(sandbox.state["orders"]))
    sandbox.state["orders"][key]["tracking_number"] = "changed behind the journal's back"
    with pytest.raises(AssertionError, match="orders"):
        sandbox._persist()
    sandbox.touch("orders", key)
    sandbox._persist()  # named, it is written


def test_leboncoin_ensure_listing_gives_orders_the_ads_price(tmp_path: Path, clock: FakeClock) -> None:
    lbc = LeboncoinSandbox(tmp_path / "lbc", clock=clock, orders_per_hour=0)
    ad = lbc.ensure_listing("LAMP-07", Decimal("64.90"), title="Lampe de bureau laiton", quantity=3)
    assert (ad["price"], ad["quantity"], ad["status"], ad["category"]) == ("64.90", 3, "online", "home.decoration")
    order = lbc.create_orders({"skus": ["LAMP-07"]})[0]
    assert order["items"][0]["unit_price"] == "64.90" and order["total"] == "64.90"
    again = lbc.ensure_listing("LAMP-07", "59.00", quantity=4)  # the same ad, new price
    assert again["id"] == ad["id"] and again["price"] == "59.00" and again["quantity"] == 4
    assert again["fees"]["amount"] == "4.72"  # commission on the new price
    seeded = lbc.ensure_listing("IPH13-128-MID-GOOD", Decimal("499.00"))  # a seed ad keeps its category and attributes
    assert seeded["category"] == "multimedia.phones.smartphones" and seeded["price"] == "499.00"
    with pytest.raises(ValueError, match="brand"):
        lbc.ensure_listing("PHONE-X", Decimal("100"), category="multimedia.phones.smartphones")
    with pytest.raises(ValueError, match="catégorie"):
        lbc.ensure_listing("THING-1", Decimal("10"), category="multimedia")  # a branch, not a leaf
    assert lbc._ad_by_sku("PHONE-X") is None


@pytest.mark.slow
def test_a_killed_sandbox_process_restarts_with_every_change_it_acknowledged(tmp_path: Path) -> None:
    state = tmp_path / "sb"
    command = [sys.executable, "-m", "shelfdesk", "sandbox", "--state", str(state), "--orders-per-hour", "0"]
    errors = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert process.stdout is not None
        url = next(line.split()[-1] for line in process.stdout if line.startswith("Back Market sandbox"))
        with httpx.Client(base_url=url, headers=BM_HEADERS, timeout=10) as http:
            created = http.post("/_sandbox/orders", json={"skus": ["APP1-WHT-EXC"], "fate": "accepted", "count": 30}).json()["orders"]
            for n, order in enumerate(created):
                oid = order["order_id"]
                answer = http.post(f"/ws/orders/{oid}", json={"order_id": oid, "new_state": 3, "tracking_number": f"6A{n}"})
                assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGKILL)  # no chance to save anything on the way out
        process.wait(timeout=30)
        errors.close()
    again = BackMarketSandbox(state / "backmarket", clock=FakeClock(), orders_per_hour=0)
    ships = [e for e in again.state["effects"] if e["kind"] == "order_action" and e["new_state"] == 3]
    assert sorted(e["order_id"] for e in ships) == sorted(o["order_id"] for o in created)
    assert all(again.state["orders"][str(o["order_id"])]["state"] == 9 for o in created)
