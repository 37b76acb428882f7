"""One dialog behaviour everywhere: every dialog's keys come from the command table, so its
footer and F1 list exactly what works; one confirmation (y, n, Esc, No focused, says so when
nothing was done); one action runner after which every screen shows the workspace as it is."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.screen import ModalScreen
from textual.widgets import Footer

from tests.pilot import screen_text, settle
from tests.tui.setup_data import build

SIZE = (80, 24)


def dialog_classes() -> list[type]:
    import shelfdesk.tui.screens as screens

    found = []
    for info in pkgutil.walk_packages(screens.__path__, "shelfdesk.tui.screens."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, ModalScreen) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_dialog_takes_its_keys_from_the_command_table() -> None:
    """Twenty dialogs declared their own BINDINGS, so the footer and ? knew nothing of them."""
    from shelfdesk.tui.commands import COMMANDS
    from shelfdesk.tui.screens.dialog import DialogScreen

    ids = {cmd.id for cmd in COMMANDS}
    classes = dialog_classes()
    assert len(classes) >= 18
    for cls in classes:
        assert issubclass(cls, DialogScreen), cls
        own = [k for k in cls.__mro__ if "BINDINGS" in k.__dict__ and k.__module__.startswith("shelfdesk.")]
        for klass in own:  # Textual's own (tab moves focus) are not ours to list
            for binding in klass.__dict__["BINDINGS"]:
                assert binding.id in ids, (cls.__name__, binding)


async def test_a_confirmation_shows_its_own_keys_and_says_when_nothing_was_done(
    make_app: Callable[..., Any], ctx: Any, tmp_path: Path
) -> None:
    from shelfdesk.catalog.exclusions import channel_rules
    from shelfdesk.tui.screens.shell.confirm_dialog import ConfirmDialog
    from shelfdesk.tui.screens.shell.help import HelpScreen

    ids = build(ctx, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("v", "v")  # Exclusions: one rule, typed by hand
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert app.focused is dialog.query_one("#confirm-no")  # the safe choice
        footer = dialog.query_one(Footer)  # the dialog's own footer, over the screen's
        shown = screen_text(app).splitlines()[-1]
        assert "y Yes" in shown and "n No" in shown and "Esc Cancel" in shown, shown
        assert "Filter" not in shown and footer is not None
        await pilot.press("f1")  # its keys, from the same table
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = " ".join(f"{r.keys} {r.description}" for _, section in app.screen.sections for r in section)
        assert "y Go ahead" in rows and "n Do nothing" in rows and "Mappings" not in rows
        await pilot.press("escape")
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert any("nothing done" in n.message for n in app._notifications), [n.message for n in app._notifications]
        assert len(channel_rules(ctx, ids["france"])) == 1
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert channel_rules(ctx, ids["france"]) == []


async def test_stores_shows_a_mapping_made_on_mappings_without_r(make_app: Callable[..., Any], ctx: Any, tmp_path: Path) -> None:
    """Stores kept its red category light after the categories were mapped, until R."""
    from shelfdesk.tui.screens.setup.stores import StoresScreen
    from shelfdesk.tui.widgets.data_window import DataWindow

    ids = build(ctx, tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("1")
        await settle(pilot)
        stores = app.screen
        assert isinstance(stores, StoresScreen)
        before = stores.query_one(DataWindow).cells(f"c{ids['france']}")[3]
        assert before.startswith("✗"), before
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("s")  # the suggestions, all ticked: map them
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        after = stores.query_one(DataWindow).cells(f"c{ids['france']}")[3]
        assert after.startswith("✓"), after
