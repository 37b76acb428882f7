"""A state folder holding something unreadable: the sandbox starts anyway, says what it skipped, keeps serving.

Whatever a crash, a disk or an older sandbox left in the folder (a bad journal
line, a truncated snapshot, an entry no handler can read, a broken request
log), a new sandbox on it starts, lists what it skipped in ``recovered`` (the
admin API's ``/_sandbox`` and ``shelfdesk sandbox``'s start-up lines show it, see
tests/contract/test_sandbox_cli.py),
keeps the unreadable file beside the state, writes a clean state at once, and
answers requests and resets.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.sandbox.app import SandboxApp
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN, BackMarketSandbox
from shelfdesk.sandbox.leboncoin import LeboncoinSandbox

with warnings.catch_warnings():  # Starlette would rather have httpx2 serve its synchronous test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BM_HEADERS = {"Authorization": f"Basic {DEFAULT_TOKEN}", "User-Agent": "BM-Acme-tests;ops@acme.test"}


def serves(sandbox: SandboxApp) -> None:
    """The sandbox answers its API and its admin reset."""
    with TestClient(sandbox.app, base_url="http://sandbox", headers=BM_HEADERS) as http:
        if isinstance(sandbox, BackMarketSandbox):
            assert http.get("/ws/listings").status_code == 200
            assert http.get("/ws/orders").status_code == 200
        else:
            token = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "lbc-sandbox-refresh-token"})
            assert token.status_code == 200, token.text
            ads = http.get("/api/v1/ads", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            assert ads.status_code == 200
        assert http.get("/_sandbox").json()["recovered"] == sandbox.recovered
        assert http.post("/_sandbox/reset", json={}).status_code == 200
        assert http.get("/_sandbox").json()["recovered"] == []


def bm_with_orders(folder: Path, clock: FakeClock) -> BackMarketSandbox:
    sandbox = BackMarketSandbox(folder, clock=clock, orders_per_hour=0)
    for sku in ("APP1-WHT-EXC", "IPH12-64-BLK-VG"):
        sandbox.create_orders({"skus": [sku], "fate": "paid"})
    return sandbox


def test_an_unreadable_journal_record_is_skipped_and_the_rest_is_kept(tmp_path: Path, clock: FakeClock) -> None:
    sandbox = bm_with_orders(tmp_path / "bm", clock)
    wanted = json.dumps(sandbox.state["orders"])
    journal = sandbox.store.journal_path()
    original = b'[["put","orders"\n' + b'[["put","tokens","x",1]]\n' + journal.read_bytes()  # unparsable, then inapplicable
    journal.write_bytes(original)

    again = BackMarketSandbox(sandbox.folder, clock=clock)
    assert json.dumps(again.state["orders"]) == wanted  # both orders, from the records after the bad ones
    assert len(again.recovered) == 1 and "skipped 2 unreadable record(s)" in again.recovered[0], again.recovered
    assert (sandbox.folder / "unreadable-1-journal-1.jsonl").read_bytes() == original
    assert BackMarketSandbox(sandbox.folder, clock=clock).recovered == []  # written clean at once
    serves(again)


def test_a_truncated_snapshot_starts_from_the_seed_and_is_kept_aside(tmp_path: Path, clock: FakeClock) -> None:
    sandbox = bm_with_orders(tmp_path / "bm", clock)
    sandbox.save_snapshot()
    snapshot = sandbox.store.path.read_bytes()
    sandbox.store.path.write_bytes(snapshot[: len(snapshot) // 2])

    again = BackMarketSandbox(sandbox.folder, clock=clock)
    assert len(again.state["orders"]) == again.history_orders  # the seed's orders
    assert "state.json could not be read" in again.recovered[0] and "unreadable-1-state.json" in again.recovered[0]
    assert (sandbox.folder / "unreadable-1-state.json").read_bytes() == snapshot[: len(snapshot) // 2]
    serves(again)
    assert BackMarketSandbox(sandbox.folder, clock=clock).recovered == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda s: s["listings"][next(iter(s["listings"]))].update(quantity="lots"), "listings: dropped 1 unreadable entry"),
        (
            lambda s: s["tasks"].update(
                {
                    "9": {
                        "task_id": 9,
                        "created_at": "2026-03-02T09:00:00+00:00",
                        "seconds": 60,
                        "action_status": 0,
                        "catalog": "sku\nA",
                        "delimiter": ";;",
                        "quotechar": '"',
                    }
                }
            ),
            "tasks: dropped 1 unreadable entry",
        ),  # a batch an older sandbox accepted
        (lambda s: s.update(orders=[]), "'orders' could not be read"),
        (lambda s: s["orders"][next(iter(s["orders"]))].update(date_modification="yesterday"), "orders: dropped 1"),
        (lambda s: s["generator"].update(rate_per_hour="fast"), "the state could not be served (ValueError"),
        (lambda s: s.update(seed="abc"), "'seed' could not be read ('abc'): the seed's was taken"),
    ],
    ids=["listing-quantity", "poisoned-task", "orders-kind", "order-date", "cannot-tick", "seed"],
)
def test_a_state_no_handler_could_read_is_repaired_and_said(tmp_path: Path, clock: FakeClock, change: Any, said: str) -> None:
    sandbox = bm_with_orders(tmp_path / "bm", clock)
    state = json.loads(json.dumps(sandbox.state))
    change(state)
    sandbox.store.save(state)

    again = BackMarketSandbox(sandbox.folder, clock=clock, orders_per_hour=6)  # as `shelfdesk sandbox` starts it
    assert any(said in note for note in again.recovered), again.recovered
    serves(again)


def test_leboncoin_drops_what_it_cannot_read_too(tmp_path: Path, clock: FakeClock) -> None:
    sandbox = LeboncoinSandbox(tmp_path / "lbc", clock=clock, orders_per_hour=0)
    state = json.loads(json.dumps(sandbox.state))
    state["feeds"]["F1"] = {"feed_id": "F1", "type": "nonsense", "reference": "r", "status": "pending"}
    state["ads"][next(iter(state["ads"]))]["price"] = "NaN"
    sandbox.store.save(state)
    (sandbox.folder / "requests.jsonl").write_text('{"method": "GET", "path": "/", "t": 1, "status": 200}\n{"trunc')

    again = LeboncoinSandbox(sandbox.folder, clock=clock)
    notes = " | ".join(again.recovered)
    assert "feeds: dropped 1" in notes and "ads: dropped 1" in notes and "requests.jsonl: skipped 1 unreadable line" in notes
    assert len(again.log.entries) == 1
    again.log.append({"method": "GET", "path": "/after", "t": 2, "status": 200})  # after the cut line, on its own line
    assert [e["path"] for e in LeboncoinSandbox(sandbox.folder, clock=clock).log.entries] == ["/", "/after"]
    serves(again)


def test_the_admin_reset_works_whatever_the_state_holds(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reset does not go through a tick first: a state every request fails on can still be reset."""
    sandbox = BackMarketSandbox(tmp_path / "bm", clock=clock, orders_per_hour=0)

    def broken(now: Any) -> None:
        raise RuntimeError("a state nothing can tick")

    monkeypatch.setattr(sandbox, "advance", broken)
    with TestClient(sandbox.app, base_url="http://sandbox", raise_server_exceptions=False) as http:
        assert http.post("/_sandbox/reset", json={}).status_code == 200
        assert http.post("/_sandbox/reset", json={"seed": "x"}).status_code == 400  # a seed must be an integer
