"""The publishing CLI, end to end against the sandbox through the real connector factory."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from shelfdesk.cli import main
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN
from tests.publishing.conftest import Shop, bm_mappings, sandbox_ean

STORE, CHANNEL = "Refurb Paris", "Back Market France"
pytestmark = pytest.mark.usefixtures("cli_clock")


def cli(shop: Shop, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--home", str(shop.ctx.paths.home)])
    out, err = capsys.readouterr()
    assert DEFAULT_TOKEN not in out + err  # never a credential in output
    return code, out, err


def test_dry_run_then_publish_then_triage_from_the_command_line(shop: Shop, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bm_mappings(shop)
    shop.add_product("NEW-OK", ean=sandbox_ean(0), grade="GOOD", price="500.00", stock=2)
    shop.add_product("NEW-NOGRADE-1", ean=sandbox_ean(1), price="300.00", stock=2)
    shop.add_product("NEW-NOGRADE-2", ean=sandbox_ean(2), price="200.00", stock=2)

    code, out, _ = cli(shop, capsys, "publish", STORE, CHANNEL, "--kind", "products", "--dry-run")
    assert code == 0
    assert "would send" in out and "NEW-OK" in out and "price — → 500.00, qty — → 2" in out
    assert out.count("invalid") >= 2 and shop.batches() == []

    code, out, _ = cli(shop, capsys, "publish", STORE, CHANNEL, "--kind", "products", "--json")
    data = json.loads(out)
    assert code == 1 and data["state"] == "partial" and data["counters"]["invalid"] == 2
    publication = data["publication_id"]

    code, out, _ = cli(shop, capsys, "publications", "errors", str(publication), "--json")
    clusters = json.loads(out)
    assert [(c["key"], c["count"], c["attribute"]) for c in clusters] == [("attribute-missing:grade", 2, "grade")]
    assert clusters[0]["label"] == "Grade: missing — 2 products"

    report = tmp_path / "errors.csv"
    code, out, _ = cli(shop, capsys, "publications", "errors", str(publication), "--export", str(report))
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert sorted(r["sku"] for r in rows) == ["NEW-NOGRADE-1", "NEW-NOGRADE-2"]

    shop.map_column(shop.bm_channel, "grade", constant="GOOD")  # the fix
    code, out, _ = cli(shop, capsys, "publish", STORE, CHANNEL, "--retry-failed", str(publication), "--error", "attribute-missing:grade")
    assert code == 0, out
    assert {s for s in shop.listings()} >= {"NEW-OK", "NEW-NOGRADE-1", "NEW-NOGRADE-2"}

    code, out, _ = cli(shop, capsys, "publications", "list")
    assert code == 0 and "products" in out and "succeeded" in out and "dry run" in out
    code, out, _ = cli(shop, capsys, "publications", "history", "NEW-NOGRADE-1")
    assert out.count("\n") == 3 and "created" in out and "invalid" in out


def test_bad_input_names_what_and_where(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(shop, capsys, "publish", "Nowhere", CHANNEL)
    assert code == 2 and "no store 'Nowhere'" in err and "Refurb Paris" in err
    code, _, err = cli(shop, capsys, "publish", STORE, "Amazon")
    assert code == 2 and "no channel 'Amazon' in store 'Refurb Paris'" in err and "#1 Back Market France (slug bm-fr" in err
    code, _, err = cli(shop, capsys, "publications", "show", "999")
    assert code == 2 and "no publication 999" in err
    shop.set_channel(shop.bm_channel, offers_feed_enabled=False)
    code, _, err = cli(shop, capsys, "publish", STORE, CHANNEL)
    assert code == 2 and "offers feed of channel Refurb Paris / Back Market France is switched off" in err


def test_reprice_simulation_from_the_command_line(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    listings = shop.listings()
    shop.map_column(shop.bm_channel, "min_price", column="floor")
    shop.add_product(
        "IPH13-128-MID-EXC",
        price=listings["IPH13-128-MID-EXC"]["price"],
        stock=1,
        floor=str(Decimal(listings["IPH13-128-MID-EXC"]["price"]) - 100),
    )
    code, out, _ = cli(shop, capsys, "reprice", STORE, CHANNEL, "--simulate", "--json")
    data = json.loads(out)
    assert code == 0 and data["simulated"] and data["listings"] == 1
    code, out, err = cli(shop, capsys, "reprice", STORE, CHANNEL)
    assert code == 2 and "repricer is off" in err


def test_read_only_plans_without_recording_and_refuses_to_publish(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    listings = shop.listings()
    shop.add_product("IPH13-128-MID-GOOD", price=listings["IPH13-128-MID-GOOD"]["price"], stock=1)
    code, out, _ = cli(shop, capsys, "publish", STORE, CHANNEL, "--dry-run", "--read-only")
    assert code == 0 and out.startswith("Plan (read-only: not recorded)") and "1 update" in out
    code, out, _ = cli(shop, capsys, "publications", "list", "--json")
    assert json.loads(out) == []
    code, _, err = cli(shop, capsys, "publish", STORE, CHANNEL, "--read-only")
    assert code == 2 and "read-only" in err
    assert shop.batches() == []


def test_full_mode_on_back_market_is_refused_with_the_reason(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    shop.add_product("NEW-OK", ean=sandbox_ean(0), grade="GOOD", price="500.00", stock=2)
    code, out, err = cli(shop, capsys, "publish", STORE, CHANNEL, "--full")
    assert code == 2 and shop.batches() == []
    assert "Back Market France" in err and "takes update mode only, not full" in err


def test_publish_propose_sends_the_products_the_catalog_refused_as_unknown(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    bm_mappings(shop)
    shop.add_product("FP5-GOOD", ean="3760000000000", grade="GOOD", price="399.00", stock=1)
    shop.add_product("NEW-OK", ean=sandbox_ean(0), grade="GOOD", price="500.00", stock=2)
    code, out, _ = cli(shop, capsys, "publish", STORE, CHANNEL, "--kind", "products")
    assert code == 1
    code, _, err = cli(shop, capsys, "publish", STORE, CHANNEL, "--kind", "offers", "--propose")
    assert code == 2 and "--propose goes with the products feed" in err
    code, out, _ = cli(shop, capsys, "publish", STORE, CHANNEL, "--propose", "--json")
    data = json.loads(out)
    assert data["plan"]["only_skus"] == ["FP5-GOOD"] and data["counters"]["failed"] == 1
    assert shop.state()["proposals"]["3760000000000"]["status"] == "in_review"
    assert shop.batch_rows()[-1]["title"] == "Product FP5-GOOD"
    code, _, err = cli(shop, capsys, "publish", STORE, CHANNEL, "--propose")
    assert code == 2 and "no product waits for a proposal" in err
