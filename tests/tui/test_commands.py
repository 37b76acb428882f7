"""The command table itself: consistent, and the command line's parsing and completion."""

from __future__ import annotations

import pytest

from shelfdesk.tui.commands import (
    APP,
    COMMANDS,
    GLOBAL,
    Command,
    CommandLineError,
    bindings_for,
    complete_command_line,
    parse_command_line,
    view_commands,
)


def test_ids_keys_and_names_are_unique() -> None:
    ids = [c.id for c in COMMANDS]
    assert len(ids) == len(set(ids))
    for scope in (APP, GLOBAL):
        keys = [k for c in COMMANDS if c.scope in (APP, GLOBAL) for k in c.keys]
        assert len(keys) == len(set(keys)), scope
    names = [n for c in COMMANDS for n in c.names]
    assert len(names) == len(set(names))


def test_every_binding_has_id_description_and_tooltip() -> None:
    for scope in (APP, GLOBAL):
        for binding in bindings_for(scope):
            assert binding.id and binding.description and binding.tooltip, binding


def test_footer_budget_leaves_room_for_screen_keys() -> None:
    shown = [c for c in COMMANDS if c.scope in (APP, GLOBAL) and c.footer]
    assert len(shown) <= 4  # plus ^p palette on the right: screens keep one or two keys


def test_six_main_screens_have_a_number_key() -> None:
    views = view_commands()
    assert [c.keys[0] for c in views] == ["1", "2", "3", "4", "5", "6"]
    assert [c.names[0] for c in views] == ["stores", "mappings", "publications", "orders", "jobs", "care"]


@pytest.mark.parametrize(
    ("typed", "command_id", "argument"),
    [
        (":orders", "go.orders", None),
        ("jobs", "go.jobs", None),
        ("  :q ", "app.quit", None),
        ("quit", "app.quit", None),
        ("theme nord", "app.theme", "nord"),
        ("pu", "go.publications", None),  # unique prefix
    ],
)
def test_parse(typed: str, command_id: str, argument: str | None) -> None:
    command, arg = parse_command_line(typed, "orders")
    assert (command.id, arg) == (command_id, argument)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type a command"),
        ("nope", "Unknown command :nope"),
        ("orders 3", "takes no argument"),
        ("h", None),  # exact name wins over prefixes (help)
    ],
)
def test_parse_errors(typed: str, message: str | None) -> None:
    if message is None:
        assert parse_command_line(typed, "orders")[0].id == "help"
        return
    with pytest.raises(CommandLineError, match=message):
        parse_command_line(typed, "orders")


def test_ambiguous_prefix_lists_the_candidates() -> None:
    table = [
        Command(id="a", description="A", action="a", names=("stock",)),
        Command(id="b", description="B", action="b", names=("store",)),
    ]
    with pytest.raises(CommandLineError, match=r"ambiguous \(:stock, :store\)"):
        parse_command_line("sto", "orders", table)
    assert complete_command_line("s", "orders", lambda c: [], table).text == "sto"


def test_completion() -> None:
    def themes(command: object) -> list[str]:
        return ["ansi-dark", "ansi-light", "nord"]

    assert complete_command_line("jo", "orders", themes).text == "jobs"
    assert complete_command_line("th", "orders", themes).text == "theme "
    assert complete_command_line("theme an", "orders", themes).text == "theme ansi-"
    assert complete_command_line("theme an", "orders", themes).candidates == ["ansi-dark", "ansi-light"]
    assert complete_command_line("zz", "orders", themes).text == "zz"
    listed = complete_command_line("", "orders", themes)
    assert {"orders", "jobs", "help", "theme", "q"} <= set(listed.candidates)
