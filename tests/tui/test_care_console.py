"""The Care screen, pressed as an operator would: cases due first, filters, one case on one timeline, a reply
with a saved reply, a partial refund whose confirmation names the amount and the buyer, a problem, an item
transfer; and snapshots at 80×24 on fixed data and clock.

The workspace's Back Market account points at the sandbox over loopback (the
orders tests' ``desk``); buyers open cases through the sandbox's admin API and
the cases come in through the Care harvest. What reached Back Market is read
from the sandbox's own state, never from our bookkeeping.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.orders.conftest import Desk, desk, sandboxes  # noqa: F401 (fixtures)
from tests.pilot import screen_text, settle, settle_until, type_text
from tests.tui.test_walks import toasts

SIZE = (80, 24)

pytestmark = pytest.mark.usefixtures("default_clock")


def open_case(desk: Desk, order: dict[str, Any], **options: Any) -> str:
    answer = desk.bm.post("/_sandbox/care", json={"orderline": order["orderlines"][0]["id"], **options})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["folder"]["id"])


def harvest_all(desk: Desk) -> None:
    """The orders' harvest, then the Care harvest (which runs its own event loop: in a side thread from an async test)."""
    from concurrent.futures import ThreadPoolExecutor

    from shelfdesk.services.care import harvest_care

    desk.harvest()
    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(harvest_care, desk.ctx, force=True).result()
    assert all(r.error is None for r in results), results


def folder(desk: Desk, case_id: str) -> dict[str, Any]:
    return desk.sandbox_state("backmarket")["care"][case_id]


@pytest.fixture
def cases(desk: Desk) -> dict[str, str]:  # noqa: F811
    """Three cases, days apart: a refund request nobody answered (due first), a repair on the old platform, and a closed one."""
    from datetime import timedelta

    shipped = [desk.new_orders("backmarket", [sku], fate="shipped", quantity=1)[0] for sku in ("IPH13-128-MID-GOOD", "GA52-128-BLK-EXC")]
    [settled] = desk.new_orders("backmarket", ["APP1-WHT-EXC"], fate="shipped", quantity=1)
    ids = {"closed": open_case(desk, settled, issue="CHANGED_MIND", resolution="REFUND")}
    desk.bm.post(f"/_sandbox/care/{ids['closed']}/close")
    desk.bm.post("/_sandbox/clock", json={"advance": 3600})
    ids["refund"] = open_case(desk, shipped[0], issue="BATTERY_NOT_CHARGING", resolution="REFUND")
    desk.bm.post("/_sandbox/clock", json={"advance": timedelta(days=1).total_seconds()})
    ids["repair"] = open_case(desk, shipped[1], issue="SCREEN_DEFECT", resolution="REPAIR", legacy=True, return_label=True)
    harvest_all(desk)
    return ids


async def on_care(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)


async def test_cases_come_due_first_and_filter_like_orders(desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.services.care import list_cases
    from shelfdesk.tui.screens.care.case_list import CareScreen

    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        screen = app.screen
        assert isinstance(screen, CareScreen)
        shown = screen.table.keys()
        assert shown == [c.case_id for c in list_cases(desk.ctx)] and set(shown) == set(cases.values())
        assert shown[0] == cases["refund"]  # the oldest unanswered request comes first
        assert shown[-1] == cases["closed"]
        assert cases["refund"] in screen_text(app) and "BATTERY_NOT_CHARGING" in screen_text(app)  # the line under the table
        await pilot.press("t")  # open only
        await settle(pilot)
        assert screen.table.keys() == [cases["refund"], cases["repair"]]
        await pilot.press("t")  # closed only
        await settle(pilot)
        assert screen.table.keys() == [cases["closed"]]
        await pilot.press("X", "slash")
        await type_text(pilot, "SCREEN")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.table.keys() == [cases["repair"]]
        assert "text 'SCREEN'" in str(screen.query_one("#care-title").render())
        await pilot.press("escape")  # clears the filter
        await settle(pilot)
        assert len(screen.table.keys()) == 3
        await pilot.press("c")  # Back Market France: every case
        await settle(pilot)
        assert screen.channel == "Back Market France" and len(screen.table.keys()) == 3
        await pilot.press("c")  # Leboncoin France: no Care there
        await settle(pilot)
        assert screen.channel == "Leboncoin France" and screen.table.keys() == []
        assert "Leboncoin France" in str(screen.query_one("#care-title").render())


async def test_read_only_greys_every_care_action_and_says_why(
    desk: Desk,
    cases: dict[str, str],
    make_app: Callable[..., Any],
    read_only_ctx: Any,  # noqa: F811
) -> None:
    app = make_app(read_only_ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        assert len(app.screen.table.keys()) == 3  # type: ignore[attr-defined]
        for key, what in (("r", "Reply"), ("dollar_sign", "Refund"), ("p", "Problem"), ("T", "Transfer")):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.__class__.__name__ == "CareScreen"  # no dialog opened
            assert any(t == f"{what} is disabled: this workspace is open read-only." for t in toasts(app)), toasts(app)


async def test_a_case_shows_its_order_lines_and_every_message(desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.tui.screens.care.case_view import CaseScreen

    desk.bm.post(f"/_sandbox/care/{cases['refund']}/messages", json={"message": "Toujours rien ? Je veux être remboursé."})
    harvest_all(desk)
    app = make_app(desk.ctx)
    async with app.run_test(size=(100, 60)) as pilot:
        await on_care(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.ref == cases["refund"]
        text = str(app.screen.query_one("#case-text").render())
        sandbox = folder(desk, cases["refund"])
        assert f"Care case {cases['refund']}" in text and str(sandbox["order_id"]) in text
        assert "IPH13-128-MID-GOOD" in text and "left 559.00" in text
        assert "la batterie ne charge plus" in text and "Toujours rien ?" in text
        assert text.index("la batterie") < text.index("Toujours rien")  # oldest first
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CareScreen"


async def test_a_reply_with_a_saved_reply_reaches_back_market_once(desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.services.care import save_reply
    from shelfdesk.tui.screens.care.dialogs import ReplyDialog

    save_reply(desk.ctx, "Accusé de réception", "fr", "Bonjour, nous avons bien reçu votre demande et revenons vers vous sous 24 h.")
    save_reply(desk.ctx, "Acknowledge", "en", "Hello, we received your request.")
    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReplyDialog) and dialog.language == "fr"
        assert "Saved replies (fr): 1" in screen_text(app)
        await pilot.press("tab", "enter")  # to the saved replies, and the French one goes in
        await type_text(pilot, " Cordialement.")
        assert dialog.query_one("#care-reply-text").text.endswith("sous 24 h. Cordialement.")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: any(t.startswith("Reply") or "sent" in t for t in toasts(app)))
        await settle(pilot)
    sent = [m for m in folder(desk, cases["refund"])["messages"] if m["initiator"] == "Merchant"]
    assert [m["message"] for m in sent] == ["Bonjour, nous avons bien reçu votre demande et revenons vers vous sous 24 h. Cordialement."]


async def test_an_empty_reply_is_refused_and_nothing_is_sent(desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.tui.screens.care.dialogs import ReplyDialog

    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        await pilot.press("r")  # from the list, on the highlighted case
        await settle(pilot)
        assert isinstance(app.screen, ReplyDialog)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ReplyDialog) and any("The reply is empty" in t for t in toasts(app))
        await pilot.press("escape")
        await settle(pilot)
    assert not [m for m in folder(desk, cases["refund"])["messages"] if m["initiator"] == "Merchant"]


async def test_a_partial_refund_names_the_amount_and_the_buyer_and_is_sent_once(
    desk: Desk,
    cases: dict[str, str],
    make_app: Callable[..., Any],  # noqa: F811
) -> None:
    from shelfdesk.tui.screens.care.dialogs import CareFormDialog
    from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

    sandbox = folder(desk, cases["refund"])
    buyer = sandbox["client"]["first_name"]
    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        assert isinstance(app.screen, CareFormDialog)
        await type_text(pilot, "9999")  # more than is left: the form comes back with the reason
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CareFormDialog) and app.screen.error
        assert app.screen.query_one("#care-form-amount").value == "9999"  # type: ignore[attr-defined]
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "120.50")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "120.50 EUR" in app.screen.question and buyer in app.screen.question and "partial" in app.screen.question
        await pilot.press("y")
        await settle_until(
            pilot, lambda: any(t.startswith("Refund") for t in toasts(app)) or bool(desk.sandbox_state("backmarket")["refunds"])
        )
        await settle(pilot)
    state = desk.sandbox_state("backmarket")
    assert [(r["amount"], r["refund_type"]) for r in state["refunds"]] == [("120.50", 6)]
    line = state["orders"][str(sandbox["order_id"])]["orderlines"][0]
    assert (line["state"], line["refunded_amount"]) == (6, "120.50")


async def test_refusing_the_refund_sends_nothing(desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        await pilot.press("enter")  # empty amount: all that is left
        await settle(pilot)
        assert "559.00 EUR" in app.screen.question and "full" in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("n")
        await settle(pilot)
        assert any(t == "Not confirmed: nothing was refunded." for t in toasts(app))
    assert desk.sandbox_state("backmarket")["refunds"] == []


async def test_a_problem_and_an_item_transfer_are_declared_from_the_keyboard(
    desk: Desk,
    cases: dict[str, str],
    make_app: Callable[..., Any],  # noqa: F811
) -> None:
    from shelfdesk.tui.screens.care.dialogs import CareFormDialog, ProblemDialog

    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        await pilot.press("p")  # on the refund request (a new-platform folder): every type
        await settle(pilot)
        assert isinstance(app.screen, ProblemDialog)
        wrong_item = app.screen.types.index("WRONG_ITEM")
        await pilot.press(*["down"] * wrong_item, "enter")
        await type_text(pilot, "Le client a reçu un autre modèle")
        await pilot.press("enter", "enter")  # past Files: declared
        await settle_until(pilot, lambda: bool(folder(desk, cases["refund"])["problems"]))
        await settle(pilot)
        # The list reads again and keeps the cursor on the same case wherever it moved: the repair is found by its id.
        await pilot.press("slash", *cases["repair"], "enter")
        await settle(pilot)
        await pilot.press("T")  # the repair, on the old platform: an item transfer
        await settle(pilot)
        assert isinstance(app.screen, CareFormDialog)
        await type_text(pilot, "Colissimo")
        await pilot.press("enter")
        await type_text(pilot, "6A1234567")
        await pilot.press("enter")
        await type_text(pilot, "repair")
        await pilot.press("enter")
        await settle_until(pilot, lambda: bool(folder(desk, cases["repair"])["transfers"]))
        await settle(pilot)
    [problem] = folder(desk, cases["refund"])["problems"]
    assert (problem["problem_type"], problem["message"]) == ("WRONG_ITEM", "Le client a reçu un autre modèle")
    [transfer] = folder(desk, cases["repair"])["transfers"]
    assert (transfer["shipperName"], transfer["trackingNumber"], transfer["action"]) == ("Colissimo", "6A1234567", "REPAIR")


def after(*keys: str) -> Callable[[Any], Awaitable[None]]:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.sqlite
def test_care_list_80x24(snap_compare: Any, desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    assert snap_compare(make_app(desk.ctx), terminal_size=SIZE, run_before=after("6"))


@pytest.mark.sqlite
def test_care_case_80x24(snap_compare: Any, desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    assert snap_compare(make_app(desk.ctx), terminal_size=SIZE, run_before=after("6", "enter"))


@pytest.mark.sqlite
def test_care_reply_80x24(snap_compare: Any, desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    from shelfdesk.services.care import save_reply

    save_reply(desk.ctx, "Accusé de réception", "fr", "Bonjour, nous avons bien reçu votre demande.")
    assert snap_compare(make_app(desk.ctx), terminal_size=SIZE, run_before=after("6", "enter", "r"))


def test_refund_amount_is_the_quote_to_the_cent(desk: Desk, cases: dict[str, str]) -> None:  # noqa: F811
    """What the confirmation names is what the service sends (the dialog passes the typed amount as it is)."""
    from shelfdesk.services.care import quote_refund

    quote = quote_refund(desk.ctx, cases["refund"], None, "120.5")
    assert quote.amount == Decimal("120.50") and quote.refundable == Decimal("559.00") and not quote.full


async def test_a_reply_reads_sync_until_back_market_shows_it(desk: Desk, cases: dict[str, str], make_app: Callable[..., Any]) -> None:  # noqa: F811
    """The reply is sent but the case cannot be read back (Back Market answers 503): "sync" stays until a harvest sees it."""
    desk.fault("backmarket", kind="503", method="GET", path=f"/ws/sav/{cases['refund']}", count=1000)
    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        screen = app.screen
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "Bonjour, nous regardons cela.")
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: any(t.startswith("reply") or "Reply" in t for t in toasts(app)))
        await settle(pilot)
        assert [m["message"] for m in folder(desk, cases["refund"])["messages"] if m["initiator"] == "Merchant"] == [
            "Bonjour, nous regardons cela."
        ]  # sent once
        assert str(screen.table.cells(cases["refund"])[2]) == "sync"  # type: ignore[attr-defined]
        assert "synchronizing" in screen_text(app)
        assert desk.bm.delete("/_sandbox/faults").status_code == 200
        app.clear_notifications()
        await pilot.press("f")  # the next harvest reads the folder: the reply is there
        await settle_until(pilot, lambda: any("case(s)" in t for t in toasts(app)), rounds=20)
        await settle(pilot)
        assert str(screen.table.cells(cases["refund"])[2]) == "open"  # type: ignore[attr-defined]
    assert len([m for m in folder(desk, cases["refund"])["messages"] if m["initiator"] == "Merchant"]) == 1


async def test_a_problem_with_a_photo_then_its_attachment_downloaded_from_the_case(
    desk: Desk,
    cases: dict[str, str],
    make_app: Callable[..., Any],
    tmp_path: Any,  # noqa: F811
) -> None:
    from shelfdesk.tui.screens.care.case_view import CaseScreen
    from shelfdesk.tui.screens.care.dialogs import ProblemDialog

    photo = tmp_path / "carton.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a crushed box")
    app = make_app(desk.ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_care(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDialog)
        await pilot.press(*["down"] * app.screen.types.index("DAMAGED_PACKAGE"), "enter", "enter")  # no message
        await type_text(pilot, str(photo))
        await pilot.press("enter")
        await settle_until(pilot, lambda: bool(folder(desk, cases["refund"])["problems"]))
        await settle(pilot)
        app.clear_notifications()
        await pilot.press("f")
        await settle_until(pilot, lambda: any("case(s)" in t for t in toasts(app)), rounds=20)
        await settle(pilot)
        assert "carton.jpg (A downloads it)" in str(app.screen.query_one("#case-text").render())
        await pilot.press("A")
        await settle_until(pilot, lambda: any("attachment(s) in" in t for t in toasts(app)))
        await settle(pilot)
        [local] = [a.local_path for a in app.screen.detail.attachments]  # type: ignore[attr-defined]
        assert local is not None and local.read_bytes() == photo.read_bytes()
        assert f"carton.jpg → {local}" in str(app.screen.query_one("#case-text").render()).replace("\n", "")
    [problem] = folder(desk, cases["refund"])["problems"]
    assert problem["problem_type"] == "DAMAGED_PACKAGE"
