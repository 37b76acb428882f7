"""``shelfdesk invoices`` from the command line, as a script would call it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shelfdesk.context import AppContext
from tests.webhooks.test_cli import _cli_uses_the_test_clock, cli

__all__ = ["_cli_uses_the_test_clock"]


def test_invoices_commands(ctx: AppContext, seller_store: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.invoices.conftest import make_order

    home = str(ctx.paths.home)
    seller_store()
    for n in range(3):
        make_order(ctx, marketplace_order_id=f"C{n}")
    code, out, _ = cli(capsys, "invoices", "generate", "--filter", "--status", "Shipped", "--yes", "--home", home)
    assert code == 0 and "3 issued, 0 skipped, 0 refused." in out
    code, out, _ = cli(capsys, "invoices", "generate", "C0", "--home", home)
    assert code == 2
    code, out, _ = cli(capsys, "invoices", "list", "--json", "--home", home)
    assert [row["number"] for row in json.loads(out)] == ["F00003", "F00002", "F00001"]
    code, out, _ = cli(capsys, "invoices", "pdf", "F00002", str(tmp_path), "--home", home)
    assert code == 0 and Path(out.strip()).read_bytes().startswith(b"%PDF")
    code, out, _ = cli(capsys, "invoices", "export", str(tmp_path / "all"), "--home", home)
    assert code == 0 and (tmp_path / "all" / "invoices.csv").exists()
    code, out, _ = cli(capsys, "invoices", "credit", "F00001", "--reason", "returned", "--home", home)
    assert code == 0 and "F00004" in out and "cancels F00001" in out
    code, _, err = cli(capsys, "invoices", "settings", "Refurb FR", "--product-vat", "120", "--home", home)
    assert code == 2 and "between 0 and 100" in err
    code, out, _ = cli(capsys, "invoices", "settings", "Refurb FR", "--product-vat", "5,5", "--json", "--home", home)
    assert code == 0 and json.loads(out)["product_vat_rate"] == "5.5000"
