"""A Back Market channel from zero to published with the CLI alone, as a script would, naming it ``fr-fr`` throughout.

Store, catalog, channel with the token on stdin, mappings, connection test,
activation, an offers run before any product is listed (skipped, with the next
step named, exit 0), the products run (two EANs the marketplace does not know:
exit 1), the failed SKUs read page by page from ``publications errors --json``
and exactly those re-sent once fixed, then the offers. What reached Back Market is read
from the sandbox's own record of the batches it received.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest

from shelfdesk.cli import main
from shelfdesk.sandbox.backmarket import DEFAULT_TOKEN
from shelfdesk.sandbox.server import RunningSandboxes
from tests.catalog.conftest import ean
from tests.publishing.conftest import sandbox_ean

STORE, MARKET = "Refurb Paris", "fr-fr"
pytestmark = pytest.mark.usefixtures("cli_clock")


def shelfdesk(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--home", str(home)])
    out, err = capsys.readouterr()
    assert DEFAULT_TOKEN not in out + err  # never a credential in output
    return code, out, err


def _feed(path: Path, *unknown: str) -> Path:
    """Five phones; ``unknown`` are the EANs of IPH-C and IPH-E (ones Back Market's catalog does not know)."""
    rows = [
        ("IPH-A", sandbox_ean(0), "500.00", 3),
        ("IPH-B", sandbox_ean(1), "300.00", 2),
        ("IPH-C", unknown[0], "250.00", 4),
        ("IPH-D", sandbox_ean(2), "200.00", 0),
        ("IPH-E", unknown[1], "150.00", 1),
    ]
    path.write_text(
        "sku;ean;category;price;stock;grade\n" + "".join(f"{s};{e};Phones > Smartphones;{p};{q};GOOD\n" for s, e, p, q in rows),
        encoding="utf-8",
    )
    return path


def _batch_skus(admin: httpx.Client) -> list[list[str]]:
    """The SKUs of every listing batch Back Market received, in order (its own log)."""
    batches = admin.get("/_sandbox/received").json()["listing_batches"]
    return [[row["sku"] for row in csv.DictReader(io.StringIO(b["catalog"]))] for b in batches]


def test_a_channel_from_zero_to_published_named_by_its_market(
    capsys: pytest.CaptureFixture[str],
    sandboxes: RunningSandboxes,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = workspace
    feed = _feed(tmp_path / "catalog.csv", ean(77), ean(78))
    assert shelfdesk(capsys, home, "store", "add", STORE, "--country", "FR", "--source", str(feed))[0] == 0
    assert shelfdesk(capsys, home, "catalog", "import", STORE)[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(DEFAULT_TOKEN + "\n"))
    code, out, err = shelfdesk(
        capsys,
        home,
        "channel",
        "add",
        STORE,
        "--country",
        "FR",
        "--marketplace",
        "backmarket",
        "--token-stdin",
        "--base-url",
        sandboxes.backmarket_url,
        "--company",
        "Acme",
        "--email",
        "ops@acme.test",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["channel"]["slug"] == "bm-fr"

    for argv in (
        ("mapping", "category", MARKET, "Phones > Smartphones", "7"),
        ("mapping", "column", MARKET, "ean", "--column", "ean"),
        ("mapping", "column", MARKET, "grade", "--column", "grade"),
        ("mapping", "column", MARKET, "price", "--column", "price"),
        ("mapping", "column", MARKET, "warranty_delay", "--constant", "12"),
        ("channel", "test", MARKET),
        ("channel", "activate", MARKET),
    ):
        code, out, err = shelfdesk(capsys, home, *argv)
        assert code == 0, (argv, out, err)
    code, out, _ = shelfdesk(capsys, home, "channel", "list")
    assert code == 0 and " bm-fr " in out and "[fr-fr]" in out

    # Offers first: nothing is listed yet, so nothing fails; the output names the next step.
    code, out, _ = shelfdesk(capsys, home, "publish", STORE, MARKET, "--feed", "offers")
    assert code == 0 and "5 SKUs not listed yet: publish --feed products first" in out, out
    code, out, _ = shelfdesk(capsys, home, "publish", STORE, MARKET, "--feed", "offers", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["next_step"] == "5 SKUs not listed yet: publish --feed products first"

    with httpx.Client(base_url=sandboxes.backmarket_url) as admin:
        code, out, _ = shelfdesk(capsys, home, "publish", STORE, MARKET, "--feed", "products", "--json")
        products = json.loads(out)
        assert code == 1 and products["counters"]["failed"] == 2 and products["next_step"] is None
        assert sorted(_batch_skus(admin)[-1]) == ["IPH-A", "IPH-B", "IPH-C", "IPH-D", "IPH-E"]

        # The failed SKUs by cause, one per page to show the paging a large cause needs.
        publication = str(products["publication_id"])
        code, out, _ = shelfdesk(capsys, home, "publications", "errors", publication, "--json", "--skus", "1")
        (cause,) = json.loads(out)
        assert code == 0 and (cause["count"], cause["skus"]) == (2, ["IPH-C"]) and cause["next"] is not None
        failed = list(cause["skus"])
        while cause["next"] is not None:
            code, out, _ = shelfdesk(
                capsys,
                home,
                "publications",
                "errors",
                publication,
                "--json",
                "--skus",
                "1",
                "--error",
                cause["key"],
                "--after",
                str(cause["next"]),
            )
            (cause,) = json.loads(out)
            failed += cause["skus"]
        assert failed == ["IPH-C", "IPH-E"]
        code, _, err = shelfdesk(capsys, home, "publications", "errors", publication, "--after", "1")
        assert code == 2 and "give the group with --error KEY" in err

        _feed(feed, sandbox_ean(3), sandbox_ean(4))  # the catalog's EANs fixed
        assert shelfdesk(capsys, home, "catalog", "import", STORE)[0] == 0
        code, out, err = shelfdesk(capsys, home, "publish", STORE, MARKET, "--feed", "products", "--only", *failed)
        assert code == 0, out + err
        assert _batch_skus(admin)[-1] == failed  # exactly the failed SKUs, nothing else

        code, out, _ = shelfdesk(capsys, home, "publish", STORE, MARKET, "--feed", "offers", "--json")
        assert code == 0 and json.loads(out)["next_step"] is None
        listings = {l["sku"]: l for l in admin.get("/_sandbox/state").json()["listings"].values()}
    assert {sku: listings[sku]["quantity"] for sku in ("IPH-A", "IPH-B", "IPH-C", "IPH-D", "IPH-E")} == {
        "IPH-A": 3,
        "IPH-B": 2,
        "IPH-C": 4,
        "IPH-D": 0,
        "IPH-E": 1,
    }

    code, out, _ = shelfdesk(capsys, home, "publications", "list", "--channel", MARKET, "--json")
    assert code == 0 and [p["kind"] for p in json.loads(out)][:3] == ["offers", "products", "products"]
    code, _, err = shelfdesk(capsys, home, "publish", STORE, "es-es")
    assert code == 2 and "no channel 'es-es' in store 'Refurb Paris'; channels: #1 Back Market France (slug bm-fr" in err
