"""--read-only: every command that changes data is greyed out, and writes raise."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import ComposeResult
from textual.widgets._footer import FooterKey

from shelfdesk.context import AppContext, ReadOnlyError
from shelfdesk.tui import commands
from shelfdesk.tui.commands import Command, bindings_for
from shelfdesk.tui.screens.base import ShelfdeskScreen
from shelfdesk.tui.widgets.empty_state import EmptyState

SIZE = (80, 24)

WRITING = Command(
    id="test.add",
    description="Add",
    action="add_thing",
    keys=("a",),
    scope="test-writes",
    group="test",
    help="Add a thing (writes to the workspace)",
    names=("add",),
    footer=True,
    writes=True,
)


@pytest.fixture(autouse=True)
def _no_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shelfdesk.tui.app.count_open_alerts", lambda ctx: 0)


@pytest.fixture
def writing_screen(monkeypatch: pytest.MonkeyPatch) -> type[ShelfdeskScreen]:
    """A screen with one writing command, declared in the table as later screens will."""
    monkeypatch.setattr(commands, "COMMANDS", [*commands.COMMANDS, WRITING])

    class WritingScreen(ShelfdeskScreen):
        SCOPE = "test-writes"
        VIEW = "stores"
        TITLE = "Things"
        BINDINGS = bindings_for("test-writes")
        added = 0

        def compose_body(self) -> ComposeResult:
            yield EmptyState("Things", "test")

        def action_add_thing(self) -> None:
            # What a real screen does: a service call that opens a write session.
            with self.ctx.write_session():
                type(self).added += 1

    return WritingScreen


def test_write_session_raises_in_read_only(read_only_ctx: AppContext) -> None:
    with pytest.raises(ReadOnlyError, match="read-only"):
        with read_only_ctx.write_session():
            pass  # pragma: no cover - never reached
    with read_only_ctx.read_session() as session:  # reading still works
        assert session is not None


async def test_writing_command_is_greyed_out_and_refused(
    make_app: Any, read_only_ctx: AppContext, writing_screen: type[ShelfdeskScreen]
) -> None:
    app = make_app(read_only_ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = writing_screen()
        await app.push_screen(screen)
        await pilot.pause()
        assert str(screen.query_one("#status-lock").render()) == "[READ-ONLY]"
        assert screen.check_action("add_thing", ()) is None  # None = shown greyed out
        footer_key = next(k for k in screen.query(FooterKey) if k.action == "add_thing")
        assert footer_key.has_class("-disabled")
        await pilot.press("a")
        assert writing_screen.added == 0
        app.run_command(WRITING)  # what the palette and ":add" do
        await pilot.pause()
        assert writing_screen.added == 0
        assert any("Add is disabled" in n.message for n in app._notifications)
        # The help screen lists it, marked.
        await pilot.press("question_mark")
        rows = [row for _, section in app.screen.sections for row in section]
        assert any(row.description.startswith("Add a thing") and not row.enabled for row in rows)


async def test_writing_command_works_when_not_read_only(make_app: Any, writing_screen: type[ShelfdeskScreen]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = writing_screen()
        await app.push_screen(screen)
        assert not screen.query("#status-lock")
        assert screen.check_action("add_thing", ()) is True
        await pilot.press("a")
        assert writing_screen.added == 1


async def test_every_writing_command_of_the_table_is_disabled(make_app: Any, read_only_ctx: AppContext) -> None:
    app = make_app(read_only_ctx)
    async with app.run_test(size=SIZE):
        for command in commands.COMMANDS:
            assert app.is_disabled(command) == command.writes, command.id
