"""What an operator found walking the demo at 80x24 with keys only, each held by a Pilot test.

Every test reads what the terminal shows (or what a form did with what was
typed), the way the operator met the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shelfdesk.domain import ItemOutcome
from tests.publishing.conftest import Shop, _running, bm_mappings, sandbox_ean, sandboxes, shop  # noqa: F401 (fixtures)
from tests.tui.setup_data import build
from tests.tui.test_jobs_console import screen_text
from tests.pilot import settle

SIZE = (80, 24)
#: Two SKUs of one model that differ only past the SKU column's 22 characters.
LONG_SKUS = ["FAIRPHONE4-256GB-GREEN-EXCELLENT", "FAIRPHONE4-256GB-GREEN-VERY_GOOD"]


@pytest.fixture
def long_skus(shop: Shop) -> Shop:  # noqa: F811
    """A mapped Back Market channel with two products whose SKUs differ only at their end."""
    shop.ctx.actor = "operator"
    bm_mappings(shop)
    for n, sku in enumerate(LONG_SKUS):
        shop.add_product(sku, ean=sandbox_ean(n), grade="GOOD", price="300.00", stock=2)
    return shop


@pytest.fixture
def long_sku_run(long_skus: Shop) -> int:
    run = long_skus.publish(long_skus.bm_channel, "products").publication_id
    assert {item.outcome for item in long_skus.items(run).values()} == {ItemOutcome.created}
    return run


@pytest.fixture
def long_sku_plan(long_skus: Shop) -> Any:
    return long_skus.publish(long_skus.bm_channel, "products", dry_run=True)


async def test_publication_items_name_the_highlighted_sku_in_full(long_sku_run: int, make_app: Callable[..., Any]) -> None:
    """The SKU column cut both SKUs to the same 22 characters: the line under the table names it whole."""
    from shelfdesk.tui.screens.publications.run_items import PublicationDetailScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PublicationDetailScreen)
        seen = set()
        for _ in LONG_SKUS:
            message = str(app.screen.query_one("#detail-message").render())
            seen |= {sku for sku in LONG_SKUS if message.startswith(f"{sku}: ")}
            assert any(sku in screen_text(app) for sku in LONG_SKUS)
            await pilot.press("down")
            await pilot.pause()
        assert seen == set(LONG_SKUS)


async def test_dry_run_plan_names_the_highlighted_sku_in_full(long_sku_plan: Any, make_app: Callable[..., Any]) -> None:
    from shelfdesk.tui.screens.publications.plan import PublicationPlanScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(PublicationPlanScreen(long_sku_plan))
        await settle(pilot)
        first = screen_text(app)
        await pilot.press("down")
        await pilot.pause()
        second = screen_text(app)
        assert {sku for sku in LONG_SKUS if f"{sku}: create" in first + second} == set(LONG_SKUS)


def dialog_words(app: Any, border: str) -> str:
    """The words inside a dialog drawn with ``border`` on its sides, lines joined (wrapped text reads whole)."""
    inside = [line[line.index(border) + 1 : line.rindex(border)] for line in screen_text(app).splitlines() if line.count(border) >= 2]
    return " ".join(" ".join(inside).split())


def shown_whole(app: Any, selector: str) -> bool:
    """Every word of a detail widget's text is on screen, in order (none cut at the bottom of its box)."""
    words = str(app.screen.query_one(selector).render()).split()
    shown = " ".join(screen_text(app).split())
    return bool(words) and " ".join(words) in shown


async def test_a_red_channels_detail_on_stores_shows_every_light_and_its_keys(
    ctx: Any, tmp_path: Any, make_app: Callable[..., Any]
) -> None:
    """A channel with long reasons filled the six lines of the detail: its keys line was never seen."""
    from shelfdesk.catalog.readiness import compute_readiness
    from shelfdesk.services import accounts, channels, stores

    build(ctx, tmp_path)
    madrid = stores.create_store(ctx, "Refurb Madrid", "ES").id
    spain = accounts.create_account(ctx, "backmarket", "Back Market ES", region="eu", company="Refurb", contact_email="ops@refurb.example")
    compute_readiness(ctx, channels.create_channel(ctx, madrid, spain.id, "ES").id)  # nothing mapped, no token
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        for _ in range(5):
            await pilot.press("down")
            await pilot.pause()
            if "no API token" in str(app.screen.query_one("#stores-detail").render()):
                break
        assert "no API token" in str(app.screen.query_one("#stores-detail").render())
        assert shown_whole(app, "#stores-detail"), screen_text(app)


async def test_an_attributes_failures_on_mappings_columns_are_not_cut(long_skus: Shop, make_app: Callable[..., Any]) -> None:
    """Rule, help and "N of M products fail, e.g. SKU: why" took five lines in a box of four."""
    from shelfdesk.catalog.column_mapping import clear_mapping

    clear_mapping(long_skus.ctx, long_skus.bm_channel, "ean")  # product_id or ean: every product fails
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        for _ in range(3):  # to the Back Market channel
            if "Back Market" in str(app.screen.query_one("#map-title").render()):
                break
            await pilot.press("right_square_bracket")
            await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        detail = str(app.screen.query_one("#columns-detail").render())
        assert "2 of 2 products fail, e.g. FAIRPHONE4-256GB-GREEN-" in detail
        assert shown_whole(app, "#columns-detail"), screen_text(app)


async def open_column_form(app: Any, pilot: Any, attribute: str, results: list[Any]) -> Any:
    from shelfdesk.catalog.attributes import attribute_set
    from shelfdesk.tui.screens.setup.attribute_mapping_form import ColumnForm

    spec = attribute_set("backmarket").get(attribute)
    form = ColumnForm(spec, ["sku", "price", "grade"], [], None, attribute if attribute in ("price", "grade") else None)
    await app.push_screen(form, results.append)
    await pilot.pause()
    return form


async def test_a_refused_constant_keeps_the_column_form_open_with_what_was_typed(make_app: Callable[..., Any]) -> None:
    """'abc' as the price: the form closed, then the service refused it, and the typing was lost."""
    from shelfdesk.tui.screens.setup.attribute_mapping_form import CONSTANT, ColumnForm

    app = make_app()
    results: list[Any] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        form = await open_column_form(app, pilot, "price", results)
        form.query_one("#col-source").value = CONSTANT
        await pilot.press("tab", "a", "b", "c", "ctrl+s")
        await pilot.pause()
        assert app.screen is form and results == []
        assert form.query_one("#col-constant").value == "abc"
        assert any("price: constant 'abc' is not a decimal number" in n.message for n in app._notifications)
        await pilot.press("ctrl+u", "3", "0", "0", "ctrl+s")  # a good one saves
        await pilot.pause()
        assert results == [{"constant": "300"}] and not isinstance(app.screen, ColumnForm)


async def test_a_constant_typed_beside_a_catalog_column_is_not_dropped_silently(make_app: Callable[..., Any]) -> None:
    app = make_app()
    results: list[Any] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        form = await open_column_form(app, pilot, "price", results)
        await pilot.press("tab", "3", "0", "0", "ctrl+s")  # the catalog column "price" is still chosen
        await pilot.pause()
        assert app.screen is form and results == []
        assert any("choose it there, or empty the constant" in n.message for n in app._notifications)


async def test_a_refused_value_map_keeps_the_column_form_open(make_app: Callable[..., Any]) -> None:
    app = make_app()
    results: list[Any] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        form = await open_column_form(app, pilot, "grade", results)
        form.query_one("#col-map").value = "A=SHINY"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and results == []
        assert any("grade: value map 'A' → 'SHINY' is not an accepted value" in n.message for n in app._notifications)


async def test_the_ship_dialogs_hints_are_whole_at_80_columns(make_app: Callable[..., Any]) -> None:
    """ "required on Back Market; kept by shelfdesk on" and "…SKU=IMEI names the": cut mid-sentence."""
    from shelfdesk.tui.screens.orders.ship_dialog import FIELDS, OrderShipDialog

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(OrderShipDialog("40000169"))
        await pilot.pause()
        shown = screen_text(app)
        for _, _, hint in FIELDS:
            assert hint in shown, shown


async def test_the_cancel_reason_field_can_be_seen(make_app: Callable[..., Any]) -> None:
    """An empty compact input draws nothing: the operator saw a reason label over a blank line."""
    from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

    app = make_app(theme="ansi-dark")  # the SSH default: no background marks the field
    answers: list[Any] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ConfirmDialog("Cancel 1 order?", "40000168", yes="Yes, cancel it", field="Reason"), answers.append)
        await pilot.pause()
        lines = screen_text(app).splitlines()
        below = lines[next(n for n, line in enumerate(lines) if line.strip().strip("█▊▎ ").endswith("Reason")) + 1]
        assert "shift+Tab to type it" in below
        await pilot.press("shift+tab", "b", "u", "y", "e", "r", "enter", "y")  # typed, Enter leaves the field, y confirms
        await pilot.pause()
    assert answers == ["buyer"]


async def test_the_schedule_question_is_not_cut(make_app: Callable[..., Any]) -> None:
    from shelfdesk.tui.screens.jobs.schedule_dialog import ScheduleDialog

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ScheduleDialog("Order harvest on Back Market France", "1m"))
        await pilot.pause()
        assert "How often should Order harvest on Back Market France run?" in dialog_words(app, "│"), screen_text(app)


async def test_an_order_alert_says_where_enter_leads_in_the_operators_words(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Enter: Orders, order 169" named the database id of order 40000169."""
    from shelfdesk.jobs import alerts

    ship = alerts.Alert("deadline", alerts.Severity.critical, "order 40000169: ship by 11-22 18:37 UTC", "order", 169)
    monkeypatch.setattr(alerts, "list_alerts", lambda ctx: [ship])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        detail = str(app.screen.query_one("#alerts-detail").render())
        assert detail.endswith("Enter: the order's detail, on Orders") and "169\n" not in detail


async def test_a_category_search_without_match_says_so(make_app: Callable[..., Any]) -> None:
    """An empty box looked like a list still loading; Enter on it still picks nothing."""
    from shelfdesk.catalog.categories import category_tree
    from shelfdesk.tui.screens.setup.category_picker import CategoryPicker

    app = make_app()
    picked: list[Any] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        picker = CategoryPicker("Electronics > Phones", category_tree("backmarket").leaves(), [])
        await app.push_screen(picker, picked.append)
        await pilot.press("x", "y", "z", "z")
        await pilot.pause()
        assert "No category matches “xyzz”: try another word" in dialog_words(app, "█")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is picker and picked == []


def help_lines(app: Any) -> list[str]:
    """The whole help list (beyond what the dialog shows at once), as the dialog lays it out."""
    import io

    from rich.console import Console

    console = Console(width=app.screen.query_one("#help-text").size.width, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._render_sections())
    return console.export_text().splitlines()


async def test_help_shows_long_command_names_whole(make_app: Callable[..., Any]) -> None:
    """ ":status STAT…" and ":invoiced ye…": the command column cut what to type."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        lines = help_lines(app)
        names = [line[9:23].strip() for line in lines]  # keys 8 + gap, then the 13 of the command column
        assert ":status" in names and "STATUS" in names and ":invoiced" in names and "yes|no|all" in names, lines


async def test_publications_name_the_channel_as_orders_do_instead_of_cutting_it(long_sku_run: int, make_app: Callable[..., Any]) -> None:
    """The Channel column read "Back Market Fr" and "Leboncoin Fran" (Orders says "BM FR")."""
    from shelfdesk.tui.widgets.data_window import DataWindow

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one(DataWindow)
        assert str(table.get_cell_at((0, table.get_column_index("channel")))) == "BM FR"
        shown = screen_text(app)
        assert "Back Market Fr " not in shown and "/ Back Market France" in shown


async def test_the_empty_webhooks_and_invoices_lists_say_their_hint_whole(make_app: Callable[..., Any]) -> None:
    """Their titles stopped at "(see README, Verifying pus" and "(or shelfdesk invoi"."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for command, selector, end in (
            ("webhooks", "#webhooks-title", "Verifying push notifications)"),
            ("invoices", "#invoices-title", "shelfdesk invoices generate)"),
        ):
            await pilot.press("colon", *command, "enter")
            await settle(pilot)
            assert str(app.screen.query_one(selector).render()).endswith(end)
            assert shown_whole(app, selector), screen_text(app)
            await pilot.press("escape")
            await settle(pilot)


async def test_help_and_footer_write_keys_as_the_hints_do(make_app: Callable[..., Any]) -> None:
    """Help listed "esc" and "?, f1", the filter's footer "f1 Help", where every hint says "Esc" and "F1"."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert screen_text(app).splitlines()[-1].startswith("F1 Help")
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        keys = {line[:9].strip() for line in help_lines(app)}
        assert {"?, F1", "Esc"} <= keys and not {"esc", "?, f1"} & keys, sorted(keys)
