"""Set-up from the keyboard only: a store, a catalog with bad rows, a Back Market channel against
the sandbox, mappings, and the three lights going green (issue 4's "done when")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.catalog.conftest import bad_ean, ean
from tests.dbtext import database_text
from tests.pilot import settle, type_text

SIZE = (80, 24)


def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    rows = [f"IP13-{i};{ean(i)};iPhone 13 #{i};Phones > Smartphones;{300 + i};2;GOOD;12" for i in range(6)]
    rows += [f"MBA-{i};{ean(50 + i)};MacBook Air #{i};Computers > Laptops;{700 + i};1;EXCELLENT;12" for i in range(3)]
    rows += [f"BAD-1;{bad_ean(99)};broken EAN;Phones > Smartphones;10;1;GOOD;12", "BAD-2;;no price;Phones;x;1;GOOD;12"]
    path.write_text("sku;ean;title;category;price;stock;grade;warranty_months\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def sandbox(tmp_path: Path, clock: Any):  # type: ignore[no-untyped-def]
    from shelfdesk.sandbox.server import start_sandboxes

    with start_sandboxes(tmp_path / "sandbox", clock=clock, orders_per_hour=0, token="bm-keyboard-token") as running:
        yield running


async def test_a_channel_is_set_up_from_scratch_with_the_keyboard(make_app, ctx, tmp_path, sandbox) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.services.channels import list_channels
    from shelfdesk.services.stores import list_stores
    from shelfdesk.tui.screens.setup.mappings import MappingsScreen
    from shelfdesk.tui.screens.setup.stores import StoresScreen

    source = feed(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, StoresScreen)
        # a: add the store (Enter moves from field to field, and saves from the last one).
        await pilot.press("a")
        await type_text(pilot, "Refurb Paris")
        await pilot.press("enter")
        await type_text(pilot, "FR")
        await pilot.press("enter", "enter")  # currency EUR is already typed
        await type_text(pilot, str(source))
        await pilot.press("enter")
        await settle(pilot)
        assert [s.name for s in list_stores(ctx)] == ["Refurb Paris"]
        # i: the source, then the columns found with samples and their roles, then the import.
        await pilot.press("i", "enter")
        await settle(pilot)
        from shelfdesk.tui.screens.setup.import_columns_form import ColumnsForm

        assert isinstance(app.screen, ColumnsForm)
        assert "IP13-0 | IP13-1" in str(app.screen.query_one("#columns-samples").render())
        assert app.screen.query_one("#role-sku").value == "sku" and app.screen.query_one("#role-ean").value == "ean"
        await pilot.press("ctrl+s")
        await settle(pilot)
        store = list_stores(ctx)[0]
        assert (store.products, store.last_import.rejected) == (9, 2)
        await pilot.press("x")
        await settle(pilot)
        from shelfdesk.tui.screens.setup.import_report import ImportReportScreen

        assert isinstance(app.screen, ImportReportScreen) and app.screen.query_one("DataWindow").row_count == 2
        await pilot.press("escape")
        # c: a Back Market channel with a new account; the token goes into a masked field.
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("tab", "tab")  # marketplace (Back Market), account (new)
        await type_text(pilot, "Back Market EU")
        await pilot.press("tab")
        await type_text(pilot, "bm-keyboard-token")
        await pilot.press("tab", "tab", "tab")  # env variable, region (Europe)
        await type_text(pilot, sandbox.backmarket_url)
        await pilot.press("tab")
        await type_text(pilot, "Refurb")
        await pilot.press("tab")
        await type_text(pilot, "ops@refurb.example")
        await pilot.press("tab")
        await type_text(pilot, "FR")
        await pilot.press("ctrl+s")
        await settle(pilot)
        channels = list_channels(ctx)
        assert [c.name for c in channels] == ["Back Market France"]
        assert not channels[0].readiness.ready
        # t: test the connection on the channel's row.
        await pilot.press("down")
        assert app.screen.query_one("DataWindow").current_key == f"c{channels[0].id}"
        await pilot.press("t")
        await settle(pilot)
        assert list_channels(ctx)[0].readiness.api.ok
        # Enter: the channel's mappings; s maps categories, v then s maps columns.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MappingsScreen) and app.screen.channel_id == channels[0].id
        await pilot.press("s")  # the suggestions, previewed and all ticked: ctrl+s maps them
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("v", "s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("v", "v")
        await settle(pilot)
        readiness = app.screen.data["readiness"]
        assert readiness.ready, readiness.summary()
        assert "Categories: ✓ green" in str(app.screen.query_one("#readiness-detail").render())
        await pilot.press("A")
        await settle(pilot)
        assert list_channels(ctx)[0].activated_at is not None
    assert "bm-keyboard-token" not in database_text(ctx.paths)


async def test_exclusion_rule_with_live_count_and_clear_from_the_keyboard(make_app, ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.catalog.exclusions import channel_rules, count_excluded
    from shelfdesk.tui.screens.setup.exclusion_rule_form import RuleForm
    from tests.tui.setup_data import build

    ids = build(ctx, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("v", "v")  # Exclusions
        await settle(pilot)
        assert "3 of 15 products excluded" in str(app.screen.query_one("#exclusions-count").render())
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, RuleForm)
        await pilot.press("tab", "tab")  # field sku, operator equals: to the value
        await type_text(pilot, "IP13-1")
        await settle(pilot)
        assert "With this rule: 4 of 15 products excluded" in str(app.screen.query_one("#rule-count").render())
        await pilot.press("enter")
        await settle(pilot)
        assert count_excluded(ctx, ids["france"]).excluded == 4
        assert "4 of 15 products excluded" in str(app.screen.query_one("#exclusions-count").render())
        await pilot.press("down", "d")  # the new rule is second: delete it, which asks first
        await settle(pilot)
        from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog

        assert isinstance(app.screen, ConfirmDialog)
        assert "Delete the exclusion rule sku equals 'IP13-1'?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("enter")  # No is focused: nothing is deleted
        await settle(pilot)
        assert len(channel_rules(ctx, ids["france"])) == 2
        await pilot.press("d", "tab", "enter")  # to "Yes, delete"
        await settle(pilot)
        assert [r.describe() for r in channel_rules(ctx, ids["france"])] == ["category contains 'Home'"]


async def test_read_only_console_refuses_set_up_keys(make_app, ctx, read_only_ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.tui.screens.setup.stores import StoresScreen
    from tests.tui.setup_data import build

    build(ctx, tmp_path)
    app = make_app(read_only_ctx)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("a", "c", "i", "t")
        await settle(pilot)
        assert isinstance(app.screen, StoresScreen) and len(app.screen_stack) == 1


async def test_a_refused_import_source_brings_the_form_back_with_what_was_typed(make_app, ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.services.stores import create_store
    from shelfdesk.tui.screens.setup.import_columns_form import ColumnsForm
    from shelfdesk.tui.screens.setup.import_form import ImportForm

    create_store(ctx, "Refurb Paris", "FR")
    missing = tmp_path / "nope" / "feed.csv"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("i")
        await type_text(pilot, str(missing))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImportForm)  # not closed: nothing typed is lost
        assert app.screen.query_one("#import-source").value == str(missing)
        assert str(missing) in str(app.screen.query_one(".form-error").render())
        # The operator corrects the path in place and goes on to the column step.
        source = feed(tmp_path)
        await pilot.press("ctrl+u")
        await type_text(pilot, str(source))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ColumnsForm)


async def test_a_truncated_import_is_refused_then_forced_from_its_report(make_app, ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from shelfdesk.catalog.importer import import_catalog
    from shelfdesk.services.stores import create_store, list_stores
    from shelfdesk.tui.screens.setup.import_report import ImportReportScreen

    store = create_store(ctx, "Refurb Paris", "FR")
    source = feed(tmp_path)
    import_catalog(ctx, store.id, str(source))
    whole = source.read_text()
    source.write_text(
        whole.replace("iPhone 13 #0;Phones > Smartphones;300", "iPhone 13 #0;Phones > Smartphones;333")[: whole.index("MBA-1")]
        + "MBA-1;"
        + ean(51)[:5]
    )
    refused = import_catalog(ctx, store.id)  # what a scheduled refresh would meet: nothing stored
    assert refused.outcome == "truncated" and refused.stored == 0
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ImportReportScreen)
        assert "f imports it anyway" in str(app.screen.query_one("#report-keys").render())
        await pilot.press("f")
        await settle(pilot)
        await settle(pilot)
        last = list_stores(ctx)[0].last_import
        assert last.outcome == "forced" and last.stored == 7 and last.gone == 0
    from sqlalchemy import select

    from shelfdesk.db.models import Product

    with ctx.read_session() as session:
        price = session.execute(select(Product.price).where(Product.sku == "IP13-0")).scalar_one()
    assert price == Decimal("333.00")


async def test_suggestions_are_previewed_and_mapped_one_by_one(make_app, ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """s mapped every category at once, sight unseen."""
    from shelfdesk.catalog.category_mapping import merchant_categories
    from shelfdesk.tui.screens.setup.suggestions_dialog import SuggestionsDialog
    from tests.tui.setup_data import build

    ids = build(ctx, tmp_path)
    unmapped = [r.path for r in merchant_categories(ctx, ids["france"], unmapped_only=True) if r.path]
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SuggestionsDialog)
        proposals = [p.name for p in dialog.proposals]
        assert proposals and set(proposals) <= set(unmapped)
        assert "→" in str(dialog.query_one("SelectionList").get_option_at_index(0).prompt)
        await pilot.press("space")  # untick the first: it stays unmapped
        await pilot.press("ctrl+s")
        await settle(pilot)
    still = {r.path for r in merchant_categories(ctx, ids["france"], unmapped_only=True)}
    assert proposals[0] in still and not (set(proposals[1:]) & still)
