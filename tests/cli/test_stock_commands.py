"""``shelfdesk stock``: quantities by hand and from CSV, safety stock from store, channel and product."""

from __future__ import annotations

import io
import json

import pytest

from tests.catalog.conftest import ean
from tests.cli.conftest import db, run


def _activate(workspace, channel_id: int) -> None:  # type: ignore[no-untyped-def]
    """Publication activated, as after the operator's A (the lights are not what these tests are about)."""
    from shelfdesk.db.models import Channel

    with db(workspace) as ctx, ctx.write_session() as session:
        session.get(Channel, channel_id).activated_at = ctx.clock.now()


def _marks(workspace) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from shelfdesk.db.models import StockDirty

    with db(workspace) as ctx, ctx.read_session() as session:
        return dict(session.execute(select(StockDirty.sku, StockDirty.reason)).all())


def test_stock_set_writes_changed_rows_marks_them_and_audits(capsys, workspace, channel) -> None:  # type: ignore[no-untyped-def]
    _activate(workspace, channel)
    code, out, err = run(capsys, "stock", "set", "Refurb Paris", "A1=7", "A4=0", "--json")
    assert code == 0, err
    assert json.loads(out) | {"marked": 0} == {
        "store_id": 1,
        "changed": 1,
        "unchanged": 1,
        "unknown": [],
        "errors": [],
        "marked": 0,
    }  # A4 was already 0
    assert _marks(workspace) == {"A1": "manual"}
    from sqlalchemy import select

    from shelfdesk.db.models import AuditLog, Product

    with db(workspace) as ctx, ctx.read_session() as session:
        assert session.execute(select(Product.stock).where(Product.sku == "A1")).scalar() == 7
        audit = session.execute(select(AuditLog).where(AuditLog.action == "stock.set")).scalars().one()
        assert audit.details["changed"] == 1 and audit.details["skus"] == ["A1"]


def test_stock_set_refuses_unknown_skus_by_name_and_applies_the_rest(capsys, workspace, channel) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "stock", "set", "Refurb Paris", "A1=3", "NOPE=2")
    assert code == 1 and "NOPE" in err and "1 changed" in out
    code, _, err = run(capsys, "stock", "set", "Refurb Paris", "A1=three")
    assert code == 2 and "'three' is not a whole number" in err


def test_stock_import_reads_csv_on_stdin_with_price_and_names_bad_lines(capsys, workspace, channel, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("sku;quantity;price\nA1;4;99.50\nA3;x;10\nA4;2;\n"))
    code, out, err = run(capsys, "stock", "import", "Refurb Paris", "-")
    assert code == 1 and "line 3" in err and "2 changed" in out
    from decimal import Decimal

    from sqlalchemy import select

    from shelfdesk.db.models import Product

    with db(workspace) as ctx, ctx.read_session() as session:
        rows = dict(session.execute(select(Product.sku, Product.price).where(Product.sku.in_(["A1", "A4"]))).all())
    assert rows["A1"] == Decimal("99.50")


def test_safety_stock_from_store_then_channel_then_product_column(capsys, workspace, channel, feed) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "stock", "set", "Refurb Paris", "A1=10")

    def shown() -> dict:  # type: ignore[type-arg]
        code, out, err = run(capsys, "stock", "show", "Refurb Paris", "A1", "--json")
        assert code == 0, err
        line = json.loads(out)["channels"][0]
        return {k: line[k] for k in ("safety_stock", "safety_source", "publishable")}

    assert shown() == {"safety_stock": 0, "safety_source": "store", "publishable": 10}
    assert run(capsys, "stock", "safety", "Refurb Paris", "2")[0] == 0
    assert shown() == {"safety_stock": 2, "safety_source": "store", "publishable": 8}
    assert run(capsys, "stock", "safety", "Refurb Paris", "3", "--channel", "fr-fr")[0] == 0  # the market names it
    assert shown() == {"safety_stock": 3, "safety_source": "channel", "publishable": 7}
    feed.write_text(
        feed.read_text()
        .replace("warranty_months\n", "warranty_months;reserve\n")
        .replace(";12\n", ";12;5\n")
        .replace("A1;" + ean(1) + ";Phones;100;1;", "A1;" + ean(1) + ";Phones;100;10;")
    )
    assert run(capsys, "catalog", "import", "Refurb Paris")[0] == 0
    code, _, err = run(capsys, "mapping", "column", "Back Market France", "safety_stock", "--column", "reserve")
    assert code == 0, err
    assert shown() == {"safety_stock": 5, "safety_source": "mapped column", "publishable": 5}
    assert run(capsys, "stock", "safety", "Refurb Paris", "default", "--channel", "fr-fr")[0] == 0
    assert shown()["safety_source"] == "mapped column"
    code, out, _ = run(capsys, "stock", "show", "Refurb Paris", "A1")
    assert "safety 5 (mapped column) → sends 5" in out


@pytest.mark.parametrize("argv", [("stock", "safety", "Refurb Paris", "default"), ("stock", "safety", "Refurb Paris", "-1")])
def test_bad_safety_stock_is_refused(capsys, workspace, channel, argv) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err


def test_stock_feed_sets_intervals_and_a_stock_file_and_fetches_now(capsys, workspace, channel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    stock = tmp_path / "stock.csv"
    stock.write_text("sku;quantity\nA1;6\nNOPE;1\n", encoding="utf-8")
    code, out, err = run(
        capsys,
        "stock",
        "feed",
        "Refurb Paris",
        "--catalog-every",
        "30m",
        "--stock-source",
        str(stock),
        "--stock-every",
        "2m",
        "--now",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert {(f["kind"], f["interval_seconds"]) for f in data["feeds"]} == {("catalog", 1800), ("stock", 120)}
    assert {r["kind"]: r["outcome"] for r in data["refreshed"]} == {"catalog": "applied", "stock": "applied"}
    code, out, _ = run(capsys, "stock", "feed", "Refurb Paris", "--now")
    assert code == 0 and "catalog: unchanged" in out and "stock: unchanged" in out
    code, _, err = run(capsys, "stock", "feed", "Refurb Paris", "--stock-every", "soon")
    assert code == 2 and "not an interval" in err
    stock.unlink()
    code, out, _ = run(capsys, "stock", "feed", "Refurb Paris", "--now")
    assert code == 1 and "stock: failed (no such file" in out
