"""CSV export: one row per line, order fields repeated, formulas neutralized, no tokens."""

from __future__ import annotations

import csv
import io

from shelfdesk.context import AppContext
from shelfdesk.exports import safe_cell
from shelfdesk.orders.export import COLUMNS, export_text
from shelfdesk.orders.queries import OrderFilter
from shelfdesk.orders.store import AccountScope, store_remote_orders

from .conftest import ADDRESS, remote

TOKEN = "bm-live-7f3a9c2e51d04b8aa6"


def test_safe_cell_neutralizes_formula_starters_but_keeps_numbers() -> None:
    assert safe_cell('=HYPERLINK("http://evil","x")') == '\'=HYPERLINK("http://evil","x")'
    assert safe_cell("+33 6 00") == "'+33 6 00"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("\tcmd") == "'\tcmd" and safe_cell("\rx") == "'\rx"
    assert safe_cell("-5.00") == "'-5.00" and safe_cell("+12") == "'+12" and safe_cell("12.50") == "12.50"
    assert safe_cell("Léa") == "Léa" and safe_cell(None) == "" and safe_cell(True) == "yes"


def test_export_writes_one_row_per_line_safely_and_never_a_token(ctx: AppContext, scope: AccountScope) -> None:
    ctx.secrets.set("bm-live", TOKEN)
    nasty = {**ADDRESS, "street": "=cmd|' /C calc'!A0", "city": "@evil"}
    with ctx.write_session() as session:
        store_remote_orders(
            session,
            scope,
            [
                remote(
                    ctx,
                    "A1",
                    buyer='=HYPERLINK("http://evil.example","click")',
                    address=nasty,
                    lines=2,
                    extra={"discount": "-5.00", "token": TOKEN},
                ),
                remote(ctx, "A2", buyer="+33600000000", bought=-60),
            ],
            ctx.clock.now(),
        )
    text = export_text(ctx, OrderFilter())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["order_id"], r["sku"]) for r in rows] == [("A1", "SKU1"), ("A1", "SKU2"), ("A2", "SKU1")]
    first, second, third = rows
    assert first["buyer_name"] == second["buyer_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert first["ship_to_street"] == "'=cmd|' /C calc'!A0" and first["ship_to_city"] == "'@evil"
    assert first["discount_total"] == "'-5.00" and first["total"] == "100.00"
    assert third["buyer_name"] == "'+33600000000"
    for row in rows:  # no cell a spreadsheet would run
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    assert TOKEN not in text

    only = list(csv.DictReader(io.StringIO(export_text(ctx, OrderFilter(text="A2")))))
    assert [r["order_id"] for r in only] == ["A2"]
