"""Pilot tests: an operator at 80x24 with no mouse moves around the console."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets._footer import FooterKey
from textual.worker import WorkerFailed

from shelfdesk.settings import Preferences
from shelfdesk.tui.app import HOME_VIEW, ShelfdeskApp
from shelfdesk.tui.messages import AlertsCounted
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.screens.jobs.job_list import JobsScreen
from shelfdesk.tui.screens.orders.order_list import OrdersScreen
from shelfdesk.tui.screens.publications.run_list import PublicationsScreen
from shelfdesk.tui.screens.setup.mappings import MappingsScreen
from shelfdesk.tui.screens.setup.stores import StoresScreen
from shelfdesk.tui.screens.shell.command_line import CommandLineScreen
from shelfdesk.tui.screens.shell.help import HelpScreen
from shelfdesk.tui.widgets.empty_state import EmptyState
from shelfdesk.tui.widgets.filter_bar import FilterBar

SIZE = (80, 24)

# view, number key, letter key, screen class
VIEWS = [
    ("stores", "1", "S", StoresScreen),
    ("mappings", "2", "M", MappingsScreen),
    ("publications", "3", "P", PublicationsScreen),
    ("orders", "4", "O", OrdersScreen),
    ("jobs", "5", "J", JobsScreen),
]


@pytest.fixture(autouse=True)
def _no_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Navigation tests do not depend on the alert rules (tested on their own)."""
    monkeypatch.setattr("shelfdesk.tui.app.count_open_alerts", lambda ctx: 0)


def messages_of(app: ShelfdeskApp) -> list[str]:
    return [n.message for n in app._notifications]


class DetailScreen(ShelfdeskScreen):
    """A detail screen as later issues will push them (here: an order's detail)."""

    SCOPE = "test-detail"
    VIEW = "orders"
    TITLE = "Order detail"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("Order detail", "test")


class TableScreen(ShelfdeskScreen):
    """A screen with a table, to prove the shell's ``/`` filter plumbing."""

    SCOPE = "test-table"
    VIEW = "orders"
    TITLE = "Table"
    FILTERABLE = True
    filters: ClassVar[list[str]] = []

    def compose_body(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="table")
        table.add_column("sku")
        table.add_row("ABC-1")
        yield table

    def apply_filter(self, text: str) -> None:
        self.filters.append(text)


@pytest.mark.sqlite  # the status bar names the SQLite file
async def test_opens_on_orders_with_status_bar(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.current_mode == HOME_VIEW
        assert isinstance(app.screen, OrdersScreen)
        assert str(app.screen.query_one("#status-workspace").render()) == "workspace ws"
        assert str(app.screen.query_one("#status-database").render()) == "db shelfdesk.db"
        assert str(app.screen.query_one("#status-alerts").render()) == "no alerts"
        assert not app.screen.query("#status-lock")
        assert app.screen.query_one(EmptyState)  # honest empty state, no rows


async def test_every_screen_by_number_and_letter(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for view, number, _letter, screen_class in VIEWS:
            await pilot.press(number)
            assert app.current_mode == view and isinstance(app.screen, screen_class), view
            await app.workers.wait_for_complete()  # the screen's first load: slower on PostgreSQL than SQLite
            await pilot.pause()
            # Every screen has the shell around its body, and at most six keys in the footer.
            assert app.screen.query_one("#status-alerts") and app.screen.query_one(Footer)
            assert app.screen.query_one(f"#nav-{view}").has_class("-current")
            assert 0 < len(app.screen.query(FooterKey)) <= 6
        for view, _, letter, screen_class in reversed(VIEWS):
            await pilot.press(letter)
            assert app.current_mode == view and isinstance(app.screen, screen_class), view


async def test_every_screen_by_command_line(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # Full names, an alias and unique prefixes, as an operator types them.
        for typed, screen_class in (
            ("jobs", JobsScreen),
            ("st", StoresScreen),
            ("ma", MappingsScreen),
            ("pubs", PublicationsScreen),
            ("orders", OrdersScreen),
        ):
            await pilot.press("colon")
            assert isinstance(app.screen, CommandLineScreen)
            await pilot.press(*typed, "enter")
            await pilot.pause()
            assert isinstance(app.screen, screen_class), typed


async def test_screens_and_themes_from_the_palette(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for query, check in (
            ("jobs", lambda: isinstance(app.screen, JobsScreen)),
            ("stores", lambda: isinstance(app.screen, StoresScreen)),
            ("nord", lambda: app.theme == "nord"),
        ):
            await pilot.press("ctrl+p", *query)
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert check(), query


async def test_help_with_question_mark_and_f1(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_screen = app.screen
        assert "Jobs" in str(help_screen.query_one("#help-title").render())
        rows = {row.keys: row for _, section in help_screen.sections for row in section}
        assert rows["5, J"].name == ":jobs"
        assert rows["4, O"].name == ":orders"
        assert rows["/"].description.startswith("Filter the table")
        assert "never quits" in rows["Esc"].description
        assert any(row.name == ":theme NAME" for row in rows.values())
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # closes help, does not quit
        assert isinstance(app.screen, JobsScreen) and app.is_running
        await pilot.press("colon", *"help", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_escape_never_quits(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for keys in (["2"], ["question_mark"], ["colon"], ["ctrl+p"], []):
            await pilot.press(*keys, "escape", "escape")
            await pilot.pause()
            assert app.is_running
        # Esc from another main screen leads back home, where it stays.
        await pilot.press("3", "escape")
        assert app.current_mode == HOME_VIEW and isinstance(app.screen, OrdersScreen)
        assert app.is_running


async def test_q_quits_from_the_top_screen(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2", "q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_q_does_not_quit_on_a_detail_screen_and_esc_goes_back(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(DetailScreen())
        assert not app.screen.check_action("quit", ())
        await pilot.press("q")
        assert app.is_running and isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, OrdersScreen)
        # Asking for the current main screen again also leaves its details.
        await app.push_screen(DetailScreen())
        await pilot.press("4")
        assert isinstance(app.screen, OrdersScreen)


async def test_ctrl_c_quits_even_inside_a_dialog(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", "x", "ctrl+c")
        await pilot.pause()
        assert not app.is_running


async def test_colon_q_quits(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", "q", "enter")
        await pilot.pause()
        assert not app.is_running


async def test_unknown_command_says_so(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("colon", *"xyz", "enter")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, OrdersScreen)
        assert any("Unknown command :xyz" in m for m in messages_of(app))
        await pilot.press("colon", *"jobs 2", "enter")
        await pilot.pause()
        assert any(":jobs takes no argument" in m for m in messages_of(app))


async def test_tab_completes_commands_and_theme_names(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", "j", "o", "tab")
        field = app.screen.query_one(Input)
        assert field.value == "jobs"
        await pilot.press("ctrl+u", *"the", "tab")
        assert field.value == "theme "
        await pilot.press(*"shelfdesk-l", "tab")
        assert field.value == "theme shelfdesk-light"
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "shelfdesk-light"


class NoTableScreen(ShelfdeskScreen):
    """A screen without a table (every main screen has one now; detail screens may not)."""

    SCOPE = "test-no-table"
    VIEW = "orders"
    TITLE = "Plain"

    def compose_body(self) -> ComposeResult:
        yield Static("nothing to filter here")


async def test_filter_key_on_a_screen_without_table_says_so(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.push_screen(NoTableScreen())
        await pilot.press("slash")
        await pilot.pause()
        assert any("Plain has no table yet" in m for m in messages_of(app))
        assert not app.screen.query_one(FilterBar).is_open


async def test_filter_on_a_screen_with_a_table(make_app: Any) -> None:
    TableScreen.filters.clear()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(TableScreen())
        await pilot.press("slash")
        bar = app.screen.query_one(FilterBar)
        assert bar.is_open and isinstance(app.focused, Input)
        await pilot.press("a", "b", "enter")
        assert TableScreen.filters[-1] == "ab" and bar.is_open  # sticky while set
        assert isinstance(app.focused, DataTable)
        await pilot.press("escape")  # first Esc clears the filter, stays on the screen
        assert TableScreen.filters[-1] == "" and not bar.is_open
        assert isinstance(app.screen, TableScreen)
        await pilot.press("slash", "x", "escape")  # Esc inside the input clears too
        assert TableScreen.filters[-1] == "" and not bar.is_open
        await pilot.press("escape")
        assert isinstance(app.screen, OrdersScreen)


async def test_refresh_recounts_alerts(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = iter([0, 3])
    monkeypatch.setattr("shelfdesk.tui.app.count_open_alerts", lambda ctx: next(counts))
    seen: list[AlertsCounted] = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=lambda m: seen.append(m) if isinstance(m, AlertsCounted) else None) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#status-alerts").render()) == "no alerts"
        await pilot.press("R")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#status-alerts").render()) == "3 alerts"
        assert app.screen.query_one("#status-alerts").has_class("-warning")
    assert [m.count for m in seen] == [0, 3]


async def test_alert_count_failure_is_reported_not_fatal(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: Any) -> int:
        raise RuntimeError("database is locked")

    monkeypatch.setattr("shelfdesk.tui.app.count_open_alerts", broken)
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        # The count starts when the app is ready, which may be after run_test hands over: wait for it.
        for _ in range(100):
            try:
                await app.workers.wait_for_complete()
            except WorkerFailed:
                pass
            await pilot.pause()
            if str(app.screen.query_one("#status-alerts").render()) == "alerts ?":
                break
        assert app.is_running
        assert str(app.screen.query_one("#status-alerts").render()) == "alerts ?"
        assert any("Counting alerts failed: database is locked" in m for m in messages_of(app))


async def test_keymap_from_preferences_remaps_by_binding_id(make_app: Any) -> None:
    app = make_app(preferences=Preferences(keymap={"go.jobs": "f5", "help": "h"}))
    async with app.run_test(size=SIZE) as pilot:
        assert str(app.screen.query_one("#nav-jobs").render()) == "F5 Jobs"
        await pilot.press("f5")
        assert app.current_mode == "jobs"
        await pilot.press("5")  # the old key is gone
        assert app.current_mode == "jobs"
        await pilot.press("h")
        assert isinstance(app.screen, HelpScreen)


def test_each_screen_has_its_stylesheet_beside_it() -> None:
    for _, _, _, screen_class in VIEWS:
        module_file = Path(sys.modules[screen_class.__module__].__file__ or "")
        assert (module_file.parent / str(screen_class.CSS_PATH)).is_file(), screen_class


async def test_palette_lists_screens_first_and_quit_last(make_app: Any) -> None:
    from shelfdesk.tui.commands import CommandTableProvider

    app = make_app()
    async with app.run_test(size=SIZE):
        provider = CommandTableProvider(app.screen)
        texts = [str(hit.display) async for hit in provider.discover()]
        own = [t for t in texts if t.startswith("orders: ")]  # the screen's own commands come first
        assert texts[: len(own)] == own and texts[len(own)] == "go: Stores" and texts[-1] == "app: Quit"
        assert not any(t.startswith("theme: ") for t in texts)


async def test_startup_probe_writes_the_time_and_exits(make_app: Any, tmp_path: Path) -> None:
    probe = tmp_path / "ready"
    app = make_app(startup_probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert not app.is_running
    assert float(probe.read_text()) > 1_000_000_000
