"""``shelfdesk orders …`` as a script would use it: exit codes, --json, clear refusals, no secrets."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shelfdesk.cli import main
from shelfdesk.clock import FakeClock, set_default_clock
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN

from .conftest import Desk


@pytest.fixture(autouse=True)
def _cli_uses_the_test_clock(clock: FakeClock) -> Iterator[None]:
    old = set_default_clock(clock)
    yield
    set_default_clock(old)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["orders", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_sync_list_show_ship_and_refusals(desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    [order] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="accepted")
    oid = str(order["order_id"])
    code, out, _ = run(capsys, "sync", "--json")
    data = json.loads(out)
    assert code == 0 and {h["account"] for h in data["harvests"]} == {"Back Market EU", "Leboncoin Pro"}

    code, out, _ = run(capsys, "list", "--status", "InProgress", "--channel", "Back Market France", "--json")
    listed = json.loads(out)
    assert code == 0 and oid in [o["marketplace_order_id"] for o in listed["orders"]]
    assert all(o["status"] == "InProgress" for o in listed["orders"]) and listed["counts"]["InProgress"] >= 1

    code, _, err = run(capsys, "ship", oid, "--carrier", "Colissimo")
    assert code == 2 and f"order {oid}" in err and "tracking_number" in err
    code, _, err = run(capsys, "list", "--store", "Nowhere")
    assert code == 2 and "no store 'Nowhere'" in err and "Refurb Paris" in err

    code, out, _ = run(capsys, "ship", oid, "--carrier", "Colissimo", "--tracking", "6A55", "--json")
    result = json.loads(out)
    assert code == 0 and result["sent"]["outcomes"][0]["state"] == "confirmed"
    assert [e["order_id"] for e in desk.effects("backmarket") if e["new_state"] == 3] == [int(oid)]

    code, out, _ = run(capsys, "show", oid, "--json", "--payload")
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "Shipped" and shown["tracking_number"] == "6A55" and shown["payload"]
    assert DEFAULT_TOKEN not in out

    export = tmp_path / "out.csv"
    code, out, _ = run(capsys, "export", str(export), "--status", "Shipped")
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    assert code == 0 and oid in {r["order_id"] for r in rows} and all(r["status"] == "Shipped" for r in rows)
    assert DEFAULT_TOKEN not in export.read_text(encoding="utf-8")

    code, out, _ = run(capsys, "actions", "--failed", "--json")
    assert code == 0 and json.loads(out) == []


def test_bulk_ship_previews_without_yes_and_read_only_refuses(desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    orders = [str(o["order_id"]) for o in desk.new_orders("backmarket", ["APP1-WHT-EXC", "NSW-OLED-WHT-EXC"], fate="accepted")]
    desk.harvest()
    parcels = tmp_path / "parcels.csv"
    parcels.write_text("order_id,carrier,tracking_number\n" + "".join(f"{o},UPS,1Z{o}\n" for o in orders) + "nope,UPS,1Z\n")

    refused = tmp_path / "to-fix.csv"
    code, out, err = run(capsys, "bulk-ship", str(parcels), "--refused", str(refused))
    assert code == 1 and "2 order(s) to ship, 1 that cannot be" in out and "line 4: order nope: no order 'nope'" in out
    assert desk.effects("backmarket") == [] and f"1 refused row(s) written to {refused}" in err
    fixed = refused.read_text(encoding="utf-8").replace("nope", orders[0]).replace("1Z,", "1ZFIXED,")
    from shelfdesk.orders.bulk import read_rows

    assert read_rows(fixed) == [(2, {"order_id": orders[0], "carrier": "UPS", "tracking_number": "1ZFIXED"})]  # the reason is ignored

    code, _, err = run(capsys, "bulk-ship", str(parcels), "--yes", "--read-only")
    assert code == 2 and "read-only" in err and desk.effects("backmarket") == []

    code, out, _ = run(capsys, "bulk-ship", str(parcels), "--yes", "--json")
    data = json.loads(out)
    assert code == 1 and data["queued"] == 2 and {o["state"] for o in data["sent"]["outcomes"]} == {"confirmed"}
    assert sorted(str(e["order_id"]) for e in desk.effects("backmarket")) == sorted(orders)
