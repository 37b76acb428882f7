"""What the Orders screen's "mark all matching" (*) then a or x does, and its invoice filter ($), from the shell.

The workspace's accounts point at the in-process sandboxes (as in the order tests);
what reached the marketplace is read from the sandbox's effects, what was queued
from the database.
"""

from __future__ import annotations

import io
import json

import pytest

from shelfdesk.cli import main
from shelfdesk.context import AppContext
from tests.cli.conftest import run
from tests.orders.conftest import Desk
from tests.webhooks.test_cli import _cli_uses_the_test_clock

__all__ = ["_cli_uses_the_test_clock"]  # autouse: the commands read the test's clock


def test_accept_every_matching_order_in_one_batch(desk: Desk, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    new = [str(o["order_id"]) for o in desk.new_orders("backmarket", ["APP1-WHT-EXC", "APP1-WHT-EXC"])]
    assert run(capsys, "orders", "sync", "--json")[0] == 0

    code, _, err = run(capsys, "orders", "accept")
    assert code == 2 and "name the orders to accept, or give --filter" in err
    code, _, err = run(capsys, "orders", "accept", "--filter", "--yes")
    assert code == 2 and "--filter needs at least one filter option" in err
    code, _, err = run(capsys, "orders", "accept", new[0], "--filter", "--status", "New", "--yes")
    assert code == 2 and "name no ORDER" in err
    code, out, _ = run(capsys, "orders", "cancel", "--filter", "--search", "nobody-is-called-this", "--yes")
    assert code == 0 and "no order matches" in out and "nothing queued" in out  # a periodic script is not an error

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, _ = run(capsys, "orders", "accept", "--filter", "--status", "New", "--channel", "Back Market France")
    assert code == 0 and "Accept " in out and "order(s) (" in out and "Nothing queued." in out  # asked, said no
    assert desk.effects("backmarket") == []

    code, out, err = run(capsys, "orders", "accept", "--filter", "--status", "New", "--channel", "Back Market France", "--yes", "--json")
    data = json.loads(out)
    assert code == 0, err
    queued = {q["marketplace_order_id"] for q in data["queued"]}
    assert set(new) <= queued and data["refused"] == []  # the sandbox's own new orders are matched too
    assert {o["state"] for o in data["sent"]["outcomes"]} == {"confirmed"}
    assert {str(e["order_id"]) for e in desk.effects("backmarket")} == queued

    from sqlalchemy import select

    from shelfdesk.db.models import OrderAction

    with desk.ctx.read_session() as session:
        batches = set(session.execute(select(OrderAction.batch_key)).scalars())
    assert len(batches) == 1 and next(iter(batches)).startswith("accept:")  # one batch, as the console queues it

    code, out, _ = run(capsys, "orders", "accept", "--filter", "--search", new[0], "--yes", "--json", "--no-send")
    again = json.loads(out)
    assert code == 2 and again["queued"] == [] and again["refused"][0]["order"] == new[0]  # accepted already


def test_list_and_export_filter_on_invoices(
    ctx: AppContext,
    seller_store,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    from tests.invoices.conftest import make_order

    home = str(ctx.paths.home)
    seller_store()
    for n in range(2):
        make_order(ctx, marketplace_order_id=f"C{n}")
    assert main(["invoices", "generate", "C0", "--yes", "--home", home]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "orders", "list", "--invoiced", "yes", "--json", "--home", home)
    listed = json.loads(out)
    assert code == 0 and [o["marketplace_order_id"] for o in listed["orders"]] == ["C0"]
    assert listed["filter"]["invoiced"] is True
    code, out, _ = run(capsys, "orders", "list", "--invoiced", "no", "--json", "--home", home)
    not_invoiced = {o["marketplace_order_id"] for o in json.loads(out)["orders"]}
    assert code == 0 and "C1" in not_invoiced and "C0" not in not_invoiced
    target = tmp_path / "invoiced.csv"
    code, out, _ = run(capsys, "orders", "export", str(target), "--invoiced", "yes", "--home", home)
    assert code == 0 and "C0" in target.read_text() and "C1" not in target.read_text()


def test_orders_list_fits_the_terminal_or_says_wide(
    ctx: AppContext,
    seller_store,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each line was about 125 columns: wrapped twice at 80."""
    from tests.invoices.conftest import make_order

    home = str(ctx.paths.home)
    seller_store()
    make_order(ctx, marketplace_order_id="C100")
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "orders", "list", "--home", home)
    lines = out.splitlines()
    assert code == 0 and all(len(line) <= 80 for line in lines), lines
    assert any(line.startswith("C100") for line in lines) and "--wide shows every column" in out
    code, out, _ = run(capsys, "orders", "list", "--wide", "--home", home)
    assert code == 0 and any(len(line) > 80 and line.startswith("C100") for line in out.splitlines())
