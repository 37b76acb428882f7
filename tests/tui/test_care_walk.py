"""The after-sales desk's "done when", walked on the demo at 80×24 with keys only.

An operator opens the Care screen, reads the most urgent case, replies with a
saved reply, refunds one line partially after shipping, sees the case and the
order update after the next harvest, and finds the credit note under
Invoices; ``shelfdesk care list --json`` lists the same cases. The demo's own
sandboxes run on loopback, on the test's clock; what reached Back Market is
read from the sandbox's state.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from shelfdesk.clock import FakeClock
from shelfdesk.demo.build import demo_tokens, open_demo
from shelfdesk.demo.speed import start_demo_sandboxes
from shelfdesk.paths import resolve_paths
from tests.pilot import screen_text, settle, settle_until
from tests.tui.test_walks import toasts

SIZE = (80, 24)

# The demo is a SQLite workspace whatever SHELFDESK_DATABASE_URL says (`shelfdesk demo` sets its file).
pytestmark = [pytest.mark.sqlite, pytest.mark.usefixtures("default_clock")]


def clear_toasts(app: object) -> None:
    app.clear_notifications()  # type: ignore[attr-defined]


async def test_the_operator_answers_and_refunds_the_most_urgent_case_then_finds_the_credit_note(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    from shelfdesk.services.care import list_cases
    from shelfdesk.tui.app import ShelfdeskApp
    from shelfdesk.tui.screens.care.case_list import CareScreen
    from shelfdesk.tui.screens.care.case_view import CaseScreen
    from shelfdesk.tui.screens.care.dialogs import CareFormDialog, ReplyDialog
    from shelfdesk.tui.screens.invoices.invoice_screens import InvoicesScreen
    from shelfdesk.tui.screens.orders.order_detail import OrderDetailScreen
    from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

    ctx, summary = await asyncio.to_thread(open_demo, resolve_paths(tmp_path / "demo"), clock=clock)  # builds it: its own event loop
    assert summary.created
    try:
        with start_demo_sandboxes(ctx, demo_tokens()) as running:
            urgent = list_cases(ctx)[0]
            assert urgent.state == "open" and urgent.due_at is not None
            app = ShelfdeskApp(ctx, theme="ansi-dark")
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                await settle(pilot)
                await pilot.press("6")  # the Care screen: the most urgent case first
                await settle(pilot)
                assert isinstance(app.screen, CareScreen) and app.screen.table.keys()[0] == urgent.case_id
                shown = set(app.screen.table.keys())
                assert urgent.case_id in screen_text(app)
                await pilot.press("enter")  # read it
                await settle(pilot)
                assert isinstance(app.screen, CaseScreen)
                case_text = str(app.screen.query_one("#case-text").render())
                assert urgent.buyer in case_text and (urgent.order_ref or "") in case_text

                await pilot.press("r")  # reply with a saved reply
                await settle(pilot)
                assert isinstance(app.screen, ReplyDialog) and app.screen.language == "fr"
                await pilot.press("tab", "enter", "ctrl+s")  # the first French saved reply, as it is
                await settle_until(pilot, lambda: any(t.startswith("Reply") or "sent" in t for t in toasts(app)))
                folder = running.backmarket.state["care"][urgent.case_id]
                [reply] = [m for m in folder["messages"] if m["initiator"] == "Merchant"]
                assert reply["message"].startswith("Bonjour, nous avons bien reçu votre demande")

                await pilot.press("dollar_sign")  # refund one line, in part: it was shipped
                await settle(pilot)
                assert isinstance(app.screen, CareFormDialog)
                await pilot.press(*"40")
                await pilot.press("enter")
                await settle(pilot)
                assert isinstance(app.screen, ConfirmDialog)
                assert "40.00 EUR" in app.screen.question and urgent.buyer in app.screen.question
                await pilot.press("y")
                await settle_until(pilot, lambda: bool(running.backmarket.state["refunds"]))
                [refund] = running.backmarket.state["refunds"]
                assert (refund["amount"], refund["refund_type"]) == ("40.00", 6)

                # The next harvest: the case shows the refund and the reply as Back Market has them.
                clock.advance(timedelta(minutes=2))
                clear_toasts(app)
                await pilot.press("f")
                await settle_until(pilot, lambda: any("case(s)" in t for t in toasts(app)), rounds=20)
                await settle(pilot)
                case_text = str(app.screen.query_one("#case-text").render())
                assert "synchronizing" not in case_text
                assert "refunded 40.00 · left" in case_text and "40.00 EUR in 1 refund(s)" in case_text

                await pilot.press("o")  # the order: its line refunded after shipping
                await settle(pilot)
                assert isinstance(app.screen, OrderDetailScreen)
                await settle(pilot)
                order_text = str(app.screen.query_one("#order-detail").render())
                assert "refunded_amount=40.00" in order_text and "refund 40.00 EUR on" in order_text
                await pilot.press("escape", "i")  # back on the case, its order's invoices: the credit note
                await settle(pilot)
                assert isinstance(app.screen, InvoicesScreen)
                kinds = [str(i.kind) for i in app.screen.invoices]
                assert any("credit" in k.lower() for k in kinds), kinds
                credit = next(i for i in app.screen.invoices if "credit" in str(i.kind).lower())
                assert abs(credit.total) == 40  # exactly the refund
    finally:
        ctx.close()

    from shelfdesk.cli import main

    capsys.readouterr()
    assert main(["care", "list", "--json", "--home", str(tmp_path / "demo")]) == 0
    listed = json.loads(capsys.readouterr().out)
    rows = listed["cases"] if isinstance(listed, dict) else listed
    assert {str(row["case_id"]) for row in rows} == shown  # the same cases as the screen
